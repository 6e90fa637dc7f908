// Checking back with JavaScript (docs/format.md §12): the codename's keys are derived here, only the token is
// sent, the sealed thread is opened here and follow-ups are sealed here. Without WebAssembly the form posts
// the codename to the server instead, which derives the keys for that one request.

import { b64url, ready } from "./seal.js";
import { messageFile, openMessage, sealMessage } from "./thread.js";
import { derive, saltOf } from "./derive.js";
import { SendError, loadKeyring, solveWork } from "./upload.js";

const $ = (id) => document.getElementById(id);
const texts = $("js-check").dataset;
const S = () => globalThis.sodium;
const mode = ready().then(() => "page", () => "server");
let keys = null;

async function api(url, data) {
  // POST JSON to the thread API with the page's form token (no cookie: there is none), asking for errors in
  // the page's language.
  const response = await fetch(url, { method: "POST", cache: "no-store", credentials: "omit", body: JSON.stringify(data),
    headers: { "Content-Type": "application/json", "Accept-Language": document.documentElement.lang,
      "X-CSRFToken": document.querySelector("meta[name=csrf-token]").content } });
  const answer = await response.json().catch(() => ({}));
  if (!response.ok) throw new SendError(response.status, answer.error || response.statusText);
  return answer;
}

function say(text, error = false) {
  $("check-status").textContent = text;
  $("check-status").className = error ? "error" : "";
}

const bytes = (text) => S().from_base64(text, S().base64_variants.URLSAFE_NO_PADDING);

function render(thread) {
  // Each message opened here, oldest first; one that fails to open says so and the others still show.
  const items = thread.map((m) => {
    let text;
    try {
      const sealed = messageFile({ header: bytes(m.header), body: bytes(m.body), streams: [] });
      text = openMessage(sealed, [keys.identity], keys.recipient, m.from).body.text;
    } catch (e) {
      text = texts.msgDamaged;
    }
    const item = document.createElement("li");
    item.className = `message from-${m.from}`;
    const meta = Object.assign(document.createElement("p"), { className: "meta",
      textContent: `${m.from === "reviewer" ? texts.msgReviewers : texts.msgYou}, ${m.day}` });
    item.append(meta, Object.assign(document.createElement("p"), { className: "text", textContent: text }));
    return item;
  });
  $("thread").replaceChildren(...items);
  $("no-messages").hidden = items.length > 0;
}

async function load() {
  const answer = await api("/api/v1/thread", { token: b64url(keys.token) });
  $("case-status").textContent = `${texts.msgStatus} ${answer.status}`;
  render(answer.thread);
  $("check-form").hidden = true;
  $("js-thread").hidden = false;
}

async function open(event) {
  event.preventDefault();
  // Without libsodium.js the form goes to the server, which derives the keys; never before that is known.
  if ((await mode) !== "page") { $("check-form").submit(); return; }
  $("check-form").querySelector("button").disabled = true;
  say(texts.msgOpening);
  try {
    const keyring = await loadKeyring();
    keys = await derive($("codename").value, saltOf(keyring.codenameSalt));
    $("codename").value = "";
    await load();
    say("");
  } catch (e) {
    keys = null;
    say(e instanceof SendError ? e.message : e.expect === "invalid codename" ? texts.msgInvalid : texts.msgBroken, true);
  } finally {
    $("check-form").querySelector("button").disabled = false;
  }
}

async function send(event) {
  event.preventDefault();
  const text = $("message").value.trim();
  if (!text || !keys) return;
  $("message-form").querySelector("button").disabled = true;
  say(texts.msgSealing);
  try {
    const keyring = await loadKeyring();
    const sealed = sealMessage(keyring.recipients, keys.recipient, "reporter", text);
    await api("/api/v1/thread/messages", { token: b64url(keys.token), header: b64url(sealed.header),
      body: b64url(sealed.body), ...(await solveWork()) });
    $("message").value = "";
    await load();
    say(texts.msgSent);
  } catch (e) {
    say(`${texts.msgFailed} ${e instanceof SendError ? e.message : texts.msgBroken}`, true);
  } finally {
    $("message-form").querySelector("button").disabled = false;
  }
}

$("check-form").addEventListener("submit", open);
$("message-form").addEventListener("submit", send);
mode.then((m) => { document.documentElement.dataset.sealing = m === "page" ? "ready" : "server"; });
