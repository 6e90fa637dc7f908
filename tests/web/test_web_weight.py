"""Page weight (issue 13, point 5): vendored code pinned, precompressed copies served, the form ready fast over Tor.

The browser test loads the form in Debian's Chromium under network emulation (100,000 B/s down,
50,000 B/s up, 600 ms latency) with `bench/weight.py`'s measurement, once as a browser with brotli
and once as one with gzip only.
"""

from __future__ import annotations

import gzip
import hashlib
import re
from pathlib import Path

import brotli
import pytest

from tests.support.web import Server, make_site

ROOT = Path(__file__).resolve().parents[2]
STATIC = ROOT / "intake" / "static"
VENDOR = STATIC / "vendor"
WRAPPERS_IMPORT = (b'from"libsodium-sumo"', b'from"./libsodium-sumo-0.8.4.mjs"')
VENDORED = {  # npm releases, unchanged but for the one import above (see docs/web.md, "Page weight")
    "libsodium-sumo-0.8.4.mjs":  # libsodium-sumo@0.8.4 dist/modules-sumo-esm/libsodium-sumo.mjs
        "4c94708f7e78eac7a32b29e2ce0ff96f4bd599d78c129f27bf8a061e20776c8c",
    "libsodium-wrappers-sumo-0.8.4.mjs":  # libsodium-wrappers-sumo@0.8.4 dist/modules-sumo-esm/libsodium-wrappers.mjs
        "40de1ef7cb8f2caae02c2a8f04809151904fa28cb9364cadedc57af89a6c9284",
    # npm myanmar-tools@1.1.3, package/build_node/*.js (Apache-2.0, LICENSE.myanmar-tools.txt), unchanged
    "myanmar-tools-1.1.3-zawgyi_detector.js": "587ed281fbdeb07ed84c07d5b7bb91b29e706837e69ddffcb809de00aab195c5",
    "myanmar-tools-1.1.3-zawgyi_converter.js": "70ba306db3a1ded2f60b7841ee2616660946aa549eb032c6973f03bb2dd13e21",
}
LANGUAGES = ("en", "km", "my")
MAX_BYTES = 400_000  # with JavaScript, everything the form page loads until it can seal
MAX_SECONDS = 8.0
MAX_NOJS_BYTES = 30 * 1024  # without JavaScript, a page and its style sheet


def test_vendored_files_pinned():
    """Every vendored script is its npm release byte for byte; the wrappers differ by one import, nothing else."""
    assert sorted(str(p.relative_to(VENDOR)) for p in VENDOR.rglob("*") if p.suffix in (".js", ".mjs")) == sorted(
        VENDORED)
    for name, digest in VENDORED.items():
        data = (VENDOR / name).read_bytes()
        if name == "libsodium-wrappers-sumo-0.8.4.mjs":
            assert data.count(WRAPPERS_IMPORT[1]) == 1
            assert WRAPPERS_IMPORT[0] not in data
            data = data.replace(WRAPPERS_IMPORT[1], WRAPPERS_IMPORT[0])
        assert hashlib.sha256(data).hexdigest() == digest, name
    assert "Apache License" in (VENDOR / "LICENSE.myanmar-tools.txt").read_text()


def test_compressed_copies_match():
    """Each `.br` and `.gz` under intake/static opens to exactly its file; every vendored script has both."""
    copies = list(STATIC.rglob("*.br")) + list(STATIC.rglob("*.gz"))
    for copy in copies:
        opened = brotli.decompress(copy.read_bytes()) if copy.suffix == ".br" else gzip.decompress(copy.read_bytes())
        assert opened == copy.with_suffix("").read_bytes(), f"{copy} is stale: remake it (docs/web.md, Page weight)"
    assert {str(c.relative_to(VENDOR)) for c in copies} >= {n + s for n in VENDORED for s in (".br", ".gz")}


def module_graph(entry: Path) -> set[Path]:
    """Every module that `entry` imports, statically or with import(), followed to the end."""
    found: set[Path] = set()
    todo = [entry]
    while todo:
        module = todo.pop()
        for spec in re.findall(r'(?:\bfrom|\bimport)\s*\(?\s*"(\.{1,2}/[^"]+)"', module.read_text(encoding="utf-8")):
            target = (module.parent / spec).resolve()
            if target not in found:
                found.add(target)
                todo.append(target)
    return found


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_preloads_are_the_module_graph(client):
    """The form preloads exactly the modules js/page.js needs, so none waits for another to arrive first."""
    page = client.get("/").get_data(as_text=True)
    preloaded = {(STATIC / href.removeprefix("/static/")).resolve()
                 for href in re.findall(r'<link rel="modulepreload" href="([^"]+)">', page)}
    assert '<script type="module" src="/static/js/page.js">' in page
    graph = module_graph(STATIC / "js" / "page.js")
    assert preloaded == graph, f"PRELOAD in intake/web/static.py must list exactly {sorted(graph)}"


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
@pytest.mark.parametrize(("accept", "encoding"), [("gzip, deflate, br, zstd", "br"), ("gzip, deflate", "gzip"),
                                                  ("identity", None), ("", None)])
def test_static_served_precompressed(client, accept, encoding):
    """The copy the browser accepts, as JavaScript, with the page's headers and no-store, no cookie, no CORS."""
    name = "vendor/libsodium-sumo-0.8.4.mjs"
    original = (STATIC / name).read_bytes()
    response = client.get("/static/" + name, headers={"Accept-Encoding": accept})
    body = response.get_data()
    response.close()
    assert response.status_code == 200
    assert response.headers.get("Content-Encoding") == encoding
    assert {"br": brotli.decompress, "gzip": gzip.decompress, None: bytes}[encoding](body) == original
    assert response.mimetype == "text/javascript"
    assert response.headers["Cache-Control"] == "no-store"
    assert response.headers["Content-Security-Policy"].startswith("default-src 'none'; script-src 'self' ")
    assert response.headers["Cross-Origin-Resource-Policy"] == "same-origin"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    for absent in ("Set-Cookie", "Access-Control-Allow-Origin", "Last-Modified", "ETag", "Server"):
        assert absent not in response.headers, absent


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_static_refusals_carry_headers(client):
    """A POST to a static file, a range past its end and a missing file: refused, with the same headers."""
    post = client.post("/static/js/seal.js", data=b"x")
    beyond = client.get("/static/js/seal.js", headers={"Range": "bytes=99999999-"})
    missing = client.get("/static/vendor/libsodium-sumo-0.8.4.js")
    for response, status in ((post, 405), (beyond, 416), (missing, 404)):
        assert response.status_code == status
        assert response.headers["Cache-Control"] == "no-store"
        assert response.headers["Content-Security-Policy"].startswith("default-src 'none';")
        response.close()


def fetch(client, method: str, url: str, **kwargs: object) -> tuple[int, bytes]:
    """Status and body of one request, its response closed."""
    response = client.open(url, method=method, **kwargs)
    with response:
        return response.status_code, response.get_data()


def nojs_pages(client, query: str, headers: dict[str, str]) -> dict[str, tuple[int, bytes]]:
    """Every page a reporter can reach without JavaScript: status and HTML."""
    def form() -> dict[str, str]:
        """The fields of a form page fetched now (a page posts once, so each post gets its own)."""
        page = client.get("/" + query, headers=headers).get_data(as_text=True)
        token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
        return {"csrf_token": token, "incident_type": "drone", "description": "canary-weight-3c1d " * 40}

    return {"form": fetch(client, "GET", "/" + query, headers=headers),
            "receipt": fetch(client, "POST", "/report" + query, data=form(), headers=headers),
            "form with an error": fetch(client, "POST", "/report" + query, data={**form(), "description": ""},
                                        headers=headers),
            "refused": fetch(client, "POST", "/report" + query, data={**form(), "website": "http://spam.example"},
                             headers=headers),
            "not found": fetch(client, "GET", "/no/such/page" + query, headers=headers)}


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
@pytest.mark.parametrize("lang", LANGUAGES)
def test_nojs_pages_light(client, lang):
    """Without JavaScript, every page with its style sheet stays under 30 KB, by Accept-Language and by ?lang=."""
    sizes = {}
    for query, headers in (("", {"Accept-Language": lang}), (f"?lang={lang}", {})):
        for name, (status, html) in nojs_pages(client, query, headers).items():
            assert status == {"receipt": 200, "form": 200, "not found": 404}.get(name, 400), name
            sheets = re.findall(rb'<link rel="stylesheet" href="([^"]+)">', html)
            assert sheets, name
            sizes[query or lang, name] = len(html) + sum(len(fetch(client, "GET", s.decode())[1]) for s in sheets)
    assert max(sizes.values()) < MAX_NOJS_BYTES, sizes


@pytest.mark.browser
@pytest.mark.slow
@pytest.mark.serial  # seconds to seal, measured
@pytest.mark.parametrize("encodings", [None, "gzip, deflate"])
def test_ready_fast_over_tor(tmp_path, encodings):
    """With JavaScript, the form paints before the crypto arrives, and can seal within 8 s after at most 400 KB."""
    from playwright.sync_api import sync_playwright

    from bench.weight import CHROMIUM_ARGS, load

    made = make_site(tmp_path, f"sqlite:///{tmp_path / 'instance' / 'intake.db'}")
    server = Server(made.env, tmp_path).start()
    try:
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
            got = load(browser, server.url + "/", javascript=True, encodings=encodings)
            browser.close()
    finally:
        server.stop()
        made.engine.dispose()
    assert got["bytes"] <= MAX_BYTES, got["by_url"]
    assert got["seconds"] <= MAX_SECONDS, got
    assert got["paint_s"] is not None
    assert got["paint_s"] < got["seconds"] - 1, got
    libsodium = got["by_url"]["/static/vendor/libsodium-sumo-0.8.4.mjs"]
    assert libsodium < 0.5 * (STATIC / "vendor" / "libsodium-sumo-0.8.4.mjs").stat().st_size, "sent uncompressed"
