// Removing hidden details from photos before sealing: EXIF, XMP, IPTC and comments from JPEG,
// text, EXIF and time chunks from PNG. Other files are left as they are and reported as not cleaned.

// JPEG segments kept: APP0 (JFIF), APP2 (ICC colour profile), APP14 (Adobe colour transform).
const JPEG_KEEP = new Set([0xe0, 0xe2, 0xee]);
const PNG_DROP = new Set(["tEXt", "zTXt", "iTXt", "eXIf", "tIME"]);
const PNG_SIGNATURE = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];

function stripJpeg(data) {
  // The JPEG without metadata segments, or null if it is not a JPEG this code understands.
  if (data[0] !== 0xff || data[1] !== 0xd8) return null;
  const out = [data.subarray(0, 2)];
  let at = 2;
  while (at + 4 <= data.length) {
    if (data[at] !== 0xff) return null;
    const marker = data[at + 1];
    if (marker === 0xff) { at += 1; continue; }
    const length = (data[at + 2] << 8) | data[at + 3];
    if (length < 2 || at + 2 + length > data.length) return null;
    if (marker === 0xda) { out.push(data.subarray(at)); return joined(out); }
    const metadata = (marker >= 0xe0 && marker <= 0xef && !JPEG_KEEP.has(marker)) || marker === 0xfe;
    if (!metadata) out.push(data.subarray(at, at + 2 + length));
    at += 2 + length;
  }
  return null;
}

function stripPng(data) {
  // The PNG without text, EXIF and time chunks, or null if it is not a PNG this code understands.
  if (data.length < 8 || PNG_SIGNATURE.some((b, i) => data[i] !== b)) return null;
  const out = [data.subarray(0, 8)];
  let at = 8;
  while (at + 12 <= data.length) {
    const length = ((data[at] << 24) >>> 0) + (data[at + 1] << 16) + (data[at + 2] << 8) + data[at + 3];
    const type = String.fromCharCode(...data.subarray(at + 4, at + 8));
    const end = at + 12 + length;
    if (end > data.length) return null;
    if (!PNG_DROP.has(type)) out.push(data.subarray(at, end));
    at = end;
    if (type === "IEND") return joined(out);
  }
  return null;
}

function joined(pieces) {
  const out = new Uint8Array(pieces.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of pieces) { out.set(p, at); at += p.length; }
  return out;
}

export async function clean(file) {
  // {blob, cleaned}: the photo without metadata, or the file as it is with cleaned = false.
  const strip = file.type === "image/jpeg" ? stripJpeg : file.type === "image/png" ? stripPng : null;
  if (!strip) return { blob: file, cleaned: false };
  const result = strip(new Uint8Array(await file.arrayBuffer()));
  return result ? { blob: new Blob([result], { type: file.type }), cleaned: true } : { blob: file, cleaned: false };
}
