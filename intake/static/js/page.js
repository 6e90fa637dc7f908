// The form page with JavaScript: clean photos, seal everything in the browser, upload with progress.
// When sealing cannot start in the page (WebAssembly off, as at Tor Browser's "Safer" level, or libsodium.js
// failing to load), it says so, still cleans the photos, and posts them to the server-sealing path.

import { ready } from "./seal.js";
import { makeCodename, normalise } from "./codename.js";
import { derive, saltOf } from "./derive.js";
import { Chosen } from "./files.js";
import { postForm } from "./post.js";
import { SendError, Upload, loadKeyring, solveWork } from "./upload.js";

const $ = (id) => document.getElementById(id);
const form = $("report-form");
const texts = $("js-seal").dataset;
const FIELDS = ["incident_type", "occurred", "location", "description", "device"];
const TEXT_FIELDS = ["occurred", "location", "description", "device"];
const CHOSEN = ["occurred_month", "occurred_year", "province"]; // sealed only when chosen (docs/format.md §5.1)
const chosen = new Chosen(form.elements.attachments, texts, form.elements.keep_original);
let workAhead = null; // solved while the reporter writes, so that sending need not wait for it

function quickExit(event) {
  // Leave without a Back entry to this page.
  event.preventDefault();
  window.location.replace(event.currentTarget.href);
}

function show(status, error = false) {
  $("progress-box").hidden = false;
  $("status").textContent = status;
  $("status").className = error ? "error" : "";
}

async function sealingMode() {
  // "page" when libsodium.js runs here, else "server" (the reason is shown to the reporter).
  try {
    if (typeof WebAssembly !== "object") throw new Error("WebAssembly is off");
    await ready();
    return "page";
  } catch (e) {
    const note = $("sealing-note");
    note.textContent = texts.msgNoWasm;
    note.hidden = false;
    return "server";
  }
}

const mode = sealingMode();

async function send(fields, files) {
  // Seal in the page and upload through the API, or post the cleaned files for the server to seal.
  const onProgress = (fraction) => { $("progress").value = fraction; show(texts.msgSealing); };
  if ((await mode) === "server") {
    show(texts.msgSending);
    return postForm(form, files, (fraction) => { $("progress").value = fraction; show(texts.msgSending); });
  }
  const upload = new Upload({
    csrf: document.querySelector("meta[name=csrf-token]").content, work: workAhead, onProgress,
    onRetry: () => show(texts.msgRetry),
  });
  workAhead = null;
  show(texts.msgCodename);
  let codename = makeCodename();
  let keys = null;
  try {
    keys = await derive(codename, saltOf((await loadKeyring()).codenameSalt));
  } catch (e) {
    codename = null; // no memory for Argon2id here: the report still goes, without a way to check back
  }
  show(texts.msgWork);
  const ref = await upload.send(fields, files, form.elements.website.value, keys);
  return { ref, codename };
}

function showCodename(codename) {
  // The codename once, and the check that asks one of its groups back (nothing of it leaves the page).
  if (!codename) return;
  const group = globalThis.sodium ? globalThis.sodium.randombytes_uniform(5) : Math.floor(Math.random() * 5);
  $("codename").textContent = codename;
  $("typed-label").textContent = texts.msgTypeGroup.replace("{n}", String(group + 1));
  $("codename-box").hidden = false;
  $("confirm-js").addEventListener("submit", (event) => {
    event.preventDefault();
    let typed = "";
    // One group, read by the rules of §12.2: padded with four groups of zeros into a whole codename.
    try { typed = normalise(`${$("typed").value} 00000 00000 00000 00000`).slice(0, 5); } catch (e) { typed = ""; }
    const ok = typed === codename.split(" ")[group];
    $("confirm-result").textContent = ok ? texts.msgCopied : texts.msgMismatch;
    $("confirm-result").className = ok ? "" : "error";
  });
}

async function submit(event) {
  event.preventDefault();
  const fields = Object.fromEntries(FIELDS.map((name) => [name, form.elements[name].value]));
  for (const name of CHOSEN) if (form.elements[name].value) fields[name] = form.elements[name].value;
  fields.lang = document.documentElement.lang;
  if (!fields.incident_type) { show(texts.msgType, true); form.elements.incident_type.focus(); return; }
  if (!fields.description.trim()) { show(texts.msgDescription, true); return; }
  if (await chosen.review()) { $("files-note").scrollIntoView({ block: "center" }); return; }
  show(texts.msgPreparing);
  const files = await chosen.files();
  form.querySelector("button[type=submit]").disabled = true;
  try {
    const { ref, codename } = await send(fields, files);
    form.reset();
    chosen.clear();
    form.hidden = true;
    $("progress-box").hidden = true;
    $("receipt").textContent = ref;
    if ((await mode) === "server") {
      $("sealed-in-page").hidden = true;
      $("sealed-by-server").hidden = false;
    }
    showCodename(codename);
    $("receipt-box").hidden = false;
    $("receipt-heading").focus(); // the receipt and the codename, not the bottom of the page the form left
    $("receipt-heading").scrollIntoView({ block: "start" });
  } catch (e) {
    show(`${texts.msgFailed} ${e instanceof SendError ? e.message : texts.msgBroken}`, true);
    form.querySelector("button[type=submit]").disabled = false;
    if ((await mode) === "page") workAhead = solveWork();
  }
}

function watchZawgyi(event) {
  // Load the Zawgyi check only once Myanmar letters are typed (most reporters never need it).
  if (!/[\u1000-\u109f]/.test(event.target.value || "")) return;
  form.removeEventListener("input", watchZawgyi);
  import("./zawgyi.js").then((m) => m.watch(form, TEXT_FIELDS, $("zawgyi-texts").dataset));
}

$("quick-exit").addEventListener("click", quickExit);
form.noValidate = true; // this page's own checks, in the page's language (without JavaScript the browser's apply)
form.addEventListener("input", watchZawgyi);
form.elements.keep_original.addEventListener("change", () => chosen.review());
form.addEventListener("submit", submit);
mode.then((m) => {
  if (m === "page") {
    workAhead = solveWork();
    workAhead.catch(() => {});
  }
  document.documentElement.dataset.sealing = m === "page" ? "ready" : "server";
});
