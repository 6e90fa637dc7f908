// Removing hidden details from photos before they leave the page: a new file is written from the parsed
// structure of the primary image only (docs/web.md "Photos"). Nothing is copied that decoding does not need:
// no EXIF, XMP, IPTC, MPF, ICC profile, maker notes or comments, and nothing after the image's end
// (appended images, thumbnails, depth maps, motion-photo video). A JPEG's orientation is read and written anew
// in an EXIF segment of its own, so that a phone's portrait photo stays upright. A file that does not parse
// completely, or that is not a JPEG, PNG or still WebP by its first bytes, is reported as not cleaned.

const PNG_SIGNATURE = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];
// PNG chunks kept: the critical ones and three numeric colour chunks that cannot carry text.
const PNG_KEEP = new Set(["IHDR", "PLTE", "tRNS", "IDAT", "IEND", "gAMA", "cHRM", "sRGB"]);
// JPEG segments decoding needs: tables (DHT, DQT, DAC), restart interval (DRI), line count (DNL).
const JPEG_TABLES = new Set([0xc4, 0xdb, 0xcc, 0xdd, 0xdc]);
const JPEG_FRAMES = new Set([0xc0, 0xc1, 0xc2, 0xc3, 0xc5, 0xc6, 0xc7, 0xc9, 0xca, 0xcb, 0xcd, 0xce, 0xcf]);
// A fresh JFIF APP0 (version 1.01, 1:1 aspect, no thumbnail) and the Adobe APP14 header before its transform byte.
const JFIF = [0xff, 0xe0, 0, 16, 0x4a, 0x46, 0x49, 0x46, 0, 1, 1, 0, 0, 1, 0, 1, 0, 0];
const ADOBE = [0xff, 0xee, 0, 14, 0x41, 0x64, 0x6f, 0x62, 0x65, 0, 100, 0, 0, 0, 0];
const EXIF = [0x45, 0x78, 0x69, 0x66, 0, 0];
const ORIENTATION = 0x0112;
// A fresh APP1: "Exif", a big-endian TIFF header, IFD0 of one Orientation entry (SHORT, count 1); the value follows.
const EXIF_ORIENTATION = [0xff, 0xe1, 0, 34, ...EXIF, 0x4d, 0x4d, 0, 0x2a, 0, 0, 0, 8,
  0, 1, 0x01, 0x12, 0, 3, 0, 0, 0, 1, 0];

class Unparsed extends Error {}

const fail = (why) => { throw new Unparsed(why); };
const startsWith = (data, at, bytes) => bytes.every((b, i) => data[at + i] === b);

function entropyEnd(data, at) {
  // The offset of the first marker after entropy-coded data starting at `at` (stuffed 0xFF00 and RSTn skipped).
  for (let i = at; i + 1 < data.length; i++) {
    if (data[i] !== 0xff) continue;
    const next = data[i + 1];
    if (next !== 0x00 && !(next >= 0xd0 && next <= 0xd7)) return i;
  }
  return fail("the image data has no end");
}

function orientationOf(payload) {
  // The turn (2 to 8) an APP1 EXIF payload's IFD0 asks for, or 0 unless exactly one whole SHORT entry does.
  const tiff = payload.subarray(6);
  const little = startsWith(tiff, 0, [0x49, 0x49, 0x2a, 0]);
  if ((!little && !startsWith(tiff, 0, [0x4d, 0x4d, 0, 0x2a])) || tiff.length < 8) return 0;
  const u16 = (at) => (little ? tiff[at] | (tiff[at + 1] << 8) : (tiff[at] << 8) | tiff[at + 1]);
  const number = (at, size) => (size === 2 ? u16(at) : little ? u32le(tiff, at) : u32(tiff, at));
  const start = number(4, 4) + 2;
  if (start < 10 || start > tiff.length) return 0;
  const end = start + 12 * number(start - 2, 2);
  if (end > tiff.length) return 0;
  const found = [];
  for (let at = start; at < end; at += 12) if (number(at, 2) === ORIENTATION) found.push(at);
  if (found.length !== 1 || number(found[0] + 2, 2) !== 3 || number(found[0] + 4, 4) !== 1) return 0;
  const value = number(found[0] + 8, 2);
  return value >= 2 && value <= 8 ? value : 0;
}

export function rebuildJpeg(data) {
  // A new JPEG of the primary image's frame, tables and scans, or Unparsed.
  if (!startsWith(data, 0, [0xff, 0xd8])) fail("not a JPEG");
  const out = [];
  let frame = null;
  let scans = 0;
  let jfif = false;
  let adobe = null;
  let turn = null;
  let at = 2;
  for (;;) {
    if (at + 2 > data.length || data[at] !== 0xff) fail("a segment does not start with a marker");
    while (data[at + 1] === 0xff && at + 2 < data.length) at += 1;
    const marker = data[at + 1];
    if (marker === 0xd9) break;
    if (marker < 0xc0 || (marker >= 0xd0 && marker <= 0xd8)) fail("unexpected marker");
    if (at + 4 > data.length) fail("truncated segment");
    const length = (data[at + 2] << 8) | data[at + 3];
    const end = at + 2 + length;
    if (length < 2 || end > data.length) fail("truncated segment");
    const segment = data.subarray(at, end);
    if (JPEG_FRAMES.has(marker)) {
      if (frame) fail("two frames");
      frame = segment;
      out.push(segment);
    } else if (JPEG_TABLES.has(marker)) {
      out.push(segment);
    } else if (marker === 0xda) {
      if (!frame) fail("a scan before the frame");
      const stop = entropyEnd(data, end);
      out.push(data.subarray(at, stop));
      scans += 1;
      at = stop;
      continue;
    } else if (marker === 0xe0 && startsWith(segment, 4, [0x4a, 0x46, 0x49, 0x46, 0])) {
      jfif = true;
    } else if (marker === 0xee && length >= 14 && startsWith(segment, 4, [0x41, 0x64, 0x6f, 0x62, 0x65])) {
      adobe = segment[15];
    } else if (marker === 0xe1 && turn === null && !scans && startsWith(segment, 4, EXIF)) {
      turn = orientationOf(segment.subarray(4)); // the first EXIF before the image data, as decoders read it
    }
    at = end;
  }
  if (!frame || !scans) fail("no image data");
  const head = [...(adobe !== null ? [...ADOBE, adobe] : jfif ? JFIF : []),
    ...(turn ? [...EXIF_ORIENTATION, turn, 0, 0, 0, 0, 0, 0] : [])];
  return joined([Uint8Array.of(0xff, 0xd8, ...head), ...out, Uint8Array.of(0xff, 0xd9)]);
}

const CRC_TABLE = Array.from({ length: 256 }, (_, n) => {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  return c >>> 0;
});

function crc32(bytes) {
  let c = 0xffffffff;
  for (const b of bytes) c = CRC_TABLE[(c ^ b) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

const u32 = (data, at) => ((data[at] << 24) >>> 0) + (data[at + 1] << 16) + (data[at + 2] << 8) + data[at + 3];

export function rebuildPng(data) {
  // A new PNG of the critical chunks and numeric colour chunks, every CRC checked, or Unparsed.
  if (data.length < 8 || !startsWith(data, 0, PNG_SIGNATURE)) fail("not a PNG");
  const out = [data.subarray(0, 8)];
  let at = 8;
  let idat = false;
  for (let first = true; ; first = false) {
    if (at + 12 > data.length) fail("truncated chunk");
    const length = u32(data, at);
    const type = String.fromCharCode(...data.subarray(at + 4, at + 8));
    const end = at + 12 + length;
    if (!/^[A-Za-z]{4}$/.test(type) || end > data.length) fail("damaged chunk");
    if (crc32(data.subarray(at + 4, end - 4)) !== u32(data, end - 4)) fail("a chunk fails its CRC");
    if (first !== (type === "IHDR")) fail("IHDR is not first");
    if (PNG_KEEP.has(type)) out.push(data.subarray(at, end));
    else if (type[0] < "a") fail(`unknown critical chunk ${type}`);
    idat ||= type === "IDAT";
    at = end;
    if (type === "IEND") break;
  }
  if (!idat) fail("no image data");
  return joined(out);
}

const u32le = (data, at) => data[at] + (data[at + 1] << 8) + (data[at + 2] << 16) + ((data[at + 3] << 24) >>> 0);
const ascii = (data, at) => String.fromCharCode(...data.subarray(at, at + 4));

export function rebuildWebp(data) {
  // A new still WebP of its bitstream (VP8 or VP8L) and alpha (ALPH), with a fresh VP8X when there is alpha.
  const size = u32le(data, 4) + 8;
  if (ascii(data, 0) !== "RIFF" || ascii(data, 8) !== "WEBP" || size > data.length || size % 2) fail("not a whole WebP");
  const chunks = new Map();
  for (let at = 12; at < size;) {
    if (at + 8 > size) fail("truncated chunk");
    const kind = ascii(data, at);
    const length = u32le(data, at + 4);
    const end = at + 8 + length;
    if (end > size) fail("truncated chunk");
    if (chunks.has(kind) || kind === "ANIM" || kind === "ANMF") fail("an animated WebP, or a chunk twice");
    chunks.set(kind, data.subarray(at, end + (length % 2)));
    at = end + (length % 2);
  }
  const image = ["VP8 ", "VP8L"].filter((k) => chunks.has(k)).map((k) => chunks.get(k));
  const alpha = chunks.get("ALPH");
  if (image.length !== 1 || (alpha && (!chunks.has("VP8 ") || !chunks.has("VP8X")))) fail("no single image bitstream");
  let kept = image;
  if (alpha) {
    const vp8x = chunks.get("VP8X");
    if (vp8x.length !== 18) fail("damaged VP8X chunk");
    kept = [Uint8Array.of(0x56, 0x50, 0x38, 0x58, 10, 0, 0, 0, 0x10, 0, 0, 0, ...vp8x.subarray(12, 18)), alpha, image[0]];
  }
  const length = 4 + kept.reduce((n, c) => n + c.length, 0);
  const head = Uint8Array.of(0x52, 0x49, 0x46, 0x46, length & 0xff, (length >> 8) & 0xff, (length >> 16) & 0xff, length >>> 24,
    0x57, 0x45, 0x42, 0x50);
  return joined([head, ...kept]);
}

function joined(pieces) {
  const out = new Uint8Array(pieces.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of pieces) { out.set(p, at); at += p.length; }
  return out;
}

export function kindOf(data) {
  // The image type the first bytes show ("image/jpeg", "image/png", "image/webp"), or null.
  if (startsWith(data, 0, [0xff, 0xd8, 0xff])) return "image/jpeg";
  if (startsWith(data, 0, PNG_SIGNATURE)) return "image/png";
  return data.length >= 12 && ascii(data, 0) === "RIFF" && ascii(data, 8) === "WEBP" ? "image/webp" : null;
}

const REBUILD = { "image/jpeg": rebuildJpeg, "image/png": rebuildPng, "image/webp": rebuildWebp };

export async function clean(file) {
  // {blob, cleaned}: a rebuilt copy of the photo, or the file as it is with cleaned = false (also when the
  // browser cannot read it whole into memory: the reporter is told either way).
  try {
    const type = kindOf(new Uint8Array(await file.slice(0, 12).arrayBuffer()));
    if (!type) return { blob: file, cleaned: false };
    return { blob: new Blob([REBUILD[type](new Uint8Array(await file.arrayBuffer()))], { type }), cleaned: true };
  } catch (e) {
    return { blob: file, cleaned: false };
  }
}
