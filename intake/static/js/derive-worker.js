// Argon2id of a codename (docs/format.md §12.3) off the page's thread, so the page does not freeze while it runs.

import { ready } from "./seal.js";
import { deriveKeys } from "./codename.js";

self.onmessage = async ({ data }) => {
  // {codename, salt} -> {token, secretKey} or {error}
  try {
    await ready();
    const keys = deriveKeys(data.codename, data.salt);
    self.postMessage({ token: keys.token, secretKey: keys.identity.secretKey });
  } catch (e) {
    self.postMessage({ error: e.expect || "failed" });
  }
};
