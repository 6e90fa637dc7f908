// Sending a report sealed in the browser through the resumable API of docs/openapi.yaml.

import { MAX_STANZAS, b64url, newReportKey, parseRecipient, sealBody, sealHeader } from "./seal.js";
import { manifestOf, sealedParts, streamLength } from "./parts.js";
import { solve } from "./work.js";

export class SendError extends Error {
  // The server refused the report; `status` is its HTTP status.
  constructor(status, message) {
    super(message);
    this.status = status;
  }
}

async function json(response) {
  // The body of a JSON response, or a SendError carrying the server's message.
  const data = await response.json().catch(() => ({}));
  if (!response.ok) throw new SendError(response.status, data.error || response.statusText);
  return data;
}

export async function loadKeyring() {
  // The recipients of /keyring.json, each checked (§2.1) and matched to its key id.
  const data = await json(await fetch("/keyring.json", { cache: "no-store" }));
  const recipients = data.recipients.map((r) => {
    const parsed = parseRecipient(r.recipient);
    if (parsed.keyId !== r.key_id) throw new Error("the keyring lists a key under the wrong key id");
    return parsed;
  });
  return { serial: data.serial, fingerprint: data.fingerprint, recipients, codenameSalt: data.codename_salt };
}

export async function solveWork() {
  // Fetch a challenge and solve it (work.js); the server asks for more work when it is busy.
  const { challenge, bits } = await json(await fetch("/api/v1/challenge", { cache: "no-store" }));
  return { pow_challenge: challenge, pow_nonce: await solve(challenge, bits) };
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

export class Upload {
  // One report's upload: begin (a report without files is stored then), send every missing part
  // (retrying over a broken connection), complete. A follow-up's files upload through fill() alone.
  constructor({ csrf, work = null, onProgress = () => {}, onRetry = () => {} }) {
    // `work`: a promise of a proof of work solved ahead (while the reporter wrote), or null.
    this.csrf = csrf;
    this.work = work;
    this.onProgress = onProgress;
    this.onRetry = onRetry;
  }

  async send(fields, files, website = "", reply = null) {
    // Seal `fields` and `files` (Blobs with a name) to the keyring and upload them; return the case ref.
    // `reply` ({recipient, lookup} of a codename, §12.3) puts the reply key in the body, seals K to it as well (the
    // reporter's stanza, §4.1: the codename opens the report again) and sends the lookup.
    const manifest = await manifestOf(files, true);
    const reportKey = newReportKey();
    const body = sealBody(reportKey, fields, manifest, reply ? reply.recipient.text : null);
    const lengths = manifest.map((m) => streamLength(m.size, true));
    let begun;
    for (let attempt = 0; !begun; attempt++) {
      const keyring = await loadKeyring();
      const ahead = attempt === 0 && this.work ? await this.work.catch(() => null) : null;
      const request = { keyring_serial: keyring.serial, header: b64url(sealHeader(reportKey, keyring.recipients,
        reply && keyring.recipients.length < MAX_STANZAS ? reply.recipient : null)),
        body: b64url(body), lengths, website, ...(reply ? { lookup: b64url(reply.lookup) } : {}),
        ...(ahead || (await solveWork())) };
      try {
        begun = await this.request("POST", "/api/v1/reports", JSON.stringify(request), "application/json");
      } catch (e) {
        // 409: the keyring changed, seal again; 429: the load rose since the work was done, solve a new
        // challenge; 400 after work solved ahead: it may have expired (a page open for days).
        const again = e instanceof SendError && (e.status === 409 || e.status === 429 || (e.status === 400 && ahead));
        if (!(again && attempt < 4)) throw e;
      }
    }
    if (begun.ref) return begun.ref;
    return (await this.fill(begun, reportKey, files, true)).ref;
  }

  async fill({ upload, missing }, key, files, padded) {
    // Seal each of `files` under `key` (§7) and send the parts the server misses, then complete the upload;
    // return the server's answer.
    const total = files.reduce((n, f) => n + streamLength(f.blob.size, padded), 0) || 1;
    let done = 0;
    for (let i = 0; i < files.length; i++) {
      let number = 0;
      for await (const part of sealedParts(key, i, files[i].blob, padded)) {
        if (missing[String(i)].includes(number)) await this.putPart(upload, i, number, part);
        done += part.length;
        this.onProgress(done / total);
        number++;
      }
    }
    try {
      return await this.request("POST", `/api/v1/uploads/${upload}/complete`);
    } catch (e) {
      if (!(e instanceof SendError && e.status === 409)) throw e;
      return this.refill(upload, key, files, padded, e);
    }
  }

  async refill(upload, key, files, padded, refusal) {
    // A part the server acknowledged can be lost if its machine crashed before the report was complete
    // (docs/web.md, "One durable point"): ask which parts are missing, seal each stream that lost one anew
    // (a new stream header) and send all of it, then complete. Any other 409 is the server's answer.
    const lost = await this.request("GET", `/api/v1/uploads/${upload}`).then((s) => s.missing, () => null);
    const streams = lost ? files.map((_, i) => i).filter((i) => (lost[String(i)] || []).length > 0) : [];
    if (streams.length === 0) throw refusal;
    for (const i of streams) {
      let number = 0;
      for await (const part of sealedParts(key, i, files[i].blob, padded)) await this.putPart(upload, i, number++, part);
    }
    return this.request("POST", `/api/v1/uploads/${upload}/complete`);
  }

  async request(method, url, body = null, type = null) {
    // One API call with the form token in its header (no cookie: there is none), asking for errors in the
    // page's language; JSON in and out.
    const headers = { "X-CSRFToken": this.csrf, "Accept-Language": document.documentElement.lang };
    if (type) headers["Content-Type"] = type;
    const response = await fetch(url, { method, headers, body, cache: "no-store", credentials: "omit" });
    return response.status === 204 ? {} : json(response);
  }

  async putPart(token, index, number, part) {
    // Send one part until the server has it: a broken connection or a server error is retried with back-off.
    for (let attempt = 0; ; attempt++) {
      try {
        await this.request("PUT", `/api/v1/uploads/${token}/${index}/${number}`, part, "application/octet-stream");
        return;
      } catch (e) {
        if (e instanceof SendError && e.status < 500) throw e;
        if (attempt >= 40) throw e;
      }
      this.onRetry(attempt);
      await sleep(Math.min(500 * 2 ** attempt, 15000));
      try {
        const { missing } = await this.request("GET", `/api/v1/uploads/${token}`);
        if (!missing[String(index)].includes(number)) return;
      } catch (e) {
        if (e instanceof SendError && e.status < 500) throw e;
      }
    }
  }
}
