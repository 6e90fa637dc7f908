// The files a form will send, reviewed as soon as they are chosen: photos cleaned (metadata.js) once, the files
// that cannot be cleaned listed above the send button with a button to drop each one, and their number and total
// size checked against what the service takes, so that nothing large leaves the page only to be refused.

import { clean } from "./metadata.js";

const MAX_FILES = 32;

export class Chosen {
  // The files of `input`; `texts` the page's messages and data-max-bytes; `keep()` true when originals are kept.
  constructor(input, texts, keep = () => false) {
    this.input = input;
    this.texts = texts;
    this.keep = keep;
    this.cleaning = new Map();
    input.addEventListener("change", () => this.review());
  }

  async files() {
    // [{name, type, blob, cleaned}]: each chosen file, cleaned unless the originals are kept.
    const out = [];
    for (const file of this.input.files) {
      if (!this.cleaning.has(file)) this.cleaning.set(file, clean(file));
      const { blob, cleaned } = this.keep() ? { blob: file, cleaned: true } : await this.cleaning.get(file);
      out.push({ name: file.name, type: file.type, blob, cleaned });
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
    document.getElementById("files-note").hidden = !problem && !unclean.length;
    return problem;
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
    document.getElementById("unclean").replaceChildren();
  }
}
