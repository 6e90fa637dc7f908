// The form page with JavaScript: clean photos, seal everything in the browser, upload with progress.

import { ready } from "./seal.js";
import { clean } from "./metadata.js";
import { SendError, Upload } from "./upload.js";

const $ = (id) => document.getElementById(id);
const form = $("report-form");
const texts = $("js-seal").dataset;
const FIELDS = ["incident_type", "occurred", "location", "description", "device"];
const TEXT_FIELDS = ["occurred", "location", "description", "device"];
let confirmedUnclean = false;

function quickExit(event) {
  // Leave without a Back entry to this page.
  event.preventDefault();
  window.location.replace(event.currentTarget.href);
}

function show(status) {
  $("progress-box").hidden = false;
  $("status").textContent = status;
}

function listUnclean(names) {
  const list = $("unclean");
  list.replaceChildren(...names.map((n) => Object.assign(document.createElement("li"), { textContent: n })));
}

async function prepare() {
  // Each chosen file, cleaned unless the reporter keeps originals; and the names that could not be cleaned.
  const keep = form.elements.keep_original.checked;
  const files = [];
  const unclean = [];
  for (const file of form.elements.attachments.files) {
    const { blob, cleaned } = keep ? { blob: file, cleaned: true } : await clean(file);
    if (!cleaned) unclean.push(file.name);
    files.push({ name: file.name, type: file.type, blob });
  }
  return { files, unclean };
}

async function submit(event) {
  event.preventDefault();
  const fields = Object.fromEntries(FIELDS.map((name) => [name, form.elements[name].value]));
  if (!fields.description.trim()) { show(texts.msgDescription); return; }
  show(texts.msgPreparing);
  const { files, unclean } = await prepare();
  if (unclean.length && !confirmedUnclean) {
    confirmedUnclean = true;
    show(texts.msgUnclean);
    listUnclean(unclean);
    return;
  }
  form.querySelector("button[type=submit]").disabled = true;
  const upload = new Upload({
    csrf: document.querySelector("meta[name=csrf-token]").content,
    onProgress: (fraction) => { $("progress").value = fraction; show(texts.msgSealing); },
    onRetry: () => show(texts.msgRetry),
  });
  try {
    show(texts.msgWork);
    const ref = await upload.send(fields, files, form.elements.website.value);
    form.reset();
    form.hidden = true;
    $("progress-box").hidden = true;
    $("receipt").textContent = ref;
    $("receipt-box").hidden = false;
  } catch (e) {
    show(`${texts.msgFailed} ${e instanceof SendError ? e.message : texts.msgBroken}`);
    form.querySelector("button[type=submit]").disabled = false;
  }
}

function watchZawgyi(event) {
  // Load the Zawgyi check only once Myanmar letters are typed (most reporters never need it).
  if (!/[\u1000-\u109f]/.test(event.target.value || "")) return;
  form.removeEventListener("input", watchZawgyi);
  import("./zawgyi.js").then((m) => m.watch(form, TEXT_FIELDS, $("zawgyi-texts").dataset));
}

$("quick-exit").addEventListener("click", quickExit);
form.addEventListener("input", watchZawgyi);
ready().then(() => {
  form.addEventListener("submit", submit);
  document.documentElement.dataset.sealing = "ready";
});
