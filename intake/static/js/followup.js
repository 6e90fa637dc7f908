// The thread page the server made, when JavaScript runs but the page cannot seal (WebAssembly off, as in Tor
// Browser at its Safer level): the follow-up still goes as a form post for the server to seal, but its photos
// are first rebuilt without location and camera details (metadata.js), as the report form does on that path.

import { Chosen } from "./files.js";

const $ = (id) => document.getElementById(id);
const form = $("message-form");
const chosen = new Chosen($("attachments"), $("js-check").dataset);

async function submit(event) {
  event.preventDefault();
  if (await chosen.review()) return;
  form.querySelector("button[type=submit]").disabled = true;
  $("check-status").textContent = $("js-check").dataset.msgPreparing;
  const cleaned = new DataTransfer();
  for (const f of await chosen.files()) {
    cleaned.items.add(new File([f.blob], f.name, { type: f.type || "application/octet-stream" }));
  }
  $("attachments").files = cleaned.files;
  form.submit(); // a native post: the same fields, the cleaned files in place of the chosen ones
}

form.addEventListener("submit", submit);
document.documentElement.dataset.sealing = "server"; // the form is ready: its photos are cleaned before it posts
