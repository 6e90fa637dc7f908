// The files a form will send, reviewed as soon as they are chosen: photos cleaned (metadata.js) once, the files
// that cannot be cleaned listed above the send button with a button to drop each one, and their number and total
// size checked against what the service takes, so that nothing large leaves the page only to be refused.

import { clean } from "./metadata.js";
import { provenanceOf } from "./provenance.js";

const MAX_FILES = 32;
const PIECE = 1 << 20;

export async function sha256Hex(blob) {
  // The SHA-256 of a blob in hex: with libsodium.js when it runs here (1 MiB at a time), else Web Crypto (whole),
  // else null (the file's original hash is then not recorded, format.md §5.1).
  const sodium = globalThis.sodium;
  if (sodium && sodium.crypto_hash_sha256_init) {
    const state = sodium.crypto_hash_sha256_init();
    for (let at = 0; at < blob.size; at += PIECE) {
      sodium.crypto_hash_sha256_update(state, new Uint8Array(await blob.slice(at, at + PIECE).arrayBuffer()));
    }
    return sodium.to_hex(sodium.crypto_hash_sha256_final(state));
  }
  if (!globalThis.crypto || !crypto.subtle) return null;
  const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", await blob.arrayBuffer()));
  return Array.from(digest, (b) => b.toString(16).padStart(2, "0")).join("");
}

async function prepare(file) {
  // {blob, cleaned, original, provenance}: the cleaned copy (metadata.js), the SHA-256 of the file as chosen when
  // cleaning changed it (null: the same as what is sealed, or not known), and any proof of origin it carries.
  const [result, provenance] = await Promise.all([clean(file), provenanceOf(file)]);
  const original = result.blob !== file ? await sha256Hex(file).catch(() => null) : null;
  return { ...result, original, changed: result.blob !== file, provenance };
}

export class Chosen {
  // The files of `input`; `texts` the page's messages and data-max-bytes; `keepInput` the "keep the original files"
  // checkbox where the page has one (the originals are kept when it is checked).
  constructor(input, texts, keepInput = null) {
    this.input = input;
    this.texts = texts;
    this.keepInput = keepInput;
    this.keep = () => Boolean(keepInput && keepInput.checked);
    this.cleaning = new Map();
    input.addEventListener("change", () => this.review());
    const keepButton = document.getElementById("provenance-keep");
    if (keepButton && keepInput) {
      keepButton.addEventListener("click", () => {
        keepInput.checked = true;
        this.review();
      });
    }
  }

  async files() {
    // [{name, type, blob, cleaned, original, changed, provenance}]: each chosen file, cleaned unless the originals
    // are kept; `original` the SHA-256 of the file as chosen when the blob differs from it (format.md §5.1).
    const out = [];
    for (const file of this.input.files) {
      if (!this.cleaning.has(file)) this.cleaning.set(file, prepare(file));
      const prepared = await this.cleaning.get(file);
      const kept = this.keep() ? { blob: file, cleaned: true, original: null, changed: false } : {};
      out.push({ name: file.name, type: file.type, ...prepared, ...kept });
    }
    return out;
  }

  problem() {
    // What stops these files from being sent (too many, too large), or "".
    const files = [...this.input.files];
    if (files.length > MAX_FILES) return this.texts.msgTooMany;
    return files.reduce((n, f) => n + f.size, 0) > Number(this.texts.maxBytes) ? this.texts.msgTooLarge : "";
  }

  async review() {
    // Show what stops sending, else the files that will go uncleaned, each with a Remove button; return the problem.
    const problem = this.problem();
    const chosen = [...this.input.files];
    const results = problem ? [] : await this.files();
    const unclean = chosen.filter((file, i) => results[i] && !results[i].cleaned);
    document.getElementById("files-message").textContent = problem || (unclean.length ? this.texts.msgUnclean : "");
    document.getElementById("unclean").replaceChildren(...unclean.map((file) => this.item(file)));
    this.showProvenance(chosen.filter((file, i) => results[i] && results[i].provenance && results[i].changed));
    document.getElementById("files-note").hidden = !problem && !unclean.length;
    return problem;
  }

  showProvenance(files) {
    // Name the files whose proof of origin (C2PA, ProofMode) cleaning would remove, and offer to keep them whole.
    const note = document.getElementById("provenance-note");
    if (!note) return;
    note.hidden = !files.length;
    document.getElementById("provenance").replaceChildren(...files.map((file) => Object.assign(
      document.createElement("li"), { className: "name", textContent: file.name })));
    document.getElementById("provenance-keep-text").hidden = !this.keepInput;
    document.getElementById("provenance-no-keep").hidden = Boolean(this.keepInput);
  }

  item(file) {
    // One uncleanable file's line: its name and a button that drops it from the chosen files.
    const li = document.createElement("li");
    li.append(Object.assign(document.createElement("span"), { className: "name", textContent: file.name }), " ");
    const button = Object.assign(document.createElement("button"), { type: "button", textContent: this.texts.msgRemove });
    button.addEventListener("click", () => this.drop(file));
    li.append(button);
    return li;
  }

  drop(file) {
    // Keep every chosen file but `file`.
    const kept = new DataTransfer();
    for (const f of this.input.files) if (f !== file) kept.items.add(f);
    this.input.files = kept.files;
    this.review();
  }

  clear() {
    // Forget the list once the form was sent.
    this.cleaning.clear();
    document.getElementById("files-note").hidden = true;
    this.showProvenance([]);
    document.getElementById("unclean").replaceChildren();
  }
}
