// Sending the form to the server-sealing path (POST /report) when sealing in the page cannot start:
// the same fields and CSRF token as the form without JavaScript, the cleaned files in place of the chosen ones.

function pageText(html, selector) {
  // The text of `selector` in an HTML answer of the server, or "".
  const found = new DOMParser().parseFromString(html, "text/html").querySelector(selector);
  return found ? found.textContent.trim() : "";
}

export function postForm(form, files, onProgress) {
  // Post `form` with `files` ({name, type, blob}) as its attachments; resolve with the case reference and the
  // codename the server made.
  const data = new FormData(form);
  data.delete("attachments");
  for (const f of files) {
    // Each file's SHA-256 before the page cleaned it, for the body's `original_sha256` (format.md §5.1): "" when
    // the file goes as chosen, "-" when it was cleaned but its original could not be hashed here.
    data.append("original_sha256", f.changed ? f.original || "-" : "");
  }
  for (const f of files) data.append("attachments", new File([f.blob], f.name, { type: f.type || "application/octet-stream" }));
  return new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    xhr.open("POST", form.action);
    xhr.upload.addEventListener("progress", (e) => { if (e.lengthComputable) onProgress(e.loaded / e.total); });
    xhr.upload.addEventListener("load", () => onProgress(1));
    xhr.addEventListener("load", () => {
      const ref = xhr.status === 200 ? pageText(xhr.responseText, "#receipt") : "";
      if (ref) resolve({ ref, codename: pageText(xhr.responseText, "#codename") });
      else reject(new Error(pageText(xhr.responseText, ".error") || `${xhr.status} ${xhr.statusText}`));
    });
    xhr.addEventListener("error", () => reject(new Error(xhr.statusText || "the connection broke")));
    xhr.send(data);
  });
}
