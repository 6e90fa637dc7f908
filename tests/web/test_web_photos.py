"""Phone-shaped photos sent from Debian's Chromium to a real `intake serve`, then exported by the reviewer's real
`intake-review export --keep-metadata`: the page's cleaner rebuilt each photo exactly as the reviewer's does, with
WebAssembly (sealed in the page) and without it (Tor Browser's "Safer" level: sealed by the server on arrival)."""

from __future__ import annotations

import base64
import hashlib
import io
import json
import random
from pathlib import Path

import pytest
from PIL import Image

from intake.review.metadata import sniff
from intake.review.rebuild import Unparsed, rebuild
from tests.support import photos as photokit
from tests.support.reviewkit import Reviewer
from tests.support.web import files_containing, open_stored

pytestmark = [pytest.mark.browser, pytest.mark.slow]
PHOTOS = [("thumb.jpg", "image/jpeg", photokit.thumbnail_photo()), ("portrait.jpg", "image/jpeg", photokit.mpf_photo()),
          ("motion.jpg", "image/jpeg", photokit.motion_photo()), ("screen.png", "image/png", photokit.text_png()),
          ("sticker.webp", "image/webp", photokit.webp_photo()),
          ("turned.jpg", "image/jpeg", photokit.portrait_photo())]
CUT = ("cut.jpg", "image/jpeg", photokit.truncated_jpeg())
# What libsodium.js reports when WebAssembly is gone: expected in that test, an error anywhere else.
NO_WASM_ERRORS = ("WebAssembly is not defined", "Cannot read properties of undefined")


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
    page.select_option("#incident_type", "cctv")
    page.fill("#description", description)
    page.set_input_files("#attachments", [{"name": n, "mimeType": t, "buffer": d} for n, t, d in files])
    page.wait_for_selector("#unclean li")
    assert page.locator("#unclean .name").all_inner_texts() == ["cut.jpg"]
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


def check_originals(report: dict) -> None:
    """Each file's `original_sha256` (format.md §5.1) is the SHA-256 of the file as chosen, before the page cleaned
    it; `sha256` that of the cleaned copy sealed; for cut.jpg, sent as chosen, the two are the same."""
    chosen = {name: hashlib.sha256(data).hexdigest() for name, _, data in [*PHOTOS, CUT]}
    assert {a["name"]: a["original_sha256"] for a in report["attachments"]} == chosen
    assert [a["sha256"] == a["original_sha256"] for a in report["attachments"]] == [False] * len(PHOTOS) + [True]


def check_photos(out: Path) -> None:
    """Each photo as sent is the primary image rebuilt, byte for byte what the reviewer's cleaner writes, with no
    EXIF but the phone's portrait photo's orientation."""
    for name, kind, original in PHOTOS:
        sent = (out / name).read_bytes()
        assert [c for c in photokit.CANARIES + photokit.STRUCTURES_BUT_EXIF if c in sent] == [], name
        assert photokit.only_orientation(sent) == (6 if name == "turned.jpg" else None), name
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
    check_originals(report)
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
    out, report = exported(site, tmp_path, ref)
    check_photos(out)
    check_originals(report)
    assert files_containing([site.settings.instance, server.tmp], description.encode()) == []


def odd_files() -> list[bytes]:
    """Photos with restart markers, fill bytes, an Adobe header; broken ones; and seeded random damage."""
    def saved(img: Image.Image, fmt: str, **options: object) -> bytes:
        out = io.BytesIO()
        img.save(out, fmt, **options)
        return out.getvalue()

    restarts = saved(Image.new("RGB", (64, 64), (9, 99, 199)), "JPEG", restart_marker_blocks=1)
    cmyk = saved(Image.new("CMYK", (32, 32), (9, 99, 199, 5)), "JPEG")
    dqt = restarts.index(b"\xff\xdb")
    png = photokit.text_png()
    files = [restarts, cmyk, restarts[:dqt] + b"\xff\xff" + restarts[dqt:], restarts[:-2], restarts + restarts,
             photokit.pixel_bomb(), png[:-30], png[:40] + b"\x00" + png[41:], photokit.truncated_jpeg(),
             photokit.with_segments(restarts, restarts[restarts.index(b"\xff\xc0"):restarts.index(b"\xff\xc4")]),
             saved(Image.new("RGBA", (20, 20), (5, 6, 7, 8)), "WEBP", lossless=True),
             saved(Image.new("RGB", (20, 20)), "WEBP", save_all=True, append_images=[Image.new("RGB", (20, 20), 9)])]
    rng = random.Random(10)  # noqa: S311 - reproducible damage, not a secret
    files += [photokit.portrait_photo(), *(photo for _, photo, _ in photokit.orientation_cases())]
    for base in (photokit.thumbnail_photo(), photokit.mpf_photo(), png, cmyk, photokit.webp_photo()):
        for _ in range(25):
            at = rng.randrange(len(base))
            files.append(base[:at] + bytes([rng.randrange(256)]) + base[at + 1:])
            files.append(base[:at])
    turned = photokit.portrait_photo()
    exif = turned.index(b"Exif\x00\x00")
    for _ in range(40):  # the orientation's reader: damage inside the EXIF segment, which still frames whole
        at = rng.randrange(exif, exif + int.from_bytes(turned[exif - 2:exif], "big") - 2)
        files.append(turned[:at] + bytes([rng.randrange(256)]) + turned[at + 1:])
    return files


def test_page_and_reviewer_cleaners_agree(browser, live):
    """metadata.js and intake/review/rebuild.py rebuild the same bytes, or both refuse, for odd and damaged files."""
    _, server = live
    context, page, errors, _ = open_page(browser, server.url, webassembly=True)
    files = odd_files()
    results = page.evaluate("""async (files) => {
        const m = await import("/static/js/metadata.js");
        const b64 = (bytes) => btoa(String.fromCharCode(...bytes));
        return files.map((text) => {
            const data = Uint8Array.from(atob(text), (c) => c.charCodeAt(0));
            const rebuild = {"image/jpeg": m.rebuildJpeg, "image/png": m.rebuildPng, "image/webp": m.rebuildWebp};
            const kind = m.kindOf(data);
            if (!kind) return "Unparsed";
            try { return b64(rebuild[kind](data)); } catch (e) { return e.constructor.name; }
        });
    }""", [base64.b64encode(f).decode() for f in files])
    turned = base64.b64encode(rebuild(photokit.portrait_photo(), "image/jpeg")).decode()
    shown = page.evaluate("""async (text) => {
        const bitmap = await createImageBitmap(new Blob([Uint8Array.from(atob(text), (c) => c.charCodeAt(0))]),
                                               {imageOrientation: "from-image"});
        return [bitmap.width, bitmap.height];
    }""", turned)
    context.close()
    assert errors == []
    assert shown == [240, 320]  # Chromium turns the rebuilt portrait photo upright by its one tag
    refused = 0
    for n, (data, got) in enumerate(zip(files, results, strict=True)):
        try:
            expected = base64.b64encode(rebuild(data, str(sniff(data[:16])))).decode()
        except Unparsed:
            expected = "Unparsed"
        assert got == expected, n
        refused += expected == "Unparsed"
    assert 0 < refused < len(files)


def test_without_javascript_nothing_changes(browser, live, tmp_path):
    """JavaScript off: the form posts the photo as it is, the page says so, and no sealing note is shown."""
    site, server = live
    context = browser.new_context(java_script_enabled=False)
    page = context.new_page()
    page.goto(server.url + "/")
    assert "JavaScript is off: your files are sealed on arrival exactly as they are" in page.inner_text("form")
    assert page.is_hidden("#sealing-note")
    page.select_option("#incident_type", "cctv")
    page.fill("#description", "canary-nojs-photo-5b9e a camera on the bridge")
    name, kind, photo = PHOTOS[1]
    page.set_input_files("#attachments", [{"name": name, "mimeType": kind, "buffer": photo}])
    page.click("button[type=submit]")
    ref = page.inner_text("#receipt")
    context.close()
    out, report = exported(site, tmp_path, ref)
    assert (out / name).read_bytes() == photo
    assert report["attachments"][0]["original_sha256"] == report["attachments"][0]["sha256"]  # sealed as it arrived


def test_libsodium_that_does_not_load_means_server_sealing(browser, live):
    """WebAssembly on but libsodium.js not delivered: the page says the server seals, and sends that way."""
    site, server = live
    context = browser.new_context()
    page = context.new_page()
    page.route("**/vendor/libsodium-*.mjs", lambda route: route.abort("connectionreset"))
    page.goto(server.url + "/")
    page.wait_for_selector("html[data-sealing=server]")
    assert page.is_visible("#sealing-note")
    page.select_option("#incident_type", "drone")
    page.fill("#description", "canary-nolib-2d4f a drone at night")
    page.set_input_files("#attachments", [{"name": n, "mimeType": t, "buffer": d} for n, t, d in PHOTOS[:1]])
    page.click("button[type=submit]")
    page.wait_for_selector("#receipt-box:not([hidden])")
    ref = page.inner_text("#receipt")
    context.close()
    _, files, sealed_by = open_stored(site.engine, ref, site.identities[:1])
    assert sealed_by == "server"
    assert files == [(PHOTOS[0][0], rebuild(PHOTOS[0][2], PHOTOS[0][1]))]
