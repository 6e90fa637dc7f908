// Checking back with JavaScript (docs/format.md §12): the codename's keys are derived here, only the token is
// sent, the sealed thread is opened here and follow-ups are sealed here, their photos cleaned first and their
// files uploaded in sealed parts as a report's are (upload.js). Without WebAssembly the form posts the codename
// to the server instead, which derives the keys for that one request.

import { b64url, newReportKey, openReportHead, ready } from "./seal.js";
import { openMessageHead, sealMessageBody, sealMessageHeader } from "./thread.js";
import { derive, saltOf } from "./derive.js";
import { Chosen } from "./files.js";
import { manifestOf, streamLength } from "./parts.js";
import { SendError, Upload, loadKeyring, solveWork } from "./upload.js";

const $ = (id) => document.getElementById(id);
const texts = $("js-check").dataset;
const S = () => globalThis.sodium;
const mode = ready().then(() => "page", () => "server");
// The API client: the page's form token in a header (no cookie: there is none), errors in the page's language.
const client = new Upload({ csrf: document.querySelector("meta[name=csrf-token]").content,
  onProgress: (fraction) => { $("progress").value = fraction; }, onRetry: () => say(texts.msgRetry) });
let keys = null;
let workAhead = null; // the next follow-up's proof of work, solved while the reporter writes
// A follow-up's photos are always cleaned (metadata.js): it has no "keep the original" box.
const chosen = new Chosen($("attachments"), texts);

const api = (url, data) => client.request("POST", url, JSON.stringify(data), "application/json");

function say(text, error = false) {
  $("check-status").textContent = text;
  $("check-status").className = error ? "error" : "";
}

const bytes = (text) => S().from_base64(text, S().base64_variants.URLSAFE_NO_PADDING);
const items = (names) => names.map((name) => Object.assign(document.createElement("li"), { textContent: name }));

function opened(m) {
  // A message's text and file names (it has as many files as sealed lengths); a damaged one says so.
  try {
    const { body } = openMessageHead(bytes(m.header), bytes(m.body), m.lengths.length, [keys.identity], keys.recipient,
      m.from);
    return { text: body.text, names: body.attachments.map((a) => a.name) };
  } catch (e) {
    return { text: texts.msgDamaged, names: [] };
  }
}

function sizeText(size) {
  // A file size in B, KB or MB, as the page without JavaScript writes it (web/yours.py).
  if (size < 1000) return `${size} B`;
  if (size < 1000 * 1000) return `${Math.floor(size / 1000)} KB`;
  const tenths = Math.floor(size / 100000);
  return `${Math.floor(tenths / 10)}.${tenths % 10} MB`;
}

const CHOSEN = ["incident_type", "lang", "occurred_month", "province"]; // read by their label (web/yours.py)

function shownValue(labels, name, value) {
  // A sealed value as its reporter reads it: a chosen answer by its label, a year with its Buddhist-era year
  // beside it, anything else as it was written.
  if (name === "occurred_year" && /^[1-9][0-9]{3}$/.test(value)) {
    return texts.msgYear.replace("{year}", value).replace("{be}", String(Number(value) + 543));
  }
  const key = `${name}:${value}`;
  return CHOSEN.includes(name) && Object.prototype.hasOwnProperty.call(labels, key) ? labels[key] : value;
}

function renderReport(report) {
  // The reporter's own report, opened here with the codename's reply identity (docs/format.md §4.1): its fields
  // under the form's labels and the names and sizes of its files (never the files); or why it cannot be shown.
  const note = (text) => { $("report-note").textContent = text; $("report-note").hidden = false; };
  $("report-fields").replaceChildren();
  $("report-files").replaceChildren();
  $("report-files-title").hidden = true;
  $("report-note").hidden = true;
  if (!report) { note(texts.msgReportOld); return; }
  let body;
  try {
    ({ body } = openReportHead(bytes(report.header), bytes(report.body), report.lengths.length, [keys.identity]));
    if (body.reply_key !== keys.recipient.text) throw new Error("not this codename's report");
  } catch (e) { note(texts.msgReportDamaged); return; }
  const labels = JSON.parse(texts.labels);
  const has = (name) => Object.prototype.hasOwnProperty.call(labels, name);
  for (const [name, value] of Object.entries(body.fields)) {
    if (!value) continue;
    const shown = shownValue(labels, name, value);
    $("report-fields").append(Object.assign(document.createElement("dt"), { textContent: has(name) ? labels[name] : name }),
      Object.assign(document.createElement("dd"), { className: "text-report", textContent: shown }));
  }
  const files = body.attachments.map((a) => `${a.name} (${sizeText(a.size)})`);
  $("report-files").append(...files.map((name) => Object.assign(document.createElement("li"), { textContent: name })));
  $("report-files-title").hidden = files.length === 0;
}

function render(thread) {
  // Each message opened here, oldest first, its file names under its text; one that fails to open says so and
  // the others still show.
  const shown = thread.map((m) => {
    const { text, names } = opened(m);
    const item = document.createElement("li");
    item.className = `message from-${m.from}`;
    const meta = Object.assign(document.createElement("p"), { className: "meta",
      textContent: `${m.from === "reviewer" ? texts.msgReviewers : texts.msgYou}, ${m.day}` });
    item.append(meta, Object.assign(document.createElement("p"), { className: "text", textContent: text }));
    if (names.length) {
      const files = Object.assign(document.createElement("ul"), { className: "files" });
      files.append(...items(names));
      item.append(files);
    }
    return item;
  });
  $("thread").replaceChildren(...shown);
  $("no-messages").hidden = shown.length > 0;
}

async function load() {
  // The thread comes a page at a time (at most 2 MiB sealed each), oldest first, until no more follow.
  // The report itself comes with the first page.
  const thread = [];
  let answer;
  let report;
  do {
    const after = thread.length ? thread[thread.length - 1].seq : 0;
    answer = await api("/api/v1/thread", { token: b64url(keys.token), after });
    if (after === 0) report = answer.report;
    thread.push(...answer.thread);
  } while (answer.more && answer.thread.length);
  $("case-status").textContent = `${texts.msgStatus} ${answer.status}`;
  renderReport(report);
  render(thread);
  $("check-form").hidden = true;
  $("js-thread").hidden = false;
  if (!workAhead) solveAhead();
}

function solveAhead() {
  workAhead = solveWork();
  workAhead.catch(() => {});
}

async function work() {
  // The proof of work solved ahead, or one solved now if that failed; the next starts when the thread reloads.
  const ahead = workAhead;
  workAhead = null;
  return (ahead && (await ahead.catch(() => null))) || solveWork();
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

async function seal(text, files) {
  // Seal the follow-up to the reply key and the reviewers' keys (§12.4), its files unpadded, and send it; with
  // files the server shows it in the thread once their sealed parts have all arrived.
  const keyring = await loadKeyring();
  const messageKey = newReportKey();
  const manifest = await manifestOf(files);
  const body = sealMessageBody(messageKey, keys.recipient, "reporter", text, manifest);
  const header = sealMessageHeader(messageKey, keys.recipient, keyring.recipients);
  const request = { token: b64url(keys.token), header: b64url(header), body: b64url(body),
    lengths: manifest.map((m) => streamLength(m.size, false)) };
  let begun;
  try {
    begun = await api("/api/v1/thread/messages", { ...request, ...(await work()) });
  } catch (e) {
    // 429: the load rose since the work was solved; 400: it may have expired (a page open for long). Once more.
    if (!(e instanceof SendError && (e.status === 429 || e.status === 400))) throw e;
    begun = await api("/api/v1/thread/messages", { ...request, ...(await solveWork()) });
  }
  if (!begun.upload) return;
  $("progress").value = 0;
  $("progress").hidden = false;
  await client.fill(begun, messageKey, files, false);
}

async function send(event) {
  event.preventDefault();
  const text = $("message").value.trim();
  if ((!text && !$("attachments").files.length) || !keys) return;
  const problem = await chosen.review();
  if (problem) { say(problem, true); return; }
  const button = $("message-form").querySelector("button[type=submit]");
  button.disabled = true;
  say(texts.msgPreparing);
  try {
    const files = await chosen.files();
    say(texts.msgSealing);
    await seal(text, files);
  } catch (e) {
    say(`${texts.msgFailed} ${e instanceof SendError ? e.message : texts.msgBroken}`, true);
    return;
  } finally {
    button.disabled = false;
    $("progress").hidden = true;
  }
  $("message-form").reset();
  chosen.clear();
  say(texts.msgSent);
  await load().catch(() => {});
}

$("check-form").addEventListener("submit", open);
$("message-form").addEventListener("submit", send);
mode.then((m) => { document.documentElement.dataset.sealing = m === "page" ? "ready" : "server"; });
