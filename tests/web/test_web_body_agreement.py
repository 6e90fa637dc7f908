"""Python and seal.js in Chromium agree on every body JSON of a tricky corpus (§5.1) and on every Padmé size (§7.1).

The vectors test whole sealed reports; this differential test throws hundreds of body texts at both parsers
(`intake.crypto.envelope.parse_body`, `seal.js parseBody`) and requires the same verdict and the same body.
"""

from __future__ import annotations

import base64
import json
import random
from pathlib import Path

import pytest

from intake.crypto.envelope import parse_body
from intake.crypto.keys import Identity
from intake.crypto.report import open_report
from intake.crypto.stream import padme

pytestmark = [pytest.mark.browser, pytest.mark.slow]
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
STATIC = Path(__file__).resolve().parents[2] / "intake" / "static"
SODIUM = ["vendor/libsodium-sumo-0.8.4.mjs", "vendor/libsodium-wrappers-sumo-0.8.4.mjs"]  # seal.js imports them
PAGE = "<!doctype html><title>t</title>"
ORIGIN = "http://intake.test"
RECIPIENT = str(Identity.generate().recipient)
SHA = '"' + "ab" * 32 + '"'
ENTRY = '{"name":"a.jpg","type":"image/jpeg","size":%s,"sha256":' + SHA + "}"

SLOTS: dict[str, list[str]] = {
    "version": ["2", "1", "3", "0", "true", '"2"', "2.0", "2e0", "-2", "null", "02", "[2]"],
    "fields": ['{"a":"b"}', "{}", '{"a":1}', '{"a":null}', '{"a":["b"]}', "[]", "null", '{"a":"b","a":"c"}',
               '{"a":"b","\\u0061":"c"}', '{"__proto__":"x"}', '{"constructor":"x","toString":"y"}',
               '{"a":"\\ud800"}', '{"a":"\\udc00"}', '{"a":"\\ud83d\\udcf7"}', '{"a":"\\uD83D\\uDCF7"}',
               '{"a":"\\ud83d"}', '{"a":"\\ud83d\\u0041"}', '{"\\ud800":"a"}', '{"a":"\\u0000\\u001f"}',
               '{"a":"\x01"}', '{"a":"\\x41"}', "{\"a\":'b'}", '{"a":"\\/\\b\\f\\n\\r\\t\\""}',
               '{"a":"ខ្មែរ မြန်မာ \u202e \U0001F4F7"}', '{"a":"b",}'],
    "attachments": ["[]", "[" + ENTRY % "100" + "]", "[" + ENTRY % "1.0" + "]", "[" + ENTRY % "1e2" + "]",
                    "[" + ENTRY % "-0" + "]", "[" + ENTRY % "-1" + "]", "[" + ENTRY % "4294967296" + "]",
                    "[" + ENTRY % "4294967297" + "]", "[" + ENTRY % "9007199254740992" + "]",
                    "[" + ENTRY % "true" + "]", "[" + ENTRY % '"100"' + "]", "[" + ENTRY % "0" + "]",
                    '[{"name":"a","type":"b","size":1,"sha256":"' + "AB" * 32 + '"}]',
                    '[{"name":"a","type":"b","size":1}]', '[{"name":"a","type":"b","size":1,"sha256":' + SHA
                    + ',"x":{"y":[1,2]}}]', '[{"name":"a","name":"b","type":"b","size":1,"sha256":' + SHA + "}]",
                    "[" + ",".join([ENTRY % "1"] * 32) + "]", "[" + ",".join([ENTRY % "1"] * 33) + "]",
                    "[1]", "{}", "null", "[null]", "[[]]"],
    "reply_key": ["null", json.dumps(RECIPIENT), json.dumps(" " + RECIPIENT), json.dumps(RECIPIENT + "\n"),
                  '"intake-recipient-1:' + "A" * 43 + '"', "1", '""', "false", "{}",
                  json.dumps(RECIPIENT.upper())],
    "extra": ["", ',"x":1', ',"x":NaN', ',"x":Infinity', ',"x":-Infinity', ',"x":9007199254740991',
              ',"x":9007199254740992', ',"x":' + "1" * 17, ',"x":1.5', ',"x":{"a":1,"a":2}', ',"x":"\\ud800"',
              ',"__proto__":{"version":3}', ',"version":2', ',"reply_key":null', ',"x":' + "[" * 14 + "]" * 14,
              ',"x":' + "[" * 15 + "]" * 15, ',"x":' + "[" * 100 + "]" * 100, ',"x":' + "{\"a\":" * 15 + "1"
              + "}" * 15, ',"x":' + "[" * 14 + '"[[[[[[]]]]]]"' + "]" * 14, ',"x":true,"y":false,"z":null'],
}
WRAPPERS = ["{%s}", " {%s} ", "\t\n{%s}\r\n", "\ufeff{%s}", "\u00a0{%s}", "{%s}x", "[{%s}]", "{%s} {}", "{%s}/**/"]
DEFAULT = {"version": "2", "fields": '{"a":"b"}', "attachments": "[]", "reply_key": "null", "extra": ""}


def body_text(slots: dict[str, str], wrapper: str = "{%s}") -> str:
    """A body JSON text with the given slot values."""
    inner = (f'"version":{slots["version"]},"fields":{slots["fields"]},"attachments":{slots["attachments"]},'
             f'"reply_key":{slots["reply_key"]}{slots["extra"]}')
    return wrapper.replace("%s", inner)


def corpus() -> list[str]:
    """Each slot value alone, each wrapper, a few members left out, then seeded random combinations."""
    texts = [body_text({**DEFAULT, slot: value}) for slot, values in SLOTS.items() for value in values]
    texts += [body_text(DEFAULT, wrapper) for wrapper in WRAPPERS]
    texts += ['{"fields":{},"attachments":[],"reply_key":null}', '{"version":2,"attachments":[],"reply_key":null}',
              '{"version":2,"fields":{},"reply_key":null}', "{}", "[]", "null", '"x"', "", " "]
    rng = random.Random(20261129)  # noqa: S311 (a fixed corpus, not a secret)
    for _ in range(400):
        slots = {slot: rng.choice(values) if rng.random() < 0.3 else DEFAULT[slot] for slot, values in SLOTS.items()}
        texts.append(body_text(slots, rng.choice(WRAPPERS[:3]) if rng.random() < 0.8 else rng.choice(WRAPPERS)))
    return texts


def large() -> list[str]:
    """Bodies near the 1 MiB limit: long strings, many escapes, runs that used to cost quadratic time."""
    long = {**DEFAULT, "fields": '{"description":"' + "\\n" * 300000 + '"}'}
    plain = {**DEFAULT, "fields": '{"description":"' + "ខ" * 300000 + '"}'}
    many = {**DEFAULT, "fields": "{" + ",".join(f'"f{i}":"{i}"' for i in range(50000)) + "}"}
    return [body_text(long), body_text(plain), body_text(many), '"' + '\\"' * 500000, "[" * 1000000,
            "[]" * 500000, '"' * 1000000, '{"a":"' + "\\" * 999999, '[1' + ",1" * 400000 + "]"]


def python_verdict(text: str) -> str | None:
    """The body Python returns, as canonical JSON, or None if it refuses the text."""
    try:
        body = parse_body(text.encode())
    except ValueError:
        return None
    return json.dumps(json.loads(body.to_json()), sort_keys=True)


def serve(path: Path):
    """A route handler answering with one JavaScript file."""
    return lambda route: route.fulfill(body=path.read_text(), content_type="text/javascript")


@pytest.fixture(scope="module")
def page():
    """A Chromium page on a made-up origin serving only libsodium.js, seal.js and bodyjson.js (nothing leaves it)."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        chromium = pw.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
        context = chromium.new_context()
        for name in ["js/seal.js", "js/bodyjson.js", *SODIUM]:
            context.route(f"{ORIGIN}/{name}", serve(STATIC / name))
        context.route(f"{ORIGIN}/", lambda route: route.fulfill(body=PAGE, content_type="text/html"))
        page = context.new_page()
        page.goto(f"{ORIGIN}/")
        page.evaluate("async () => { const seal = await import('/js/seal.js'); await seal.ready(); }")
        yield page
        chromium.close()


def test_python_and_chromium_agree_on_every_body(page) -> None:
    """Same verdict, same body, for every text of the corpus; the corpus holds both kinds."""
    texts = corpus()
    js = page.evaluate("""async (texts) => {
        const seal = await import("/js/seal.js");
        return texts.map((t) => {
            try {
                const b = seal.parseBody(t);
                return JSON.stringify(b);
            } catch (e) { return null; }
        });
    }""", texts)
    assert len(js) == len(texts)
    ok = 0
    for text, got in zip(texts, js, strict=True):
        want = python_verdict(text)
        got = None if got is None else json.dumps(json.loads(got), sort_keys=True)
        assert got == want, text[:300]
        ok += want is not None
    assert 100 < ok < len(texts) - 200, ok


def test_python_and_chromium_agree_on_large_bodies(page) -> None:
    """Long strings, many escapes and members, and hostile runs of quotes, backslashes and brackets."""
    texts = large()
    js = page.evaluate("""async (texts) => {
        const seal = await import("/js/seal.js");
        return texts.map((t) => { try { seal.parseBody(t); return true; } catch (e) { return false; } });
    }""", texts)
    assert js == [python_verdict(t) is not None for t in texts] == [True] * 3 + [False] * 6


def test_python_and_chromium_agree_on_padme(page) -> None:
    """Every size to 70,000, powers of two and their neighbours to 2^32, and random sizes: the same Padmé size."""
    rng = random.Random(7)  # noqa: S311
    sizes = [*range(70000), *(n + d for n in (1 << k for k in range(17, 33)) for d in (-1, 0, 1) if n + d <= 1 << 32),
             *(rng.randrange(1 << 32) for _ in range(2000))]
    js = page.evaluate("""async (sizes) => {
        const seal = await import("/js/seal.js");
        return sizes.map((s) => seal.padme(s));
    }""", sizes)
    assert js == [padme(s) for s in sizes]
    assert all(s <= padme(s) <= s * 1.12 + 1 for s in sizes)


def test_browser_replaces_lone_surrogates_before_sealing(page) -> None:
    """A lone surrogate in the page's text becomes U+FFFD in the sealed body, so the report still opens."""
    me = Identity.generate()
    sealed = page.evaluate("""async (recipient) => {
        const seal = await import("/js/seal.js");
        const key = seal.newReportKey();
        const entry = {name: "a\\ud800.jpg", type: "image/jpeg", size: 0, sha256: "ab".repeat(32)};
        const body = seal.sealBody(key, {description: "x\\udc00y\\ud83d\\udcf7"}, [entry]);
        const header = seal.sealHeader(key, [seal.parseRecipient(recipient)]);
        return [seal.b64url(header), seal.b64url(body)];
    }""", str(me.recipient))
    header, body = (base64.urlsafe_b64decode(text + "=" * (-len(text) % 4)) for text in sealed)
    opened = open_report(header, body, 1, [me]).body
    assert opened.fields == {"description": "x\ufffdy\U0001F4F7"}
    assert opened.attachments[0].name == "a\ufffd.jpg"
