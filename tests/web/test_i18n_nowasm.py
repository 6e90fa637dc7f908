"""WebAssembly off (Tor Browser's "Safer" level) in Khmer and Burmese: the server-sealing messages come in the
page's language, fit 360 px, and the report still arrives, with its receipt in that language."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.support.browser import fits, phone
from tests.support.catalogs import catalog

pytestmark = [pytest.mark.browser, pytest.mark.slow]
NO_WASM = ("This browser cannot seal your report itself (WebAssembly is off, as in Tor Browser at its Safer level). "
           "You can still send it: the server seals it the moment it arrives, before storing it, and photos are "
           "still cleaned of location and camera details here first. The server sees your report in memory while "
           "it seals it.")
SENDING = "Sending; the server seals your report on arrival…"
# What libsodium.js reports when WebAssembly is gone: expected here, as in tests/web/test_web_photos.py.
NO_WASM_ERRORS = ("WebAssembly is not defined", "Cannot read properties of undefined")


@pytest.mark.parametrize("lang", ["km", "my"])
def test_server_sealing_told_in_the_language(browser, served, lang, tmp_path):
    """The note and the sending status are the catalog's words, no English, no sideways scroll; a receipt follows."""
    _site, server, _root = served
    shots = Path(os.environ.get("INTAKE_SHOTS") or tmp_path)
    shots.mkdir(parents=True, exist_ok=True)
    words = catalog(lang)
    context, page, problems = phone(browser)
    context.add_init_script("delete window.WebAssembly;")
    statuses: list[str] = []
    page.expose_function("sawStatus", lambda text: statuses.append(text))
    context.add_init_script("""addEventListener("DOMContentLoaded", () => new MutationObserver(
        () => window.sawStatus(document.getElementById("status").textContent)).observe(
        document.getElementById("status"), {childList: true, characterData: true, subtree: true}));""")
    page.goto(f"{server.url}/?lang={lang}")
    page.wait_for_selector("html[data-sealing=server]")
    note = page.inner_text("#sealing-note")
    assert note == words[NO_WASM]
    assert "the server" not in note
    fits(page, f"{lang}-form-nowasm", shots)
    page.select_option("#incident_type", "drone")
    page.fill("#description", "cameras at the market")
    page.click("button[type=submit]")
    page.wait_for_selector("#receipt")
    assert page.get_attribute("html", "lang") == lang
    assert words[SENDING] in statuses
    assert SENDING not in statuses
    fits(page, f"{lang}-receipt-nowasm", shots)
    assert [p for p in problems if not any(e in p for e in NO_WASM_ERRORS)] == []
    context.close()
