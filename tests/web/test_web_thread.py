"""Chromium runs codename.js and thread.js, served by a real `intake serve`: the §12 vectors, and both directions.

The page's modules normalise and derive every codename vector, open every message vector, and seal a
follow-up with attachments that Python opens as a reviewer and as the reporter; Python seals a reply
that the page opens. Any CSP violation or page error fails a test.
"""

from __future__ import annotations

import base64
import io
import json
import re
import time
from collections import Counter
from pathlib import Path

import pytest

from intake.crypto.codename import derive_keys, normalise
from intake.crypto.container import read_envelope, stream_parts, write_envelope
from intake.crypto.keys import Identity
from intake.crypto.message import open_message, seal_message
from tests.support.messagevectors import VECTORS, codename_vectors
from tests.support.web import Server, make_site

pytestmark = [pytest.mark.browser, pytest.mark.slow]
IMPORTS = """const seal = await import("/static/js/seal.js");
        const codename = await import("/static/js/codename.js");
        const thread = await import("/static/js/thread.js");
        await seal.ready();
        const bytes = (text) => sodium.from_base64(text, sodium.base64_variants.ORIGINAL);
        const b64 = (data) => sodium.to_base64(data, sodium.base64_variants.ORIGINAL);
        const fromB64url = (text) => sodium.from_base64(text, sodium.base64_variants.URLSAFE_NO_PADDING);"""


def read_message_vector(path: Path) -> dict[str, object]:
    """A `.msg` file's lines and its bytes, for the page."""
    head, data = path.read_bytes().split(b"\n\n", 1)
    lines = [line.split(": ", 1) for line in head.decode().splitlines()]
    values = dict(lines)
    return {"name": path.name, "expect": values["expect"], "reply": values["reply"], "from": values["from"],
            "identities": [v for k, v in lines if k == "identity"],
            "body": json.loads(values["body"]) if "body" in values else None,
            "bound": {"yes": True, "no": False}.get(values.get("bound", "")),
            "data": base64.b64encode(data).decode()}


class Watched:
    """A page of a live server whose page errors, console errors and CSP violations are recorded."""

    def __init__(self, context) -> None:
        self.problems: list[str] = []
        context.add_init_script("document.addEventListener('securitypolicyviolation', "
                                "e => console.error('CSP violation: ' + e.violatedDirective));")
        self.page = context.new_page()
        self.page.on("pageerror", lambda exc: self.problems.append(f"page error: {exc}"))
        self.page.on("console", self._console)

    def _console(self, message) -> None:
        if message.type == "error":
            self.problems.append(f"console: {message.text}")


@pytest.fixture
def page(browser, tmp_path: Path):
    """The form page of a live `intake serve` on SQLite, its sealing ready, watched for errors."""
    site = make_site(tmp_path, f"sqlite:///{tmp_path / 'instance' / 'intake.db'}")
    server = Server(site.env, tmp_path).start()
    context = browser.new_context()
    watched = Watched(context)
    try:
        watched.page.goto(server.url + "/")
        watched.page.wait_for_selector("html[data-sealing=ready]")
        yield watched
        assert watched.problems == []
    finally:
        context.close()
        server.stop()
        site.engine.dispose()


def test_codename_vectors_in_chromium(page) -> None:
    """codename.js normalises (or refuses) every typed codename of 60, derives exactly the keys of 61, makes fresh ones.

    100,000 digits put each count within 6% of 10,000 (6 standard deviations): a gross bias fails, chance does not.
    """
    normal, derived = codename_vectors("60"), codename_vectors("61")
    results = page.page.evaluate("async ([normal, derived]) => {" + IMPORTS + """
        const got = normal.map((c) => {
            try { return codename.normalise(c.input); } catch (e) { return e.expect || String(e); }
        });
        const keys = derived.map((c) => {
            const k = codename.deriveKeys(c.codename, fromB64url(c.salt));
            return {token: sodium.to_base64(k.token, sodium.base64_variants.URLSAFE_NO_PADDING),
                    lookup: sodium.to_hex(k.lookup), reply_recipient: k.recipient.text,
                    reply_identity: "INTAKE-IDENTITY-1:" + seal.b64url(k.identity.secretKey)};
        });
        const made = Array.from({length: 4000}, () => codename.makeCodename());
        return {got, keys, made};
    }""", [normal, derived])
    assert results["got"] == [c["expect"] for c in normal]
    made = results["made"]
    assert all(re.fullmatch(r"\d{5}( \d{5}){4}", c) for c in made)
    assert len(set(made)) == len(made)
    counts = Counter("".join(made).replace(" ", ""))
    assert all(abs(counts[d] - 10_000) < 600 for d in "0123456789"), counts
    assert results["keys"] == [{k: c[k] for k in ("token", "lookup", "reply_recipient", "reply_identity")}
                               for c in derived]


def test_message_vectors_in_chromium(page) -> None:
    """thread.js opens every message vector with the expected body or exactly the expected error."""
    vectors = [read_message_vector(p) for p in sorted(VECTORS.glob("*.msg"))]
    results = page.page.evaluate("async (vectors) => {" + IMPORTS + """
        return vectors.map((v) => {
            try {
                const opened = thread.openMessage(bytes(v.data), v.identities.map(seal.parseIdentity),
                                                  seal.parseRecipient(v.reply), v.from);
                const sha = opened.files.map((f) => sodium.to_hex(sodium.crypto_hash_sha256(f)));
                return {got: "success", body: opened.body, sha, bound: opened.bound};
            } catch (e) {
                return {got: e.expect || String(e), body: null, sha: null, bound: null};
            }
        });
    }""", vectors)
    assert len(results) == len(vectors) >= 27
    for vector, result in zip(vectors, results, strict=True):
        assert result["got"] == vector["expect"], vector["name"]
        if vector["expect"] == "success":
            assert result["body"] == vector["body"], vector["name"]
            assert result["sha"] == [a["sha256"] for a in vector["body"]["attachments"]], vector["name"]
            assert vector["bound"] is None or result["bound"] is vector["bound"], vector["name"]
        if vector["name"].startswith(("62-", "63-")):  # version 1: bound only when the reporter opens stanza 0
            assert result["bound"] is vector["name"].startswith("63-"), vector["name"]


def test_follow_up_sealed_in_chromium_opens_in_python(page) -> None:
    """A codename made in the page derives the same keys in Python; its follow-up opens for reviewer and reporter.

    The page refuses to seal what no opener accepts: an empty message, an unknown sender, 16 reviewer keys, a reply
    key that is a reviewer's.
    """
    reviewers = [Identity.generate() for _ in range(2)]
    salt = bytes(range(100, 116))
    photo = bytes((i * 13) % 256 for i in range(65536 * 2 + 5))
    text = "canary-thread-7d1f ស្ពាន ကင်မရာ the van stopped at the bridge"
    result = page.page.evaluate("async ([reviewers, salt, text, photo]) => {" + IMPORTS + """
        const made = codename.makeCodename();
        const keys = codename.deriveKeys(made, bytes(salt));
        const sealed = thread.sealMessage(reviewers.map(seal.parseRecipient), keys.recipient, "reporter", text,
            [{name: "bridge.jpg", type: "image/jpeg", data: bytes(photo)},
             {name: "empty.txt", type: "text/plain", data: new Uint8Array(0)}]);
        const team = reviewers.map(seal.parseRecipient);
        const refused = [[team, keys.recipient, "reporter", ""], [team, keys.recipient, "admin", "x"],
                         [Array(16).fill(team[0]), keys.recipient, "reporter", "x"], [team, team[1], "reviewer", "x"]]
            .map((args) => { try { thread.sealMessage(...args); return "sealed"; } catch (e) { return e.message; } });
        return {made, lookup: sodium.to_hex(keys.lookup), file: b64(thread.messageFile(sealed)), refused};
    }""", [[str(r.recipient) for r in reviewers], base64.b64encode(salt).decode(), text,
           base64.b64encode(photo).decode()])
    assert result["refused"] == ["a message needs a text or an attachment",
                                 "a message is from the reviewer or the reporter",
                                 "a message can be sealed to at most 15 reviewer keys",
                                 "the reply key is a reviewer's key"]
    made = result["made"]
    assert len(made) == 29
    assert len(normalise(made)) == 25
    keys = derive_keys(made, salt)
    assert keys.lookup.hex() == result["lookup"]
    data = base64.b64decode(result["file"])
    assert text.encode() not in data
    for who in (reviewers[1], keys.identity):
        f = io.BytesIO(data)
        env = read_envelope(f)
        opened = open_message(env.header, env.body, 2, [who], keys.identity.recipient, "reporter")
        assert opened.body.text == text
        files = [b"".join(opened.attachment(i, stream_parts(f, off, n), n)) for i, (off, n) in enumerate(env.streams)]
        assert files == [photo, b""]


def test_reply_sealed_in_python_opens_in_chromium(page) -> None:
    """A reviewer's reply sealed by Python opens in the page with the codename alone; a forged sender is refused."""
    keys = derive_keys("11111-22222-33333-44444-55555", bytes(16))
    reply = seal_message([Identity.generate().recipient], keys.identity.recipient, "reviewer", "Which day was it?")
    out = io.BytesIO()
    write_envelope(out, reply.header, reply.body, [])
    result = page.page.evaluate("async (file) => {" + IMPORTS + """
        const keys = codename.deriveKeys("၁၁၁၁၁ ၂၂၂၂၂ ၃၃၃၃၃ ၄၄၄၄၄ ၅၅၅၅၅", new Uint8Array(16));
        const opened = thread.openMessage(bytes(file), [keys.identity], keys.recipient, "reviewer");
        let forged;
        try { thread.openMessage(bytes(file), [keys.identity], keys.recipient, "reporter"); }
        catch (e) { forged = e.expect; }
        return {text: opened.body.text, forged};
    }""", base64.b64encode(out.getvalue()).decode())
    assert result == {"text": "Which day was it?", "forged": "wrong sender"}


@pytest.mark.serial  # seconds, measured
def test_derivation_cost_in_chromium(page) -> None:
    """Argon2id at §12.3's costs, in the page: the figures the spec quotes, unthrottled and with the CPU slowed 4x."""
    cdp = page.page.context.new_cdp_session(page.page)
    script = "async () => {" + IMPORTS + """
        const times = [];
        for (let i = 0; i < 3; i++) {
            const start = performance.now();
            codename.deriveKeys("12345 12345 12345 12345 12345", new Uint8Array(16));
            times.push(performance.now() - start);
        }
        return times;
    }"""
    figures = {}
    for rate in (1, 4):
        cdp.send("Emulation.setCPUThrottlingRate", {"rate": rate})
        figures[rate] = sorted(page.page.evaluate(script))[1] / 1000
    cdp.send("Emulation.setCPUThrottlingRate", {"rate": 1})
    start = time.perf_counter()
    derive_keys("12345 12345 12345 12345 12345", bytes(16))
    python = time.perf_counter() - start
    print(f"argon2id at opslimit 2, 64 MiB: chromium {figures[1]:.2f} s, chromium 4x slower CPU {figures[4]:.2f} s, "
          f"python {python:.2f} s")
    assert figures[1] < 5
    assert figures[4] < 20
