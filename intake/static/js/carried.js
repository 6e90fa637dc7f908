// Carried files (docs/format.md §13), read: the /sealed page checks one before sending it (the kit, js/kit.js,
// writes them). tests/vectors/*.carried are run against readCarried.

import { FormatError, concat, headerVersion, parseHeader } from "./seal.js";

const MAGIC = new TextEncoder().encode("INTKFILE");
const VERSION = 2;
const FIELDS = 81; // magic .. signer: bytes 8 to 81 are signed (§13.1)
const PREFIX = FIELDS + 64;
const DOMAIN = new TextEncoder().encode("intake-carried-v2");

export function carriedSigned(fields, header, body, lengths) {
  // What a carried file's signature covers (§13.1): the domain, version .. signer, H(header), H(body), count, lengths.
  const H = (x) => globalThis.sodium.crypto_generichash(32, x, null);
  return concat(DOMAIN, fields, H(header), H(body), new Uint8Array([lengths.length]), ...lengths.map((n) => be(n, 8)));
}

function be(value, bytes) {
  // Big-endian unsigned integer of `bytes` bytes (exact up to 2^53).
  const out = new Uint8Array(bytes);
  for (let i = bytes - 1; i >= 0; i--) { out[i] = value % 256; value = Math.floor(value / 256); }
  return out;
}

const bad = (why) => new FormatError("carried signature", why);

function checkSealer(head, header) {
  // §13.2 step 6: a version 3 header whose stanza 0 the file's signer sealed.
  const S = globalThis.sodium;
  if (headerVersion(header) !== 3) throw bad("the header is not the kit's (version 3)");
  let ephemeral = null;
  try { ephemeral = S.crypto_sign_ed25519_pk_to_curve25519(head.slice(49, FIELDS)); } catch (e) { throw bad("not a valid signer"); }
  if (!S.memcmp(ephemeral, header.slice(6 + 16, 6 + 48))) throw bad("the signer did not seal the header");
}

function checkSigned(head, header, body, lengths) {
  // §13.2 step 7: the signature over the prefix, header, body, count and stream lengths.
  const signed = carriedSigned(head.slice(8, FIELDS), header, body, lengths);
  if (!globalThis.sodium.crypto_sign_verify_detached(head.slice(FIELDS, PREFIX), signed, head.slice(49, FIELDS))) {
    throw bad("the file was changed on the way");
  }
}
const STANZA = 96;
const MAX_ATTACHMENTS = 32;
const BODY_SIZES = new Set(Array.from({ length: 11 }, (_, k) => 40 + (1 << (10 + k))));

function readBe(data, at, bytes) {
  let value = 0;
  for (let i = 0; i < bytes; i++) value = value * 256 + data[at + i];
  return value;
}

function framedStream(length) {
  // Whether a sealed stream can be `length` bytes long (§7: L >= 41 and (L - 41) mod 65553 <= 65535).
  return length >= 41 && (length - 41) % 65553 <= 65535;
}

export async function readCarried(blob) {
  // The framing of a carried file (§13.2), read without any key from a Blob or File:
  // {serial, lookup, header, body, streams: [{offset, length}]}, or a FormatError.
  const envelope = (why) => new FormatError("malformed envelope", why);
  const read = async (at, n) => new Uint8Array(await blob.slice(at, at + n).arrayBuffer());
  const head = await read(0, PREFIX + 6);
  if (head.length < MAGIC.length || MAGIC.some((b, i) => head[i] !== b)) throw envelope("not a carried file");
  if (head[8] === 1) throw new FormatError("unsupported version", "a file of an older kit: get a new kit");
  if (head[8] !== VERSION) throw new FormatError("unsupported version", `carried file version ${head[8]}`);
  if (head.length < PREFIX + 6) throw envelope("the file ends inside its head");
  let at = PREFIX + 38 + STANZA * head[PREFIX + 5];
  const header = await read(PREFIX, at - PREFIX);
  try {
    parseHeader(header); // §4 steps 1-4
  } catch (e) {
    if (header.length === at - PREFIX || e.message !== "wrong header length") throw e;
    throw envelope("the file ends inside the header");
  }
  const lengthBytes = await read(at, 4);
  if (lengthBytes.length !== 4) throw envelope("the file ends inside the header");
  const bodyLength = readBe(lengthBytes, 0, 4);
  if (!BODY_SIZES.has(bodyLength)) throw envelope("impossible body size");
  at += 4;
  const body = await read(at, bodyLength);
  at += bodyLength;
  const count = (await read(at, 1))[0];
  if (body.length !== bodyLength || count === undefined) throw envelope("the file ends inside the body");
  checkSealer(head, header);
  if (count > MAX_ATTACHMENTS) throw envelope("too many attachments");
  at += 1;
  const streams = [];
  for (let i = 0; i < count; i++) {
    const raw = await read(at, 8);
    if (raw.length !== 8) throw new FormatError("truncated attachment", "the file ends before an attachment");
    const length = readBe(raw, 0, 8);
    at += 8;
    if (at + length > blob.size) throw new FormatError("truncated attachment", "the file ends inside an attachment");
    if (!framedStream(length)) throw envelope("an attachment cannot be a sealed stream of that length");
    streams.push({ offset: at, length });
    at += length;
  }
  checkSigned(head, header, body, streams.map((s) => s.length));
  if (at !== blob.size) throw envelope("bytes after the last attachment");
  return { serial: readBe(head, 9, 8), lookup: head.slice(17, 49), signer: head.slice(49, FIELDS),
    signature: head.slice(FIELDS, PREFIX), header, body, streams };
}
