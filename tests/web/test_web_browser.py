"""Debian's Chromium against a real `intake serve`: sealing in the page, resuming, no JavaScript, the vectors.

Any CSP violation or page error fails a test. After each flow, the report's canary string must be in
none of the database files, the instance folder or the server's temp folder.
"""

from __future__ import annotations

import base64
import io
import json
from pathlib import Path

import pytest
from PIL import Image, PngImagePlugin
from sqlalchemy import delete

from intake.storage.cases import iter_cases
from intake.storage.schema import parts
from tests.support import VECTORS
from tests.support.browser import Watched, fill, wait_receipt
from tests.support.web import files_containing, open_stored

pytestmark = [pytest.mark.browser, pytest.mark.slow]
GPS_CANARY = "canary-gps-5e2a"


def gps_jpeg() -> bytes:
    """A small JPEG carrying a GPS EXIF block and a description with a canary."""
    exif = Image.Exif()
    exif[0x010E] = GPS_CANARY
    gps = exif.get_ifd(0x8825)
    gps.update({1: "N", 2: (11.0, 33.0, 25.0), 3: "E", 4: (104.0, 55.0, 1.0)})
    out = io.BytesIO()
    Image.new("RGB", (64, 48), (200, 30, 30)).save(out, "JPEG", exif=exif)
    data = out.getvalue()
    assert GPS_CANARY.encode() in data
    assert Image.open(io.BytesIO(data)).getexif().get_ifd(0x8825)
    return data


def text_png() -> bytes:
    """A small PNG with a text chunk naming a place."""
    info = PngImagePlugin.PngInfo()
    info.add_text("Location", GPS_CANARY)
    out = io.BytesIO()
    Image.new("RGB", (32, 32), (0, 90, 200)).save(out, "PNG", pnginfo=info)
    return out.getvalue()


def leaks(site, server, canary: bytes) -> list[Path]:
    """Files of the database, instance and server temp folder holding `canary`."""
    return files_containing([site.settings.instance, server.tmp], canary)


def test_sealed_in_browser(browser, live):
    """Text and three files sealed in Chromium: nothing readable is sent, the case opens, the JPEG lost its GPS."""
    site, server = live
    context = browser.new_context()
    watched = Watched(context)
    page = watched.page
    page.goto(server.url + "/")
    page.wait_for_selector("html[data-sealing=ready]")
    description = "canary-js-91ab the drone followed us from the bridge"
    fill(page, description)
    jpeg, png, clip = gps_jpeg(), text_png(), b"\x00\x00\x00\x18ftypmp42" + bytes(5000)
    page.set_input_files("#attachments", [{"name": "photo.jpg", "mimeType": "image/jpeg", "buffer": jpeg},
                                          {"name": "shot.png", "mimeType": "image/png", "buffer": png},
                                          {"name": "clip.mp4", "mimeType": "video/mp4", "buffer": clip}])
    page.wait_for_selector("#unclean li")  # issue 20.8: listed as soon as chosen, above the button; one press
    assert page.locator("#unclean .name").all_inner_texts() == ["clip.mp4"]
    page.click("button[type=submit]")
    ref = wait_receipt(page)
    watched.check()
    sent = b"".join(watched.bodies)
    assert description.encode() not in sent
    assert GPS_CANARY.encode() not in sent
    assert b"GPS" not in sent
    fields, files, sealed_by = open_stored(site.engine, ref, site.identities[1:])
    assert fields["description"] == description
    assert sealed_by == "browser"
    names = [name for name, _ in files]
    assert names == ["photo.jpg", "shot.png", "clip.mp4"]
    opened_jpeg = Image.open(io.BytesIO(files[0][1]))
    assert not opened_jpeg.getexif().get_ifd(0x8825)
    assert GPS_CANARY.encode() not in files[0][1]
    assert opened_jpeg.size == (64, 48)
    assert GPS_CANARY.encode() not in files[1][1]
    assert Image.open(io.BytesIO(files[1][1])).size == (32, 32)
    assert files[2][1] == clip
    context.close()
    assert leaks(site, server, description.encode()) == []


def test_resume_after_cut(browser, live):
    """A part whose connection is cut is sent again, and the upload goes on without starting over."""
    site, server = live
    context = browser.new_context()
    watched = Watched(context)
    page = watched.page
    cut: list[str] = []
    puts: list[str] = []

    def route(request_route) -> None:
        request = request_route.request
        if request.method == "PUT":
            puts.append(request.url.rsplit("/", 2)[-2] + "/" + request.url.rsplit("/", 1)[-1])
        if request.method == "PUT" and request.url.endswith("/0/1") and not cut:
            cut.append(request.url)
            request_route.abort("connectionreset")
        else:
            request_route.continue_()

    page.route("**/api/v1/uploads/**", route)
    page.goto(server.url + "/")
    page.wait_for_selector("html[data-sealing=ready]")
    description = "canary-resume-44d0 a camera van outside the school"
    fill(page, description)
    video = bytes(range(256)) * (10 * 1024)
    page.set_input_files("#attachments", [{"name": "long.webm", "mimeType": "video/webm", "buffer": video}])
    page.wait_for_selector("#unclean li")
    page.click("button[type=submit]")
    ref = wait_receipt(page)
    watched.problems = [p for p in watched.problems if "ERR_CONNECTION_RESET" not in p and "Failed to fetch" not in p]
    watched.check()
    assert cut
    assert puts == ["0/0", "0/1", "0/1", "0/2"]
    _, files, _ = open_stored(site.engine, ref, site.identities)
    assert files == [("long.webm", video)]
    context.close()
    assert leaks(site, server, description.encode()) == []


def test_part_lost_in_a_machine_crash_is_sent_again(browser, live):
    """A part the server acknowledged but lost (as a crash of its machine loses a part committed without an
    fsync: docs/web.md, "One durable point") shows as missing; the page seals that stream again, sends it
    and completes, and the case opens whole."""
    site, server = live
    context = browser.new_context()
    watched = Watched(context)
    page = watched.page
    completes: list[int] = []

    def route(request_route) -> None:
        request = request_route.request
        if request.method == "POST" and request.url.endswith("/complete") and not completes:
            with site.engine.begin() as conn:  # the lost part: acknowledged, then gone
                conn.execute(delete(parts).where(parts.c.idx == 0, parts.c.part == 1))
        if request.method == "POST" and request.url.endswith("/complete"):
            completes.append(1)
        request_route.continue_()

    page.route("**/api/v1/uploads/**", route)
    page.goto(server.url + "/")
    page.wait_for_selector("html[data-sealing=ready]")
    description = "canary-lost-part-8a1e a patrol at the bridge"
    fill(page, description)
    video = bytes(range(256)) * (10 * 1024)
    page.set_input_files("#attachments", [{"name": "bridge.webm", "mimeType": "video/webm", "buffer": video}])
    page.wait_for_selector("#unclean li")  # listed as soon as chosen; one press sends (issue 20.8)
    page.click("button[type=submit]")
    ref = wait_receipt(page)
    watched.problems = [p for p in watched.problems if "409" not in p]
    watched.check()
    assert len(completes) == 2
    _, files, _ = open_stored(site.engine, ref, site.identities)
    assert files == [("bridge.webm", video)]
    context.close()


def test_without_javascript(browser, live):
    """With JavaScript off the same form posts to /report; the first load is under 30 KB; the case opens."""
    site, server = live
    context = browser.new_context(java_script_enabled=False)
    watched = Watched(context)
    page = watched.page
    responses = []
    page.on("response", lambda response: responses.append(response))
    page.goto(server.url + "/")
    page.wait_for_load_state("load")
    sizes = {r.url: len(r.body()) for r in responses}
    assert server.url + "/static/style.css" in sizes
    assert 0 < sum(sizes.values()) < 30 * 1024, sizes
    description = "canary-nojs-b7e3 face scanners at the checkpoint"
    fill(page, description)
    photo = gps_jpeg()
    page.set_input_files("#attachments", [{"name": "checkpoint.jpg", "mimeType": "image/jpeg", "buffer": photo}])
    page.click("button[type=submit]")
    page.wait_for_selector("#receipt")
    ref = page.inner_text("#receipt")
    watched.check()
    fields, files, sealed_by = open_stored(site.engine, ref, site.identities[:1])
    assert fields["description"] == description
    assert files == [("checkpoint.jpg", photo)]
    assert sealed_by == "server"
    assert len(list(iter_cases(site.engine))) == 1
    context.close()
    assert leaks(site, server, description.encode()) == []
    assert leaks(site, server, GPS_CANARY.encode()) == []


def read_vector(path: Path) -> dict[str, object]:
    """A vector file's lines and its bytes, for the page."""
    head, data = path.read_bytes().split(b"\n\n", 1)
    lines = [line.split(": ", 1) for line in head.decode().splitlines()]
    return {"name": path.name, "expect": next(v for k, v in lines if k == "expect"),
            "identities": [v for k, v in lines if k == "identity"],
            "body": next((json.loads(v) for k, v in lines if k == "body"), None),
            "data": base64.b64encode(data).decode()}


def test_vectors_in_chromium(browser, live):
    """The page's own seal.js opens every vector with the expected result or error."""
    _, server = live
    context = browser.new_context()
    watched = Watched(context)
    page = watched.page
    page.goto(server.url + "/")
    page.wait_for_selector("html[data-sealing=ready]")
    vectors = [read_vector(p) for p in sorted(VECTORS.glob("*.vec"))]
    results = page.evaluate("""async (vectors) => {
        const seal = await import("/static/js/seal.js");
        await seal.ready();
        return vectors.map((v) => {
            const data = sodium.from_base64(v.data, sodium.base64_variants.ORIGINAL);
            try {
                const opened = seal.openEnvelope(data, v.identities.map(seal.parseIdentity));
                return {name: v.name, got: "success", body: opened.body};
            } catch (e) {
                return {name: v.name, got: e.expect || String(e), body: null};
            }
        });
    }""", vectors)
    watched.check()
    assert len(results) == len(vectors) >= 33
    for vector, result in zip(vectors, results, strict=True):
        assert result["got"] == vector["expect"], vector["name"]
        if vector["expect"] == "success":
            assert result["body"] == vector["body"], vector["name"]
    context.close()
