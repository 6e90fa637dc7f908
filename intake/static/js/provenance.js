// Finding proof of a file's origin that cleaning would remove (docs/web.md "Photos"): a C2PA manifest (a JUMBF
// box labelled "c2pa", in a JPEG's APP11 segments, a PNG's caBX chunk or a WebP's C2PA chunk) or ProofMode's
// files (its .proof.json/.proof.csv, signatures and timestamps, alone or in its zip). Nothing is verified here:
// the page only tells the reporter, who may then keep that file whole. A box whose sizes do not add up is refused
// (not reported), as intake/evidence/provenance.py refuses it for reviewers.

const JUMBF_LABEL = "c2pa";
const PROOFMODE_NAME = /\.(proof\.json|proof\.csv|ots|gst|asc)$/i;
const HEAD = 8 << 20; // C2PA boxes sit before a JPEG's image data; a larger head is not read

const be32 = (d, at) => ((d[at] << 24) >>> 0) + (d[at + 1] << 16) + (d[at + 2] << 8) + d[at + 3];
const le32 = (d, at) => d[at] + (d[at + 1] << 8) + (d[at + 2] << 16) + ((d[at + 3] << 24) >>> 0);
const text = (d, at, n) => String.fromCharCode(...d.subarray(at, at + n));

export function jumbfLabel(box) {
  // The label of a whole JUMBF superbox (`jumb` holding a `jumd` first), or null when any size lies.
  if (box.length < 8) return null;
  let size = be32(box, 0);
  let head = 8;
  if (size === 1) {
    if (box.length < 16 || be32(box, 8) !== 0) return null;
    size = be32(box, 12);
    head = 16;
  }
  if (size !== box.length || text(box, 4, 4) !== "jumb" || box.length < head + 8) return null;
  const inner = be32(box, head);
  // jumd: size, type, a 16-byte content type, a toggles byte, then the label ending with a zero byte.
  if (text(box, head + 4, 4) !== "jumd" || inner < 8 + 17 || head + inner > box.length) return null;
  const end = box.subarray(head + 25, head + inner).indexOf(0);
  return end < 0 ? null : text(box, head + 25, end);
}

function jpegC2pa(d) {
  // Gather each APP11 "JP" box (its packets by box instance, the first with the box header, later ones repeating
  // it) up to the first scan, and look for a whole c2pa box.
  const boxes = new Map();
  for (let at = 2; at + 4 <= d.length && d[at] === 0xff;) {
    const marker = d[at + 1];
    if (marker === 0xda || marker === 0xd9) break;
    const length = (d[at + 2] << 8) | d[at + 3];
    if (length < 2 || at + 2 + length > d.length) return false;
    if (marker === 0xeb && length >= 16 && d[at + 4] === 0x4a && d[at + 5] === 0x50) {
      const instance = (d[at + 6] << 8) | d[at + 7];
      const payload = d.subarray(at + 12, at + 2 + length);
      const pieces = boxes.get(instance) || [];
      pieces.push(pieces.length ? payload.subarray(8) : payload);
      boxes.set(instance, pieces);
    }
    at += 2 + length;
  }
  for (const pieces of boxes.values()) {
    const box = new Uint8Array(pieces.reduce((n, p) => n + p.length, 0));
    let at = 0;
    for (const p of pieces) { box.set(p, at); at += p.length; }
    if (jumbfLabel(box) === JUMBF_LABEL) return true;
  }
  return false;
}

function chunkC2pa(d, png) {
  // A PNG caBX chunk or a WebP C2PA chunk that holds exactly one whole c2pa box.
  for (let at = png ? 8 : 12; at + 8 <= d.length;) {
    const length = png ? be32(d, at) : le32(d, at + 4);
    const kind = text(d, png ? at + 4 : at, 4);
    const end = at + 8 + length;
    if (end > d.length || kind === "IEND") return false;
    if (kind === (png ? "caBX" : "C2PA")) return jumbfLabel(d.subarray(at + 8, end)) === JUMBF_LABEL;
    at = end + (png ? 4 : length % 2);
  }
  return false;
}

function zipNamesProof(d) {
  // ProofMode's zip: a file name in its central directory (read from the end) ends like a proof file.
  const names = [];
  for (let at = d.length - 46; at >= 0; at--) {
    if (be32(d, at) !== 0x504b0102) continue;
    const n = d[at + 28] | (d[at + 29] << 8);
    names.push(text(d, at + 46, Math.min(n, d.length - at - 46)));
  }
  return names.some((n) => PROOFMODE_NAME.test(n));
}

export async function provenanceOf(file) {
  // "c2pa", "proofmode" or null, from the file's name and first (or, for a zip, last) bytes.
  try {
    if (PROOFMODE_NAME.test(file.name)) return "proofmode";
    const head = new Uint8Array(await file.slice(0, Math.min(file.size, HEAD)).arrayBuffer());
    if (head[0] === 0xff && head[1] === 0xd8) return jpegC2pa(head) ? "c2pa" : null;
    if (head[0] === 0x89 && text(head, 1, 3) === "PNG") return chunkC2pa(head, true) ? "c2pa" : null;
    if (text(head, 0, 4) === "RIFF" && text(head, 8, 4) === "WEBP") return chunkC2pa(head, false) ? "c2pa" : null;
    if (text(head, 0, 4) === "PK\u0003\u0004") {
      const tail = new Uint8Array(await file.slice(Math.max(0, file.size - 65536)).arrayBuffer());
      return zipNamesProof(tail) ? "proofmode" : null;
    }
  } catch (e) {
    return null; // an unreadable file: cleaning reports it on its own
  }
  return null;
}
