// The /sealed page with JavaScript: read a carried file (docs/format.md §13) in the page and send it, as it is,
// through the API's resumable upload (`carried` in docs/openapi.yaml), with the proof of work and progress.

import { PART, b64url, ready } from "./seal.js";
import { readCarried } from "./carried.js";
import { SendError, Upload, solveWork } from "./upload.js";

const $ = (id) => document.getElementById(id);
const form = $("sealed-form");
const texts = $("js-sealed").dataset;

function show(status, error = false) {
  $("progress-box").hidden = false;
  $("status").textContent = status;
  $("status").className = error ? "error" : "";
}

async function send(file) {
  // Check the file's framing, then begin the upload (a file that arrived already is answered at once) and send
  // every part of every stream the server misses, straight from the file; return {ref, new}.
  show(texts.msgReading);
  const carried = await readCarried(file);
  const upload = new Upload({ csrf: document.querySelector("meta[name=csrf-token]").content,
    onProgress: (fraction) => { $("progress").value = fraction; show(texts.msgSending); },
    onRetry: () => show(texts.msgRetry) });
  show(texts.msgWork);
  const request = { carried: true, keyring_serial: carried.serial, header: b64url(carried.header),
    body: b64url(carried.body), lengths: carried.streams.map((s) => s.length), lookup: b64url(carried.lookup),
    signer: b64url(carried.signer), signature: b64url(carried.signature),
    website: form.elements.website.value, ...(await solveWork()) };
  const begun = await upload.request("POST", "/api/v1/reports", JSON.stringify(request), "application/json");
  if (begun.ref) return { ref: begun.ref, new: begun.new !== false };
  const total = carried.streams.reduce((n, s) => n + s.length, 0) || 1;
  let done = 0;
  for (const [i, stream] of carried.streams.entries()) {
    for (let number = 0, at = 0; at < stream.length; number++, at += PART) {
      const size = Math.min(PART, stream.length - at);
      if (begun.missing[String(i)].includes(number)) {
        const part = new Uint8Array(await file.slice(stream.offset + at, stream.offset + at + size).arrayBuffer());
        await upload.putPart(begun.upload, i, number, part);
      }
      done += size;
      upload.onProgress(done / total);
    }
  }
  const completed = await upload.request("POST", `/api/v1/uploads/${begun.upload}/complete`);
  return { ref: completed.ref, new: true };
}

async function submit(event) {
  event.preventDefault();
  const file = form.elements.sealed.files[0];
  if (!file) { show(texts.msgChoose, true); return; }
  form.querySelector("button[type=submit]").disabled = true;
  try {
    const { ref, new: fresh } = await send(file);
    form.reset();
    form.hidden = true;
    $("progress-box").hidden = true;
    $("receipt").textContent = ref;
    $("receipt-new").hidden = !fresh;
    $("receipt-old").hidden = fresh;
    $("receipt-box").hidden = false;
    $("receipt-heading").focus();
  } catch (e) {
    const why = e instanceof SendError ? e.message : e.expect ? texts.msgNotKit : texts.msgBroken;
    show(`${texts.msgFailed} ${why}`, true);
    form.querySelector("button[type=submit]").disabled = false;
  }
}

ready().then(() => {
  form.addEventListener("submit", submit);
  document.documentElement.dataset.sealing = "ready";
}, () => {
  document.documentElement.dataset.sealing = "server"; // no WebAssembly: the form posts the file as it is
});
