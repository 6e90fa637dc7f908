// The form page with JavaScript: clean photos, seal everything in the browser, upload with progress.

import { ready } from "./seal.js";
import { clean } from "./metadata.js";
import { Upload, solveWork } from "./upload.js";

const $ = (id) => document.getElementById(id);
const form = $("report-form");
const texts = $("js-seal").dataset;
const FIELDS = ["incident_type", "occurred", "location", "description", "device"];
let confirmedUnclean = false;
let workAhead = null; // solved while the reporter writes, so that sending need not wait for it

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
    work: workAhead,
    onProgress: (fraction) => { $("progress").value = fraction; show(texts.msgSealing); },
    onRetry: () => show(texts.msgRetry),
  });
  workAhead = null;
  try {
    show(texts.msgWork);
    const ref = await upload.send(fields, files, form.elements.website.value);
    form.reset();
    form.hidden = true;
    $("progress-box").hidden = true;
    $("receipt").textContent = ref;
    $("receipt-box").hidden = false;
  } catch (e) {
    show(`${texts.msgFailed} ${e.message}`);
    form.querySelector("button[type=submit]").disabled = false;
    workAhead = solveWork();
  }
}

$("quick-exit").addEventListener("click", quickExit);
ready().then(() => {
  form.addEventListener("submit", submit);
  workAhead = solveWork();
  workAhead.catch(() => {});
  document.documentElement.dataset.sealing = "ready";
});
