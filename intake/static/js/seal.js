// The sealed report format of docs/format.md (headers 1 and 2, body version 2) on libsodium.js: sealing, opening.
// Section numbers (§) refer to docs/format.md; tests/vectors/*.vec are run against this module.

import { strictJson, wellFormed } from "./bodyjson.js";

export { strictJson };

const S = () => globalThis.sodium;
const enc = new TextEncoder();

export const CHUNK = 65536;
export const ABYTES = 17;
export const SS_HEADER = 24;
export const SEALED_CHUNK = CHUNK + ABYTES;
export const PART = 1 << 20;
export const MAX_STANZAS = 16;
export const MAX_ATTACHMENTS = 32;
const MAGIC = enc.encode("INTK");
const VERSION = 1; // the header of §4, and the version byte of the body's additional data whatever the header's
const REPORTER_VERSION = 2; // a header whose stanza 0 is the reporter's stanza (§4.1)
const KIT_VERSION = 3; // the same, sealed by the offline kit: stanza 0 by the carried file's signer (§13.1)
const BODY_VERSION = 2;
const MAX_SIZE = 2 ** 32;
const STANZA = 16 + 80;
const BODY_AD = new Uint8Array([...MAGIC, VERSION]);
const PROBE = Uint8Array.from({ length: 32 }, (_, i) => i + 1);
const RECIPIENT_PREFIX = "intake-recipient-1:";
const IDENTITY_PREFIX = "INTAKE-IDENTITY-1:";

export class FormatError extends Error {
  // A failure of one layer; `expect` is its name in docs/format.md §10.
  constructor(expect, message) {
    super(message);
    this.expect = expect;
  }
}

export class Sha256 {
  // Incremental SHA-256 from libsodium.js (sumo build): update() any number of times, then hex() once.
  constructor() { this.state = S().crypto_hash_sha256_init(); }

  update(data) { S().crypto_hash_sha256_update(this.state, data); }

  hex() { return S().to_hex(S().crypto_hash_sha256_final(this.state)); }
}

export async function ready() {
  // Load libsodium.js once the page is up (the form works meanwhile), then wait until its WebAssembly runs.
  if (globalThis.sodium) return;
  const { default: sodium } = await import("../vendor/libsodium-wrappers-sumo-0.8.4.mjs");
  await sodium.ready;
  globalThis.sodium = sodium;
}

export function concat(...arrays) {
  // Join byte arrays.
  const out = new Uint8Array(arrays.reduce((n, a) => n + a.length, 0));
  let at = 0;
  for (const a of arrays) { out.set(a, at); at += a.length; }
  return out;
}

function be(value, bytes) {
  // Big-endian unsigned integer of `bytes` bytes.
  const out = new Uint8Array(bytes);
  for (let i = bytes - 1; i >= 0; i--) { out[i] = value % 256; value = Math.floor(value / 256); }
  return out;
}

function readBe(data, at, bytes) {
  let value = 0;
  for (let i = 0; i < bytes; i++) value = value * 256 + data[at + i];
  return value;
}

export function b64url(data) {
  // Base64url without padding.
  return S().to_base64(data, S().base64_variants.URLSAFE_NO_PADDING);
}

function fromB64url(text, length) {
  const data = S().from_base64(text, S().base64_variants.URLSAFE_NO_PADDING);
  if (data.length !== length || b64url(data) !== text) throw new Error("not canonical base64url");
  return data;
}

export function keyId(publicKey) {
  // H(16, "intake-key-id-v1" || pk) in hex (§2.2).
  return S().to_hex(S().crypto_generichash(16, concat(enc.encode("intake-key-id-v1"), publicKey), null));
}

export function checkPublicKey(publicKey) {
  // Refuse a key that is not 32 bytes or of low order (§2.1).
  if (publicKey.length !== 32) throw new Error("a public key must be 32 bytes");
  let shared;
  try { shared = S().crypto_scalarmult(PROBE, publicKey); } catch (e) { throw new Error("low-order public key"); }
  if (shared.every((b) => b === 0)) throw new Error("low-order public key");
}

export function parseRecipient(text) {
  // `intake-recipient-1:...` to {publicKey, keyId} (§2.1).
  if (typeof text !== "string" || !text.startsWith(RECIPIENT_PREFIX)) throw new Error("not an intake recipient");
  const publicKey = fromB64url(text.slice(RECIPIENT_PREFIX.length), 32);
  checkPublicKey(publicKey);
  return { publicKey, keyId: keyId(publicKey) };
}

export function parseIdentity(text) {
  // `INTAKE-IDENTITY-1:...` to {secretKey, publicKey, keyId} (§2.3).
  if (!text.startsWith(IDENTITY_PREFIX)) throw new Error("not an intake identity");
  const secretKey = fromB64url(text.slice(IDENTITY_PREFIX.length), 32);
  const publicKey = S().crypto_scalarmult_base(secretKey);
  return { secretKey, publicKey, keyId: keyId(publicKey) };
}

export function derive(reportKey, id) {
  // KDF(id, K) = crypto_kdf_derive_from_key(32, id, "intake01", K) (§3).
  return S().crypto_kdf_derive_from_key(32, id, "intake01", reportKey);
}

export function newReportKey() {
  // A fresh random K.
  return S().randombytes_buf(32);
}

function sealBy(message, publicKey, signer) {
  // crypto_box_seal with the X25519 form of a carried file's Ed25519 signer as its ephemeral key (§13.1).
  const secret = S().crypto_sign_ed25519_sk_to_curve25519(signer.privateKey);
  const ephemeral = S().crypto_scalarmult_base(secret);
  const nonce = S().crypto_generichash(24, concat(ephemeral, publicKey), null);
  return concat(ephemeral, S().crypto_box_easy(message, nonce, publicKey, secret));
}

export function sealHeader(reportKey, recipients, reporter = null, signer = null) {
  // MAGIC, version, n, one stanza per recipient, MAC (§4). With `reporter` (the reply recipient of the report's
  // codename, from codename.js) the header is version 2 and its stanza 0 seals K to the reporter (§4.1); with a
  // carried file's `signer` too (crypto_sign_keypair), version 3, stanza 0 sealed by that signer (§13.1).
  const room = MAX_STANZAS - (reporter ? 1 : 0);
  if (recipients.length < 1 || recipients.length > room) throw new Error(`a report needs 1 to ${room} reviewer keys`);
  const ids = recipients.map((r) => r.keyId);
  if (new Set(ids).size !== ids.length) throw new Error("the same recipient is listed twice");
  if (reporter && ids.includes(reporter.keyId)) throw new Error("the reply key is a reviewer's key");
  const all = reporter ? [reporter, ...recipients] : recipients;
  const stanzas = all.map((r, i) => concat(S().from_hex(r.keyId),
    i === 0 && reporter && signer ? sealBy(reportKey, r.publicKey, signer) : S().crypto_box_seal(reportKey, r.publicKey)));
  const version = reporter ? (signer ? KIT_VERSION : REPORTER_VERSION) : VERSION;
  const signed = concat(MAGIC, new Uint8Array([version, all.length]), ...stanzas);
  return concat(signed, S().crypto_generichash(32, signed, derive(reportKey, 1)));
}

export function paddedSize(jsonLength) {
  // The smallest power of two >= 4 + json length and >= 1 KiB, at most 1 MiB (§5).
  let size = 1024;
  while (size < 4 + jsonLength) size *= 2;
  if (size > 1 << 20) throw new Error("the report is too long: shorten the description");
  return size;
}

export function sealBody(reportKey, fields, attachments, replyKey = null) {
  // Pad and encrypt the body JSON under body_key (§5); attachments are sealed padded (§7.1).
  const body = { version: BODY_VERSION, fields, attachments, reply_key: replyKey };
  const json = enc.encode(JSON.stringify(body, (_, value) => (typeof value === "string" ? wellFormed(value) : value)));
  const padded = new Uint8Array(paddedSize(json.length));
  padded.set(be(json.length, 4), 0);
  padded.set(json, 4);
  const nonce = S().randombytes_buf(24);
  return concat(nonce, S().crypto_aead_xchacha20poly1305_ietf_encrypt(padded, BODY_AD, null, nonce, derive(reportKey, 2)));
}

export function padme(size) {
  // The Padmé size a file of `size` bytes is padded to inside its stream (§7.1).
  if (size < 2) return size;
  let exponent = 0;
  while (2 ** (exponent + 1) <= size) exponent++;
  const step = 2 ** (exponent - exponent.toString(2).length);
  return Math.ceil(size / step) * step;
}

export function sealedLength(size) {
  // L = 24 + size + 17 * (floor(size / 65536) + 1) (§7).
  return SS_HEADER + size + ABYTES * (Math.floor(size / CHUNK) + 1);
}

export class StreamSealer {
  // Seals attachment `index` chunk by chunk (§7): give it exactly 65,536 bytes at a time, then the rest.
  constructor(reportKey, index) {
    const { state, header } = S().crypto_secretstream_xchacha20poly1305_init_push(derive(reportKey, 16 + index));
    this.state = state;
    this.header = header;
  }

  push(chunk, last) {
    // Seal one chunk; the last one (fewer than 65,536 bytes, maybe none) carries TAG_FINAL.
    const tag = last ? S().crypto_secretstream_xchacha20poly1305_TAG_FINAL : S().crypto_secretstream_xchacha20poly1305_TAG_MESSAGE;
    return S().crypto_secretstream_xchacha20poly1305_push(this.state, chunk, null, tag);
  }
}

// Opening (§4-§8): used by the vectors test; a reviewer opens reports with intake-review.

export function readEnvelope(data) {
  // The framing of a sealed report file (§8).
  const fail = (what) => { throw new FormatError("malformed envelope", `the sealed report file ends inside ${what}`); };
  if (data.length < 6) fail("the header");
  const n = stanzaCount(data.subarray(0, 6));
  let at = 38 + STANZA * n;
  if (data.length < at) fail("the header");
  const header = data.subarray(0, at);
  if (data.length < at + 4) fail("the body length");
  const bodyLength = readBe(data, at, 4);
  at += 4;
  if (data.length < at + bodyLength) fail("the body");
  const body = data.subarray(at, at + bodyLength);
  at += bodyLength;
  if (data.length < at + 1) fail("the attachment count");
  const count = data[at++];
  if (count > MAX_ATTACHMENTS) throw new FormatError("malformed envelope", "too many attachments");
  const streams = [];
  for (let i = 0; i < count; i++) {
    if (data.length < at + 8) throw new FormatError("truncated attachment", "the file ends before an attachment");
    const length = readBe(data, at, 8);
    at += 8;
    if (data.length < at + length) throw new FormatError("truncated attachment", "the file ends inside an attachment");
    streams.push(data.subarray(at, at + length));
    at += length;
  }
  if (at !== data.length) throw new FormatError("malformed envelope", "bytes after the last attachment");
  return { header, body, streams };
}

function stanzaCount(prefix) {
  // §4 steps 1-3 on the first 6 bytes.
  if (prefix.length < 6 || MAGIC.some((b, i) => prefix[i] !== b)) throw new FormatError("malformed header", "not an intake header");
  if (![VERSION, REPORTER_VERSION, KIT_VERSION].includes(prefix[4])) {
    throw new FormatError("unsupported version", `format version ${prefix[4]} is not supported`);
  }
  const n = prefix[5];
  if (n < 1 || n > MAX_STANZAS) throw new FormatError("malformed header", `a header must have 1 to 16 stanzas, not ${n}`);
  if (prefix[4] !== VERSION && n < 2) throw new FormatError("malformed header", "a reporter's header needs a reviewer stanza");
  return n;
}

export function headerVersion(raw) {
  // The version byte of a header that parseHeader accepted: 2 or 3 when stanza 0 is the reporter's (§4.1).
  return raw[4];
}

export function parseHeader(raw) {
  // Structure of a header without any key (§4 steps 1-4): its key ids in order.
  const n = stanzaCount(raw);
  if (raw.length !== 38 + STANZA * n) throw new FormatError("malformed header", "wrong header length");
  const stanzas = [];
  for (let i = 0; i < n; i++) {
    const at = 6 + i * STANZA;
    stanzas.push({ keyId: S().to_hex(raw.subarray(at, at + 16)), sealed: raw.subarray(at + 16, at + STANZA) });
  }
  if (new Set(stanzas.map((s) => s.keyId)).size !== n) throw new FormatError("malformed header", "duplicate key id");
  return stanzas;
}

export function openHeader(raw, identities) {
  // Recover K with one of `identities` and check the MAC (§4 steps 5-7).
  const stanzas = parseHeader(raw);
  let tried = false;
  for (const { keyId: kid, sealed } of stanzas) {
    const me = identities.find((i) => i.keyId === kid);
    if (!me) continue;
    tried = true;
    let reportKey;
    try { reportKey = S().crypto_box_seal_open(sealed, me.publicKey, me.secretKey); } catch (e) { continue; }
    if (reportKey.length !== 32) continue;
    const mac = S().crypto_generichash(32, raw.subarray(0, raw.length - 32), derive(reportKey, 1));
    if (!S().memcmp(mac, raw.subarray(raw.length - 32))) throw new FormatError("header mac", "the header failed authentication");
    return reportKey;
  }
  if (tried) throw new FormatError("header mac", "a stanza for this identity is damaged");
  throw new FormatError("no match", "this report is not sealed to any of these identities");
}

const BODY_SIZES = new Set(Array.from({ length: 11 }, (_, k) => 40 + (1 << (10 + k))));

function openBody(reportKey, sealed, attachments) {
  // Decrypt, unpad and check the body (§5).
  const damaged = (why) => new FormatError("damaged body", why);
  if (!BODY_SIZES.has(sealed.length)) throw damaged("impossible body size");
  let padded;
  try {
    padded = S().crypto_aead_xchacha20poly1305_ietf_decrypt(null, sealed.subarray(24), BODY_AD, sealed.subarray(0, 24), derive(reportKey, 2));
  } catch (e) { throw damaged("the body failed authentication"); }
  const length = readBe(padded, 0, 4);
  if (length > padded.length - 4 || padded.subarray(4 + length).some((b) => b !== 0)) throw damaged("bad padding");
  let body;
  try {
    body = parseBody(new TextDecoder("utf-8", { fatal: true, ignoreBOM: true }).decode(padded.subarray(4, 4 + length)));
  } catch (e) { throw damaged(`not a valid body: ${e.message}`); }
  if (body.attachments.length !== attachments) throw damaged("the manifest lists another number of attachments");
  return body;
}

export function parseBody(text) {
  // The body of a JSON text under every rule of §5.1, as an opener returns it; throws if any rule fails.
  return checkBody(strictJson(text));
}

function checkBody(body) {
  // The shape of §5.1 rule 6; unknown members are dropped (rule 7). Returns the body as an opener gives it.
  const isObject = (v) => typeof v === "object" && v !== null && !Array.isArray(v);
  const has = (o, k) => Object.prototype.hasOwnProperty.call(o, k);
  if (!isObject(body) || !has(body, "version") || !has(body, "fields") || !has(body, "attachments") || !has(body, "reply_key")) {
    throw new Error("a member is missing");
  }
  if (body.version !== 1 && body.version !== BODY_VERSION) throw new Error("unsupported body version");
  if (!isObject(body.fields) || !Object.values(body.fields).every((v) => typeof v === "string")) throw new Error("bad fields");
  if (!Array.isArray(body.attachments) || body.attachments.length > MAX_ATTACHMENTS) throw new Error("bad manifest");
  const attachments = body.attachments.map((a) => {
    if (!isObject(a) || typeof a.name !== "string" || typeof a.type !== "string" || !Number.isInteger(a.size)
        || a.size < 0 || a.size > MAX_SIZE || typeof a.sha256 !== "string" || !/^[0-9a-f]{64}$/.test(a.sha256)) {
      throw new Error("bad manifest entry");
    }
    const entry = { name: a.name, type: a.type, size: a.size, sha256: a.sha256 };
    if (has(a, "original_sha256")) {
      // The file before any cleaning (§5.1): optional, and then exactly 64 lower-case hex digits.
      if (typeof a.original_sha256 !== "string" || !/^[0-9a-f]{64}$/.test(a.original_sha256)) throw new Error("bad original_sha256");
      entry.original_sha256 = a.original_sha256;
    }
    return entry;
  });
  if (body.reply_key !== null) parseRecipient(body.reply_key);
  return { version: body.version, fields: body.fields, attachments, reply_key: body.reply_key };
}

export function openStream(reportKey, index, stream, entry, padded) {
  // Open one attachment stream and check it against its manifest entry, padding included (§7, §7.1).
  const damaged = (why) => new FormatError("damaged attachment", why);
  if (stream.length < SS_HEADER) throw new FormatError("truncated attachment", "the stream ends inside its header");
  const state = S().crypto_secretstream_xchacha20poly1305_init_pull(stream.subarray(0, SS_HEADER), derive(reportKey, 16 + index));
  const pieces = [];
  const pull = (sealed) => {
    let out;
    try { out = S().crypto_secretstream_xchacha20poly1305_pull(state, sealed, null); } catch (e) { out = false; }
    if (!out) throw damaged("a chunk failed authentication");
    return out;
  };
  let at = SS_HEADER;
  while (stream.length - at >= SEALED_CHUNK) {
    const { message, tag } = pull(stream.subarray(at, at + SEALED_CHUNK));
    if (tag !== S().crypto_secretstream_xchacha20poly1305_TAG_MESSAGE) throw damaged("a full chunk carries the wrong tag");
    pieces.push(message);
    at += SEALED_CHUNK;
  }
  if (at === stream.length) throw new FormatError("truncated attachment", "the stream has no final chunk");
  const { message, tag } = pull(stream.subarray(at));
  if (tag !== S().crypto_secretstream_xchacha20poly1305_TAG_FINAL) throw damaged("the last chunk is not final");
  pieces.push(message);
  const plain = concat(...pieces);
  if (plain.length !== (padded ? padme(entry.size) : entry.size)) throw damaged("the size differs from the manifest");
  if (plain.subarray(entry.size).some((b) => b !== 0)) throw damaged("the padding is not zero");
  const data = plain.subarray(0, entry.size);
  const sha = new Sha256();
  sha.update(data);
  if (sha.hex() !== entry.sha256) throw damaged("the SHA-256 differs from the manifest");
  return data;
}

export function openReportHead(header, body, attachments, identities) {
  // Open a report's header and body (§4, §5) with identities from parseIdentity, or a reporter's reply identity
  // from codename.js, and check a version 2 or 3 header's stanza 0 against the body's reply key (§4.1): {reportKey, body}.
  const reportKey = openHeader(header, identities);
  const opened = openBody(reportKey, body, attachments);
  if (headerVersion(header) !== VERSION) {
    const reporter = parseHeader(header)[0].keyId;
    let reply = null;
    try { reply = opened.reply_key === null ? null : parseRecipient(opened.reply_key); } catch (e) { reply = null; }
    if (!reply || reply.keyId !== reporter) throw new FormatError("wrong thread", "the extra stanza is not the report's own reply key");
  }
  return { reportKey, body: opened };
}

export function openEnvelope(data, identities) {
  // Open a whole sealed report file (§8) with identities from parseIdentity: {body, files}.
  const { header, body, streams } = readEnvelope(data);
  const { reportKey, body: opened } = openReportHead(header, body, streams.length, identities);
  const padded = opened.version >= BODY_VERSION;
  return { body: opened, files: streams.map((s, i) => openStream(reportKey, i, s, opened.attachments[i], padded)) };
}
