"""The kit and the /sealed page in Chromium: carried.js passes the carried vectors; the /sealed page sends a file
through the API once; a kit without WebAssembly, with a tampered keyring, past its day or with 16 keys says so (in
each language) and never seals; the kit weighs at most 600 KB, keeps its CSP and asks the form's questions in each
language."""

from __future__ import annotations

import base64
import gzip
import html
import json
import re

import pytest
import requests

from intake.crypto.keys import Identity
from intake.keys.keyring import KeyEntry, Keyring, load_keyring, save_keyring, unlock_signing_key
from intake.web import create_app
from tests.support import VECTORS
from tests.support.browser import Watched
from tests.support.carried import carried_file
from tests.support.catalogs import catalog
from tests.support.web import PASSPHRASE, make_site, rows

pytestmark = [pytest.mark.browser, pytest.mark.slow]


@pytest.fixture(scope="module")
def kit(served, tmp_path_factory):
    """Today's kit of the module's live server, saved to a file: (path, bytes)."""
    _, server, _ = served
    name = requests.get(server.url + "/keyring.json", timeout=60).json()["kit"]["file"]
    data = requests.get(f"{server.url}/kit/{name}", timeout=60).content
    path = tmp_path_factory.mktemp("kit") / name
    path.write_bytes(data)
    return path, data


def offline(browser, path, init: str = ""):
    """A context in which every request but the kit's own file is aborted and recorded, and its watched page."""
    context = browser.new_context(accept_downloads=True)
    seen: list[str] = []
    context.on("request", lambda r: seen.append(r.url))
    context.route("**/*", lambda route: route.continue_() if route.request.url == path.as_uri() else route.abort())
    if init:
        context.add_init_script(init)
    watched = Watched(context)
    watched.page.goto(path.as_uri())
    return context, watched, seen


def test_kit_weight_policy_and_languages(kit, served):
    """At most 600 KB; one inline script and one style, allowed by hash; no address to fetch; every language."""
    path, data = kit
    text = data.decode()
    assert len(data) <= 600_000
    assert path.name.startswith("intake-kit-")
    csp = html.unescape(re.search(r'http-equiv="Content-Security-Policy" content="([^"]+)"', text).group(1))
    assert csp.startswith("default-src 'none'; script-src 'sha256-")
    assert "form-action 'none'" in csp
    assert "unsafe-inline" not in csp
    assert "unsafe-eval'" not in csp.replace("wasm-unsafe-eval'", "")
    assert text.count("<script") == 2  # the module and its data (application/json)
    assert not re.search(r'\b(src|href)="(?!about:blank)', text)
    assert "<title>Form</title>" in text
    assert "surveillance" not in path.name + re.search(r"<title>(.*)</title>", text).group(1)
    packed = json.loads(re.search(r'id="kit-data">(.*?)</script>', text, re.S).group(1))["pages"]
    pages = json.loads(gzip.decompress(base64.b64decode(packed)))
    assert set(pages) == {"km", "my", "en"}
    assert all('name="description"' in page for page in pages.values())
    for page in pages.values():  # the browser keeps nothing typed (attack catalogue 7)
        controls = re.findall(r"<(?:input|select|textarea)\b[^>]*>", page)
        assert len(controls) >= 10
        assert all('autocomplete="off"' in c for c in controls), [c for c in controls if "autocomplete" not in c]


def test_kit_without_webassembly_says_so(browser, kit):
    """Tor Browser at "Safer" (no WebAssembly): the kit says it cannot seal and what to do, and its button is off."""
    path, _ = kit
    context, watched, seen = offline(browser, path, "delete globalThis.WebAssembly;")
    page = watched.page
    page.wait_for_selector("html[data-sealing=no-wasm]")
    assert "WebAssembly is off" in page.inner_text("#kit-status")
    assert "Tor Browser" in page.inner_text("#kit-status")
    assert page.is_disabled("#report-form button[type=submit]")
    page.click("#languages button[data-lang=my]")
    page.wait_for_selector("html[lang=my] #kit-status:not([hidden])")
    assert page.is_disabled("#report-form button[type=submit]")
    assert seen == [path.as_uri()]
    context.close()


def test_tampered_kit_refuses_to_seal(browser, kit, tmp_path):
    """A kit whose keyring was changed (another recipient) fails its signature check and never seals."""
    path, data = kit
    text = data.decode()
    match = re.search(r'intake-recipient-1:([A-Za-z0-9_-]{43})', text)
    other = "intake-recipient-1:" + base64.urlsafe_b64encode(bytes(range(1, 33))).decode().rstrip("=")
    changed = tmp_path / path.name
    changed.write_text(text.replace(match.group(0), other))
    context, watched, _ = offline(browser, changed)
    page = watched.page
    page.wait_for_selector("html[data-sealing=refused]")
    assert "Do not use it" in page.inner_text("#kit-status")
    assert page.is_disabled("#report-form button[type=submit]")
    context.close()


def test_kit_past_its_day_stops(browser, kit):
    """An old genuine kit seals to old keys, some perhaps withdrawn: past its day, it refuses (class 1)."""
    path, _ = kit
    later = ("const Real = Date; globalThis.Date = class extends Real { constructor(...a) { "
             "super(...(a.length ? a : [Real.now() + 400 * 864e5])); } };")
    context, watched, _ = offline(browser, path, later)
    page = watched.page
    page.wait_for_selector("html[data-sealing=expired]")
    assert "out of date" in page.inner_text("#kit-status")
    context.close()


def test_carried_vectors_in_chromium(browser, served):
    """carried.js reads every carried vector as Python does; success vectors open with seal.js."""
    _, server, _ = served
    context = browser.new_context()
    watched = Watched(context)
    page = watched.page
    page.goto(server.url + "/sealed")
    page.wait_for_selector("html[data-sealing=ready]")
    vectors = []
    for p in sorted(VECTORS.glob("*.carried")):
        head, data = p.read_bytes().split(b"\n\n", 1)
        values = dict(line.split(": ", 1) for line in head.decode().splitlines())
        vectors.append({**values, "name": p.name, "data": base64.b64encode(data).decode(),
                        "body": json.loads(values["body"]) if "body" in values else None})
    results = page.evaluate("""async (vectors) => {
        const seal = await import("/static/js/seal.js");
        const carried = await import("/static/js/carried.js");
        await seal.ready();
        const out = [];
        for (const v of vectors) {
            const blob = new Blob([sodium.from_base64(v.data, sodium.base64_variants.ORIGINAL)]);
            try {
                const c = await carried.readCarried(blob);
                const me = [seal.parseIdentity(v.identity)];
                const opened = seal.openReportHead(c.header, c.body, c.streams.length, me);
                const files = [];
                for (const [i, s] of c.streams.entries()) {
                    const bytes = new Uint8Array(await blob.slice(s.offset, s.offset + s.length).arrayBuffer());
                    files.push(seal.openStream(opened.reportKey, i, bytes, opened.body.attachments[i], true).length);
                }
                out.push({got: "success", serial: c.serial, lookup: sodium.to_hex(c.lookup), body: opened.body, files});
            } catch (e) {
                out.push({got: e.expect || String(e)});
            }
        }
        return out;
    }""", vectors)
    watched.check()
    assert len(results) == len(vectors) >= 10
    for vector, result in zip(vectors, results, strict=True):
        assert result["got"] == vector["expect"], vector["name"]
        if vector["expect"] == "success":
            assert result["body"] == vector["body"], vector["name"]
            assert (result["serial"], result["lookup"]) == (int(vector["serial"]), vector["lookup"])
            assert result["files"] == [a["size"] for a in vector["body"]["attachments"]]
    context.close()


def test_sealed_page_sends_through_the_api_once(browser, served, tmp_path):
    """With JavaScript, /sealed reads the file and sends it through the API; sent again, it is stored once."""
    site, server, _ = served
    data, _ = carried_file(site, files=[("clip.mp4", "video/mp4", bytes(range(256)) * 9000)])
    path = tmp_path / "report.sealed"
    path.write_bytes(data)
    before = rows(site.engine)["cases"]
    context = browser.new_context()
    watched = Watched(context)
    page = watched.page
    refs, bodies = [], []
    page.on("request", lambda r: bodies.append(r.post_data_buffer or b""))
    for fresh in (True, False):
        page.goto(server.url + "/sealed?lang=km")
        page.wait_for_selector("html[data-sealing=ready]")
        page.set_input_files("#sealed", str(path))
        page.click("#sealed-form button[type=submit]")
        page.wait_for_selector("#receipt-box:not([hidden])", timeout=60000)
        refs.append(page.inner_text("#receipt"))
        assert page.is_visible("#receipt-new") == fresh
        assert page.is_visible("#receipt-old") != fresh
    watched.check()
    assert refs[0] == refs[1]
    assert rows(site.engine)["cases"] == before + 1
    assert any(b'"carried": true' in b or b'"carried":true' in b for b in bodies)
    context.close()


def test_kit_of_sixteen_keys_says_why_in_every_language(browser, tmp_path):
    """A keyring of 16 keys leaves no room for the reporter's stanza (format.md §13.1): the kit says so as it opens,
    in the language shown, and never seals (it threw an English error once the report was written and sealing)."""
    site = make_site(tmp_path, f"sqlite:///{tmp_path / 'intake.db'}")
    keyring = load_keyring(site.settings.keys_dir, site.settings.keyring_signer)
    added = tuple(KeyEntry(f"r{i}", Identity.generate().recipient) for i in range(len(keyring.keys), 16))
    save_keyring(site.settings.keys_dir, Keyring(keyring.keys + added, signer=keyring.signer, serial=keyring.serial),
                 unlock_signing_key(site.settings.instance / "admin-signing.key", PASSPHRASE))
    app = create_app(site.settings)
    client = app.test_client()
    name = client.get("/keyring.json").get_json()["kit"]["file"]
    path = tmp_path / name
    path.write_bytes(client.get(f"/kit/{name}").data)
    app.extensions["intake"].engine.dispose()
    site.engine.dispose()
    context, watched, seen = offline(browser, path)
    page = watched.page
    page.wait_for_selector("html[data-sealing=full]")
    english = page.inner_text("#kit-status")
    assert "16 keys" in english
    for lang in ("km", "my", "en"):
        page.click(f"#languages button[data-lang={lang}]")
        page.wait_for_selector(f"html[lang={lang}] #kit-status:not([hidden])")
        assert page.inner_text("#kit-status") == (english if lang == "en" else catalog(lang)[english])
        assert page.is_disabled("#report-form button[type=submit]")
    assert seen == [path.as_uri()]
    context.close()
