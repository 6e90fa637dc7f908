// Burmese typed with a Zawgyi keyboard, noticed as the reporter types: an offer, in Burmese, to convert it or send it
// as it is. Loaded only once Myanmar letters are typed; the detector runs in a worker (zawgyi-worker.js).

const THRESHOLD = 0.95;
const worker = new Worker(new URL("./zawgyi-worker.js", import.meta.url));
const waiting = new Map();
let nextId = 0;
worker.onmessage = ({ data }) => { waiting.get(data.id)(data.result); waiting.delete(data.id); };

function ask(op, text) {
  return new Promise((resolve) => { waiting.set(++nextId, resolve); worker.postMessage({ id: nextId, op, text }); });
}

function notice(field, texts, zawgyiNotice) {
  // The box under a field: the notice in Unicode Burmese and in Zawgyi (so either kind of phone can read it).
  const box = document.createElement("div");
  box.className = "zawgyi";
  box.lang = "my";
  box.setAttribute("role", "alert");
  const line = (text) => Object.assign(document.createElement("p"), { textContent: text });
  const button = (text, action) => Object.assign(document.createElement("button"), {
    type: "button", textContent: text, onclick: action,
  });
  box.append(line(texts.notice), line(zawgyiNotice));
  box.append(button(texts.convert, async () => {
    field.value = await ask("toUnicode", field.value);
    box.remove();
  }), button(texts.keep, () => { field.dataset.zawgyiKept = "1"; box.remove(); }));
  field.after(box);
  return box;
}

export function watch(form, names, texts) {
  // Check each named text field after typing pauses; show or remove its notice.
  const zawgyiNotice = ask("toZawgyi", texts.notice);
  for (const name of names) {
    const field = form.elements[name];
    let timer = null;
    let box = null;
    const check = async () => {
      const text = field.value;
      const zawgyi = !field.dataset.zawgyiKept && (await ask("detect", text)) > THRESHOLD;
      if (field.value !== text) return check(); // changed meanwhile (typed, or converted): judge what is there now
      if (zawgyi && !box?.isConnected) box = notice(field, texts, await zawgyiNotice);
      if (!zawgyi && box) { box.remove(); box = null; }
    };
    field.addEventListener("input", () => { clearTimeout(timer); timer = setTimeout(check, 400); });
    check();
  }
}
