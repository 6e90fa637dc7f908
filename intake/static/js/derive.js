// Deriving a codename's keys (docs/format.md §12.3) in a Web Worker, or in the page where workers cannot run.

import { b64url, keyId } from "./seal.js";
import { CodenameError, deriveKeys, lookupOf } from "./codename.js";

const S = () => globalThis.sodium;

function keysOf(token, secretKey) {
  // The token, lookup, reply identity and recipient, as codename.js's deriveKeys returns them.
  const publicKey = S().crypto_scalarmult_base(secretKey);
  const id = keyId(publicKey);
  return { token, lookup: lookupOf(token), identity: { secretKey, publicKey, keyId: id },
    recipient: { publicKey, keyId: id, text: "intake-recipient-1:" + b64url(publicKey) } };
}

function inWorker(codename, salt) {
  return new Promise((resolve, reject) => {
    const worker = new Worker(new URL("./derive-worker.js", import.meta.url), { type: "module" });
    worker.onmessage = ({ data }) => {
      worker.terminate();
      if (data.error === "invalid codename") reject(new CodenameError());
      else if (data.error) reject(new Error(data.error));
      else resolve(keysOf(data.token, data.secretKey));
    };
    worker.onerror = (event) => { event.preventDefault(); worker.terminate(); reject(new Error("no worker")); };
    worker.postMessage({ codename, salt });
  });
}

export async function derive(codename, salt) {
  // The keys of `codename`: in a worker if one starts, else here (the page pauses for a moment).
  try {
    return await inWorker(codename, salt);
  } catch (e) {
    if (e instanceof CodenameError) throw e;
    return deriveKeys(codename, salt);
  }
}

export function saltOf(text) {
  // The keyring's codename_salt (base64url, 16 bytes).
  return S().from_base64(text, S().base64_variants.URLSAFE_NO_PADDING);
}
