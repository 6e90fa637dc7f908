// Messages of a case's thread (docs/format.md §12.4): seal a follow-up, open replies and follow-ups.

import {
  CHUNK, FormatError, MAX_ATTACHMENTS, MAX_STANZAS, Sha256, StreamSealer, b64url, concat, derive, headerVersion,
  newReportKey, openHeader, openStream, paddedSize, parseHeader, readEnvelope, sealHeader,
} from "./seal.js";

const S = () => globalThis.sodium;
const enc = new TextEncoder();
const BODY_AD = new Uint8Array([0x49, 0x4e, 0x54, 0x4b, 1]);
const MESSAGE_BODY_KEY_ID = 3;
const THREAD_INPUT_ID = 4;
const MESSAGE_VERSION = 2;
export const SENDERS = ["reviewer", "reporter"];
const MEMBERS = { 1: "attachments,from,text,version", 2: "attachments,from,text,thread,version" };
const ENTRY = "name,sha256,size,type";
const BODY_SIZES = new Set(Array.from({ length: 11 }, (_, k) => 40 + (1 << (10 + k))));

export function sealMessageHeader(messageKey, reply, reviewers) {
  // Stanza 0 to the thread's reply recipient, then one per reviewer recipient (§12.4).
  if (reviewers.length > MAX_STANZAS - 1) throw new Error("a message can be sealed to at most 15 reviewer keys");
  if (reviewers.some((r) => r.keyId === reply.keyId)) throw new Error("the reply key is a reviewer's key");
  return sealHeader(messageKey, [reply, ...reviewers]);
}

export function threadMac(messageKey, reply) {
  // H(32, KDF(4, K), key = H(32, "intake-thread-v1" || reply_pk)) in base64url: binds a message to its thread (§12.4).
  const threadKey = S().crypto_generichash(32, concat(new TextEncoder().encode("intake-thread-v1"), reply.publicKey), null);
  return b64url(S().crypto_generichash(32, derive(messageKey, THREAD_INPUT_ID), threadKey));
}

export function sealMessageBody(messageKey, reply, from, text, attachments) {
  // The message JSON (version 2, with its thread MAC), padded as §5 says, under msg_body_key = KDF(3, K).
  if (!SENDERS.includes(from)) throw new Error("a message is from the reviewer or the reporter");
  if (text === "" && attachments.length === 0) throw new Error("a message needs a text or an attachment");
  const thread = threadMac(messageKey, reply);
  const json = new TextEncoder().encode(JSON.stringify({ version: MESSAGE_VERSION, from, text, attachments, thread }));
  const padded = new Uint8Array(paddedSize(json.length));
  new DataView(padded.buffer).setUint32(0, json.length);
  padded.set(json, 4);
  const nonce = S().randombytes_buf(24);
  return concat(nonce, S().crypto_aead_xchacha20poly1305_ietf_encrypt(padded, BODY_AD, null, nonce,
    derive(messageKey, MESSAGE_BODY_KEY_ID)));
}

function sealFile(messageKey, index, data) {
  // One attachment held in memory, as a stream (§7), and its manifest entry's size and SHA-256.
  const sealer = new StreamSealer(messageKey, index);
  const sha = new Sha256();
  const pieces = [sealer.header];
  for (let at = 0; ; at += CHUNK) {
    const chunk = data.subarray(at, at + CHUNK);
    sha.update(chunk);
    const last = data.length - at < CHUNK;
    pieces.push(sealer.push(chunk, last));
    if (last) break;
  }
  return { stream: concat(...pieces), size: data.length, sha256: sha.hex() };
}

export function sealMessage(reviewers, reply, from, text, files = []) {
  // Seal a whole message in memory: files are {name, type, data}; returns {header, body, streams}.
  if (files.length > MAX_ATTACHMENTS) throw new Error("a message may carry at most 32 attachments");
  const messageKey = newReportKey();
  const sealed = files.map((f, i) => ({ ...sealFile(messageKey, i, f.data), name: f.name, type: f.type }));
  const manifest = sealed.map(({ name, type, size, sha256 }) => ({ name, type, size, sha256 }));
  const body = sealMessageBody(messageKey, reply, from, text, manifest);
  return { header: sealMessageHeader(messageKey, reply, reviewers), body, streams: sealed.map((s) => s.stream) };
}

export function messageFile({ header, body, streams }) {
  // A sealed message as one file, laid out as a sealed report file (§8).
  const length = (n, bytes) => {
    const out = new Uint8Array(bytes);
    new DataView(out.buffer).setUint32(bytes - 4, n);
    return out;
  };
  const parts = streams.flatMap((s) => [length(s.length, 8), s]);
  return concat(header, length(body.length, 4), body, new Uint8Array([streams.length]), ...parts);
}

function checkThread(header, reply) {
  // §12.4 steps 1-2: at least two stanzas, and stanza 0 sealed to this thread's reply recipient.
  const stanzas = parseHeader(header);
  if (stanzas.length < 2) throw new FormatError("malformed header", "a message header needs a reviewer stanza");
  if (headerVersion(header) !== 1) throw new FormatError("malformed header", "a message header is version 1");
  if (stanzas[0].keyId !== reply.keyId) throw new FormatError("wrong thread", "this message belongs to another thread");
}

const isObject = (v) => typeof v === "object" && v !== null && !Array.isArray(v);
const isInteger = (v) => typeof v === "number" && Number.isInteger(v);
const members = (v) => Object.keys(v).sort().join(",");
// A string of Unicode scalar values: with the u flag, only a lone surrogate matches.
const isText = (v) => typeof v === "string" && !/[\uD800-\uDFFF]/u.test(v);

function checkMessage(value, streams) {
  // The exact shape of a message body (§12.4).
  const damaged = (why) => new FormatError("damaged body", why);
  if (!isObject(value) || !isInteger(value.version) || !MEMBERS[value.version]) throw damaged("not a version 1 or 2 message");
  if (members(value) !== MEMBERS[value.version]) throw damaged("not exactly the members of a message");
  if (value.version === 2 && !(typeof value.thread === "string" && /^[A-Za-z0-9_-]{42}[AEIMQUYcgkosw048]$/.test(value.thread))) {
    throw damaged("the thread MAC is not 32 bytes in base64url");
  }
  if (!SENDERS.includes(value.from) || !isText(value.text) || !Array.isArray(value.attachments)) {
    throw damaged("from, text or attachments of the wrong type");
  }
  const manifest = value.attachments;
  if (manifest.length > MAX_ATTACHMENTS || manifest.length !== streams) throw damaged("wrong number of attachments");
  for (const a of manifest) {
    if (!isObject(a) || members(a) !== ENTRY || !isText(a.name) || !isText(a.type)
        || !isInteger(a.size) || a.size < 0 || typeof a.sha256 !== "string" || !/^[0-9a-f]{64}$/.test(a.sha256)) {
      throw damaged("bad manifest entry");
    }
  }
  if (value.text === "" && manifest.length === 0) throw damaged("an empty message");
}

function openMessageBody(messageKey, sealed, streams) {
  // Decrypt, unpad and check a message body (§5, §12.4).
  const damaged = (why) => new FormatError("damaged body", why);
  if (!BODY_SIZES.has(sealed.length)) throw damaged("impossible body size");
  let padded;
  try {
    padded = S().crypto_aead_xchacha20poly1305_ietf_decrypt(null, sealed.subarray(24), BODY_AD, sealed.subarray(0, 24),
      derive(messageKey, MESSAGE_BODY_KEY_ID));
  } catch (e) { throw damaged("the body failed authentication"); }
  const length = new DataView(padded.buffer, padded.byteOffset).getUint32(0);
  if (length > padded.length - 4 || padded.subarray(4 + length).some((b) => b !== 0)) throw damaged("bad padding");
  let value;
  try {
    value = JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(padded.subarray(4, 4 + length)));
  } catch (e) { throw damaged("not UTF-8 JSON"); }
  checkMessage(value, streams);
  return value;
}

export function openMessageHead(header, body, attachments, identities, reply, sender) {
  // Open the header and body of a message with `attachments` streams, of the thread whose reply recipient is
  // `reply`, recorded as from `sender` (§12.4 steps 1-5): {messageKey, body}.
  checkThread(header, reply);
  const messageKey = openHeader(header, identities);
  const opened = openMessageBody(messageKey, body, attachments);
  if (opened.version === 2 && !S().memcmp(enc.encode(opened.thread), enc.encode(threadMac(messageKey, reply)))) {
    throw new FormatError("thread mac", "the message is not bound to this thread: it was forged or moved");
  }
  if (opened.from !== sender) throw new FormatError("wrong sender", "the message says another sender than the store");
  // Bound: the thread MAC was checked, or the reporter opened stanza 0 (a version 1 message opened by a reviewer
  // could have been sealed by anyone who can write the store).
  return { messageKey, body: opened, bound: opened.version === 2 || openedByReporter(header, messageKey, identities, reply) };
}

function openedByReporter(header, messageKey, identities, reply) {
  // Whether one of `identities` is the reply identity and stanza 0 opens with it to this K.
  const me = identities.find((i) => i.keyId === reply.keyId);
  if (!me) return false;
  try {
    return S().memcmp(S().crypto_box_seal_open(parseHeader(header)[0].sealed, me.publicKey, me.secretKey), messageKey);
  } catch (e) { return false; }
}

export function openMessage(data, identities, reply, sender) {
  // Open a whole sealed message file, its attachments too.
  const { header, body, streams } = readEnvelope(data);
  const { messageKey, body: opened, bound } = openMessageHead(header, body, streams.length, identities, reply, sender);
  return { body: opened, bound, files: streams.map((s, i) => openStream(messageKey, i, s, opened.attachments[i])) };
}
