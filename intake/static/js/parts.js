// A report's files as the format seals them: their manifest entries (docs/format.md §5.1) and each one's sealed
// stream in parts of 1 MiB (§7), for the page's upload (upload.js) and the offline kit (kit.js).

import { CHUNK, PART, Sha256, StreamSealer, concat, padme, sealedLength } from "./seal.js";

async function sha256(blob) {
  // SHA-256 of a blob, read 1 MiB at a time.
  const hash = new Sha256();
  for (let at = 0; at < blob.size; at += PART) hash.update(new Uint8Array(await blob.slice(at, at + PART).arrayBuffer()));
  return hash.hex();
}

export async function manifestOf(files, originals = false) {
  // The manifest entries (format.md §5.1) of `files` ({name, type, blob}), one file read at a time; with
  // `originals` (a report: a follow-up's manifest has no such member, §12.4) each entry's `original_sha256`.
  const manifest = [];
  for (const f of files) {
    const entry = { name: f.name, type: f.type || "application/octet-stream", size: f.blob.size, sha256: await sha256(f.blob) };
    // The file before cleaning: its own hash when the page changed it, else the same as what is sealed; left out
    // when the page changed it but could not hash the original.
    const original = f.changed ? f.original : entry.sha256;
    if (originals && original) entry.original_sha256 = original;
    manifest.push(entry);
  }
  return manifest;
}

export function streamLength(size, padded) {
  // The sealed length of a file's stream: padded for a report (format.md §7.1), not for a message (§12.4).
  return sealedLength(padded ? padme(size) : size);
}

export async function* sealedParts(reportKey, index, blob, padded) {
  // The sealed stream of attachment `index`, the file then its zero padding if `padded` (format.md §7.1), in
  // parts of exactly 1 MiB (the last holds the rest).
  const sealer = new StreamSealer(reportKey, index);
  const total = padded ? padme(blob.size) : blob.size;
  let pending = [sealer.header];
  let pendingBytes = sealer.header.length;
  for (let at = 0; ; at += CHUNK) {
    const chunk = new Uint8Array(Math.min(CHUNK, total - at));
    if (at < blob.size) chunk.set(new Uint8Array(await blob.slice(at, at + CHUNK).arrayBuffer()));
    const last = chunk.length < CHUNK;
    const sealed = sealer.push(chunk, last);
    pending.push(sealed);
    pendingBytes += sealed.length;
    while (pendingBytes >= PART || (last && pendingBytes > 0)) {
      const all = concat(...pending);
      yield all.subarray(0, PART);
      pending = [all.subarray(PART)];
      pendingBytes = pending[0].length;
    }
    if (last) return;
  }
}
