// Codenames (docs/format.md §12.1-§12.3): make one, read one typed back, derive its token and reply identity.

import { b64url, concat, keyId } from "./seal.js";

const S = () => globalThis.sodium;
export const DIGITS = 25;
const MAX_TYPED = 200;
const OPSLIMIT = 2;
const MEMLIMIT = 64 * 1024 * 1024;
const ZEROS = [0x30, 0x17e0, 0x1040];
const WA = 0x101d;
const SEPARATORS = new Set([0x09, 0x0a, 0x0d, 0x20, 0xa0, 0x200b, 0x202f, 0x3000, 0x2d, 0x2212, 0xff0d,
  0x2010, 0x2011, 0x2012, 0x2013, 0x2014, 0x2015]);

export class CodenameError extends Error {
  // A typed codename that §12.2 refuses; the message never repeats what was typed.
  constructor() {
    super("A codename is 25 digits in 5 groups: type only the digits, with spaces or dashes between groups.");
    this.expect = "invalid codename";
  }
}

export function makeCodename() {
  // 25 digits from libsodium's random generator, in 5 groups of 5 (§12.1).
  const digits = Array.from({ length: DIGITS }, () => S().randombytes_uniform(10)).join("");
  return digits.match(/.{5}/g).join(" ");
}

function digit(code) {
  // The value of a digit code point that §12.2 accepts, else -1.
  for (const zero of ZEROS) if (code >= zero && code <= zero + 9) return code - zero;
  return code === WA ? 0 : -1;
}

export function normalise(typed) {
  // The canonical form of a typed codename: its 25 ASCII digits (§12.2), or CodenameError.
  if (typeof typed !== "string" || typed.length > 2 * MAX_TYPED) throw new CodenameError();
  const digits = [];
  let count = 0;
  for (const char of typed) {
    if (++count > MAX_TYPED) throw new CodenameError();
    const code = char.codePointAt(0);
    if (SEPARATORS.has(code)) continue;
    const value = digit(code);
    if (value < 0) throw new CodenameError();
    digits.push(value);
  }
  if (digits.length !== DIGITS) throw new CodenameError();
  return digits.join("");
}

export function lookupOf(token) {
  // H(32, "intake-lookup-v1" || token): what the server stores and looks cases up by (§12.3).
  return S().crypto_generichash(32, concat(new TextEncoder().encode("intake-lookup-v1"), token), null);
}

export function deriveKeys(typed, salt) {
  // Argon2id of the canonical codename, then the token and the reply identity (§12.3).
  const canonical = normalise(typed);
  if (!(salt instanceof Uint8Array) || salt.length !== 16) {
    throw new Error("the codename salt must be 16 bytes: check codename_salt in keyring.json");
  }
  const seed = S().crypto_pwhash(32, canonical, salt, OPSLIMIT, MEMLIMIT, S().crypto_pwhash_ALG_ARGON2ID13);
  const token = S().crypto_kdf_derive_from_key(32, 1, "codename", seed);
  const secretKey = S().crypto_kdf_derive_from_key(32, 2, "codename", seed);
  S().memzero(seed);
  const publicKey = S().crypto_scalarmult_base(secretKey);
  return {
    token,
    lookup: lookupOf(token),
    identity: { secretKey, publicKey, keyId: keyId(publicKey) },
    recipient: { publicKey, keyId: keyId(publicKey), text: "intake-recipient-1:" + b64url(publicKey) },
  };
}
