"""The server's posture: headers on the form, the receipt, an error page and a static file; cookies."""

from __future__ import annotations

import dataclasses

import pytest

from tests.support import ROOT
from tests.support.web import csrf_token

EXPECTED = {  # as issue 3 states them, not imported from the code under test
    "Content-Security-Policy": "default-src 'none'; script-src 'self' 'wasm-unsafe-eval'; style-src 'self'; "
                               "img-src 'self'; connect-src 'self'; form-action 'self'; base-uri 'none'; "
                               "frame-ancestors 'none'",
    "Referrer-Policy": "same-origin",
    "X-Content-Type-Options": "nosniff",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Cross-Origin-Resource-Policy": "same-origin",
    "Permissions-Policy": "camera=(), microphone=(), geolocation=()",
}


def check(response) -> None:
    """Every security header, no-store (static files too: a reporter's browser keeps no trace), no server banner."""
    for name, value in EXPECTED.items():
        assert response.headers.get(name) == value, name
    assert response.headers.get("Cache-Control") == "no-store"
    assert "Server" not in response.headers


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_headers_everywhere(client, site):
    """The form, the receipt, an error page, a JSON error and a static file all carry the headers."""
    check(client.get("/"))
    receipt = client.post("/report", data={"csrf_token": csrf_token(client), "incident_type": "other",
                                           "description": "canary-headers-11aa"})
    assert receipt.status_code == 200
    assert 'id="receipt"' in receipt.get_data(as_text=True)
    check(receipt)
    missing = client.get("/no/such/page")
    assert missing.status_code == 404
    assert "Back to the report form" in missing.get_data(as_text=True)
    check(missing)
    check(client.get("/api/v1/uploads/nope"))
    check(client.get("/keyring.json"))
    css = client.get("/static/style.css")
    assert css.status_code == 200
    check(css)
    css.close()


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_no_cookie(client):
    """No cookie at all, over HTTP or HTTPS (tests/web/test_floods_cheap.py tries every route)."""
    assert client.get("/").headers.get_all("Set-Cookie") == []
    assert client.get("/", base_url="https://intake.example").headers.get_all("Set-Cookie") == []


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_onion_location(site):
    """Onion-Location on pages when INTAKE_ONION is set."""
    from intake.web import create_app

    onion = "http://" + "a" * 56 + ".onion"
    application = create_app(dataclasses.replace(site.settings, onion=onion))
    assert application.test_client().get("/").headers["Onion-Location"] == onion + "/"
    application.extensions["intake"].engine.dispose()


def test_no_inline_script_or_style():
    """Templates carry no inline script, style element or style attribute, and load nothing external. The one
    exception is the offline kit's file (kit.html): a page opened from the phone's storage can load nothing, so
    its script and style are inline, allowed by their hashes alone (tests/web/test_kit_browser.py checks it)."""
    for path in (ROOT / "templates").glob("*.html"):
        if path.name == "kit.html":
            continue
        text = path.read_text(encoding="utf-8")
        for banned in ("<style", "style=", "javascript:", "<script>", "http://", "//cdn"):
            assert banned not in text, (path.name, banned)
        bare = text.replace('<script src="{{', "").replace('<script type="module" src="{{', "")
        assert "<script " not in bare, path.name
