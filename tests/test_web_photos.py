"""Phone-shaped photos sent from Debian's Chromium to a real `intake serve`, then exported by the reviewer's real
`intake-review export --keep-metadata`: the page's cleaner rebuilt each photo exactly as the reviewer's does, with
WebAssembly (sealed in the page) and without it (Tor Browser's "Safer" level: sealed by the server on arrival)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from intake.review.rebuild import rebuild
from tests import photokit
from tests.reviewkit import Reviewer
from tests.web_support import Server, files_containing, make_site, open_stored

pytestmark = [pytest.mark.browser, pytest.mark.slow]
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
PHOTOS = [("thumb.jpg", "image/jpeg", photokit.thumbnail_photo()), ("portrait.jpg", "image/jpeg", photokit.mpf_photo()),
          ("motion.jpg", "image/jpeg", photokit.motion_photo()), ("screen.png", "image/png", photokit.text_png())]
CUT = ("cut.jpg", "image/jpeg", photokit.truncated_jpeg())
# What libsodium.js reports when WebAssembly is gone: expected in that test, an error anywhere else.
NO_WASM_ERRORS = ("WebAssembly is not defined", "Cannot read properties of undefined")


@pytest.fixture(scope="module")
def browser():
    """Debian's Chromium, headless, driven by Playwright."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        chromium = pw.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def live(tmp_path: Path):
    """A SQLite instance served by `intake serve` in its own process."""
    site = make_site(tmp_path, f"sqlite:///{tmp_path / 'instance' / 'intake.db'}")
    server = Server(site.env, tmp_path).start()
    yield site, server
    server.stop()
    site.engine.dispose()


def open_page(browser, url: str, webassembly: bool):
    """A new page on the form, its page errors and request bodies recorded; WebAssembly removed if asked."""
    context = browser.new_context()
    if not webassembly:
        context.add_init_script("delete window.WebAssembly;")
    page = context.new_page()
    errors: list[str] = []
    bodies: list[bytes] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("request", lambda req: bodies.append(req.post_data_buffer or b""))
    page.goto(url + "/")
    return context, page, errors, bodies


def send(page, description: str, files: list[tuple[str, str, bytes]]) -> str:
    """Fill the form, choose `files`, check the page names cut.jpg before sending, send it anyway; the receipt."""
    page.fill("#description", description)
    page.set_input_files("#attachments", [{"name": n, "mimeType": t, "buffer": d} for n, t, d in files])
    page.click("button[type=submit]")
    page.wait_for_selector("#unclean li")
    assert page.inner_text("#unclean") == "cut.jpg"
    assert page.is_visible("#receipt-box") is False
    page.click("button[type=submit]")
    page.wait_for_function("() => !document.getElementById('receipt-box').hidden || "
                           "document.getElementById('status').textContent.startsWith("
                           "document.getElementById('js-seal').dataset.msgFailed)", timeout=60000)
    assert page.is_visible("#receipt-box"), page.inner_text("#status")
    return page.inner_text("#receipt")


def exported(site, tmp_path: Path, ref: str) -> tuple[Path, dict]:
    """The case exported by the reviewer's real CLI with --keep-metadata: its folder and report.json."""
    alice = Reviewer.make(tmp_path / "alice", identity=site.identities[0])
    out = tmp_path / "export"
    alice.run("export", ref, "--out", str(out), "--keep-metadata", where=("--db", site.env["INTAKE_DATABASE_URL"]))
    return out, json.loads((out / "report.json").read_text())


def check_photos(out: Path) -> None:
    """Each photo as sent is the primary image rebuilt, byte for byte what the reviewer's cleaner writes."""
    for name, kind, original in PHOTOS:
        sent = (out / name).read_bytes()
        assert [c for c in photokit.CANARIES + photokit.STRUCTURES if c in sent] == [], name
        assert sent == rebuild(original, kind), name
        assert photokit.pixels(sent) == photokit.pixels(original), name
    assert (out / "cut.jpg").read_bytes() == CUT[2]


def test_photos_rebuilt_and_sealed_in_the_page(browser, live, tmp_path):
    """With WebAssembly: the page seals, and no canary of any photo leaves the browser."""
    site, server = live
    context, page, errors, bodies = open_page(browser, server.url, webassembly=True)
    page.wait_for_selector("html[data-sealing=ready]")
    assert page.is_hidden("#sealing-note")
    description = "canary-photo-3c1d a drone over the market"
    ref = send(page, description, [*PHOTOS, CUT])
    context.close()
    assert errors == []
    sent = b"".join(bodies)
    assert [c for c in [description.encode(), *photokit.CANARIES] if c in sent] == []
    assert open_stored(site.engine, ref, site.identities[:1])[2] == "browser"
    out, report = exported(site, tmp_path, ref)
    check_photos(out)
    assert [a["name"] for a in report["attachments"]] == [*(p[0] for p in PHOTOS), "cut.jpg"]


def test_without_webassembly_photos_cleaned_and_server_sealed(browser, live, tmp_path):
    """WebAssembly off: the page says the server seals, still rebuilds the photos, names cut.jpg, gets a receipt."""
    site, server = live
    context, page, errors, _ = open_page(browser, server.url, webassembly=False)
    page.wait_for_selector("html[data-sealing=server]")
    note = page.inner_text("#sealing-note")
    assert note == page.get_attribute("#js-seal", "data-msg-no-wasm")
    assert "the server seals it" in note
    description = "canary-nowasm-7a02 cameras on every pole"
    ref = send(page, description, [*PHOTOS, CUT])
    assert page.evaluate("document.getElementById('progress').value") == 1
    context.close()
    assert [e for e in errors if not e.startswith(NO_WASM_ERRORS)] == []
    fields, _, sealed_by = open_stored(site.engine, ref, site.identities[:1])
    assert sealed_by == "server"
    assert fields["description"] == description
    out, _ = exported(site, tmp_path, ref)
    check_photos(out)
    assert files_containing([site.settings.instance, server.tmp], description.encode()) == []
