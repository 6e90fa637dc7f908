// The offline kit (docs/web.md "The offline kit"): the form's questions in the reporter's language, photos cleaned,
// the report sealed here to the keyring the kit carries (its signature checked first), saved as one carried file
// (docs/format.md §13) with the codename shown once. No request of any kind, and nothing kept in the browser.

import { MAX_STANZAS, concat, newReportKey, parseRecipient, sealBody, sealHeader } from "./seal.js";
import { deriveKeys, makeCodename, normalise } from "./codename.js";
import { Chosen } from "./files.js";
import { manifestOf, sealedParts, streamLength } from "./parts.js";
import sodiumModule from "../vendor/libsodium-wrappers-sumo-0.8.4.mjs";

const $ = (id) => document.getElementById(id);
const DATA = JSON.parse($("kit-data").textContent);
const LANGS = ["km", "my", "en"];
const FILE_NAME = "report.sealed";
const CARRIED_MAGIC = [...new TextEncoder().encode("INTKFILE"), 2]; // and version 2 (docs/format.md §13.1)
const CARRIED_DOMAIN = new TextEncoder().encode("intake-carried-v2");
let texts = {};
let chosen = null;
let keyring = null; // {serial, recipients} once its signature is checked
let saved = null; // the object URL of the last sealed file, revoked when the page goes

function show(status, error = false) {
  $("progress-box").hidden = false;
  $("status").textContent = status;
  $("status").className = error ? "error" : "";
}

function refuse(message) {
  // Say why this kit cannot seal here, and keep its button off.
  const note = $("kit-status");
  note.textContent = message;
  note.className = "error";
  note.hidden = false;
  $("report-form").querySelector("button[type=submit]").disabled = true;
}

function grouped(hex) {
  return hex.match(/.{1,4}/g).join(" ");
}

function verifyKeyring() {
  // The signed keyring the kit was built with, checked against the signer it was built with (docs/keys.md):
  // {serial, recipients}, or an Error. Its fingerprint must be the one the kit shows.
  const S = globalThis.sodium;
  const signer = DATA.signer;
  if (typeof signer !== "string" || !signer.startsWith("intake-signer-1:")) throw new Error("no signer");
  const publicKey = S.from_base64(signer.slice(16), S.base64_variants.URLSAFE_NO_PADDING);
  const signature = S.from_base64(DATA.keyring.signature, S.base64_variants.URLSAFE_NO_PADDING);
  const signed = new TextEncoder().encode(DATA.keyring.signed);
  if (!S.crypto_sign_verify_detached(signature, signed, publicKey)) throw new Error("bad signature");
  const data = JSON.parse(DATA.keyring.signed);
  if (data.signer !== signer || data.format !== "intake-keyring-1" || data.serial !== DATA.serial) {
    throw new Error("not this kit's keyring");
  }
  const texts = data.keys.filter((k) => k.status === "active").map((k) => k.recipient);
  if (data.recovery) texts.push(data.recovery);
  const recipients = texts.map(parseRecipient);
  const listed = [...texts].sort().join("\n");
  const digest = S.crypto_generichash(20, concat(new TextEncoder().encode("intake-keyring-fingerprint-v1"),
    new TextEncoder().encode(listed)), null);
  if (grouped(S.to_hex(digest)) !== DATA.fingerprint) throw new Error("another fingerprint");
  return { serial: data.serial, recipients };
}

let pages = null;

async function page(lang) {
  // The kit's page in `lang`: every language is kept gzipped in the file (web/kit.py), opened by the browser itself.
  if (!pages) {
    const bytes = Uint8Array.from(atob(DATA.pages), (c) => c.charCodeAt(0));
    pages = JSON.parse(await new Response(new Blob([bytes]).stream().pipeThrough(new DecompressionStream("gzip"))).text());
  }
  const template = document.createElement("template");
  template.innerHTML = pages[lang];
  return template.content;
}

async function choose(lang) {
  // Show the kit in `lang`, carrying over what was typed and chosen in the language shown before.
  const content = await page(lang);
  const old = $("report-form");
  const kept = old ? [...old.elements].filter((e) => e.name).map((e) => [e.name, e.type === "file" ? e.files : e.type === "checkbox" ? e.checked : e.value]) : [];
  $("kit").replaceChildren(content);
  document.documentElement.lang = lang;
  for (const b of document.querySelectorAll("#languages button")) b.setAttribute("aria-pressed", String(b.dataset.lang === lang));
  const form = $("report-form");
  for (const [name, value] of kept) {
    const el = form.elements[name];
    if (!el || el.length !== undefined && !el.tagName) continue;
    if (el.type === "file") el.files = value;
    else if (el.type === "checkbox") el.checked = value;
    else el.value = value;
  }
  texts = $("kit-texts").dataset;
  chosen = new Chosen(form.elements.attachments, texts, () => form.elements.keep_original.checked);
  form.elements.keep_original.addEventListener("change", () => chosen.review());
  form.noValidate = true; // the kit's own checks, in the kit's language, as the form page's
  form.addEventListener("submit", submit);
  $("quick-exit").addEventListener("click", (e) => { e.preventDefault(); window.location.replace("about:blank"); });
  applyState();
}

function applyState() {
  // The button works only once the keyring is checked; a kit that cannot seal here says why.
  const sealing = document.documentElement.dataset.sealing;
  $("report-form").querySelector("button[type=submit]").disabled = sealing !== "ready";
  if (sealing === "no-wasm") refuse(texts.msgNoWasm);
  if (sealing === "refused") refuse(texts.msgCannot);
  if (sealing === "expired") refuse(texts.msgExpired);
  if (sealing === "full") refuse(texts.msgFull);
}

function fieldsOf(form) {
  // The questions' answers as the sealed body holds them (the form's names); an unchosen list is left out.
  const fields = {};
  for (const el of form.querySelectorAll(".questions [name]")) {
    if (el.tagName === "SELECT" && el.value === "") continue;
    fields[el.name] = el.value;
  }
  fields.lang = document.documentElement.lang;
  return fields;
}

async function seal(fields, files) {
  // The carried file of this report and its codename.
  show(texts.msgCodename);
  await new Promise((r) => setTimeout(r, 30)); // let the message paint before Argon2id holds the page
  const codename = makeCodename();
  const keys = deriveKeys(codename, globalThis.sodium.from_base64(DATA.salt, globalThis.sodium.base64_variants.URLSAFE_NO_PADDING));
  show(texts.msgSealing);
  const manifest = await manifestOf(files, true); // with each file's hash before cleaning, as the page's
  const reportKey = newReportKey();
  const body = sealBody(reportKey, fields, manifest, keys.recipient.text);
  const signer = globalThis.sodium.crypto_sign_keypair(); // signs this file's first bytes (docs/format.md §13.1)
  const header = sealHeader(reportKey, keyring.recipients, keys.recipient, signer);
  const total = manifest.reduce((n, m) => n + streamLength(m.size, true), 0) || 1;
  let done = 0;
  const streams = [];
  for (let i = 0; i < files.length; i++) {
    const parts = [];
    for await (const part of sealedParts(reportKey, i, files[i].blob, true)) {
      parts.push(part);
      done += part.length;
      $("progress").value = done / total;
    }
    streams.push({ length: streamLength(manifest[i].size, true), parts });
  }
  globalThis.sodium.memzero(reportKey);
  const file = carriedFile(keyring.serial, keys.lookup, signer, header, body, streams);
  globalThis.sodium.memzero(signer.privateKey);
  return { file, codename };
}

function be(value, bytes) {
  // Big-endian unsigned integer of `bytes` bytes (exact up to 2^53).
  const out = new Uint8Array(bytes);
  for (let i = bytes - 1; i >= 0; i--) { out[i] = value % 256; value = Math.floor(value / 256); }
  return out;
}

function carriedFile(serial, lookup, signer, header, body, streams) {
  // The carried file as a Blob (docs/format.md §13.1): `streams` is a list of {length, parts} with each stream's sealed parts.
  const S = globalThis.sodium;
  const fields = concat(new Uint8Array(CARRIED_MAGIC), be(serial, 8), lookup, signer.publicKey);
  const lengths = [new Uint8Array([streams.length]), ...streams.map((s) => be(s.length, 8))];
  const signed = concat(CARRIED_DOMAIN, fields.slice(8), S.crypto_generichash(32, header, null),
    S.crypto_generichash(32, body, null), ...lengths);
  const pieces = [fields, S.crypto_sign_detached(signed, signer.privateKey), header, be(body.length, 4), body,
    new Uint8Array([streams.length])];
  for (const s of streams) pieces.push(be(s.length, 8), ...s.parts);
  return new Blob(pieces, { type: "application/octet-stream" });
}

function save() {
  // Offer the sealed file as a download (a blob: address, made in this page: nothing leaves the phone).
  const a = document.createElement("a");
  a.href = saved;
  a.download = FILE_NAME;
  a.click();
}

function showCodename(codename) {
  // The codename once, and the same check as the receipt's: one group typed back, compared here.
  const group = globalThis.sodium.randombytes_uniform(5);
  $("codename").textContent = codename;
  $("typed-label").textContent = texts.msgTypeGroup.replace("{n}", String(group + 1));
  $("confirm-js").addEventListener("submit", (event) => {
    event.preventDefault();
    let typed = "";
    try { typed = normalise(`${$("typed").value} 00000 00000 00000 00000`).slice(0, 5); } catch (e) { typed = ""; }
    const ok = typed === codename.split(" ")[group];
    $("confirm-result").textContent = ok ? texts.msgCopied : texts.msgMismatch;
    $("confirm-result").className = ok ? "" : "error";
  });
}

async function submit(event) {
  event.preventDefault();
  const form = $("report-form");
  if (!keyring) return;
  const fields = fieldsOf(form);
  if (form.elements.incident_type && !fields.incident_type) { show(texts.msgType, true); return; }
  if (!(fields.description || "").trim()) { show(texts.msgDescription, true); return; }
  if (await chosen.review()) { $("files-note").scrollIntoView({ block: "center" }); return; }
  show(texts.msgPreparing);
  form.querySelector("button[type=submit]").disabled = true;
  try {
    const { file, codename } = await seal(fields, await chosen.files());
    if (saved) URL.revokeObjectURL(saved);
    saved = URL.createObjectURL(file);
    save();
    form.reset();
    chosen.clear();
    form.hidden = true;
    $("progress-box").hidden = true;
    showCodename(codename);
    $("result-box").hidden = false;
    $("result-heading").focus();
    $("result-heading").scrollIntoView({ block: "start" });
  } catch (e) {
    show(`${texts.msgFailed} ${e.message || ""}`, true);
    form.querySelector("button[type=submit]").disabled = false;
  }
}

async function start() {
  // The page in the reporter's language (the browser's, else English; the buttons switch), then libsodium.js.
  const asked = (navigator.languages || []).map((l) => l.split("-")[0]).find((l) => LANGS.includes(l));
  for (const b of document.querySelectorAll("#languages button")) b.addEventListener("click", () => choose(b.dataset.lang));
  document.addEventListener("click", (e) => { if (e.target && e.target.id === "save" && saved) save(); });
  window.addEventListener("pagehide", () => { if (saved) URL.revokeObjectURL(saved); });
  await choose(asked || "en");
  document.documentElement.dataset.sealing = await load();
  applyState();
}

async function load() {
  // "ready" once libsodium.js runs and the keyring verifies; "no-wasm" without WebAssembly (Tor Browser at
  // "Safer"); "refused" when the keyring does not verify: then this kit never seals; "expired" after its day;
  // "full" when the keyring has 16 keys, leaving no room for the reporter's stanza (docs/format.md §13.1).
  try {
    if (typeof WebAssembly !== "object") throw new Error("WebAssembly is off");
    await sodiumModule.ready;
    globalThis.sodium = sodiumModule;
  } catch (e) {
    return "no-wasm";
  }
  try {
    keyring = verifyKeyring();
  } catch (e) {
    return "refused";
  }
  // An old kit seals to old keys, some perhaps withdrawn since: past its day (by this phone's clock), it stops.
  if (new Date().toISOString().slice(0, 10) > DATA.expires) {
    keyring = null;
    return "expired";
  }
  if (keyring.recipients.length >= MAX_STANZAS) {
    keyring = null;
    return "full";
  }
  return "ready";
}

await start();
