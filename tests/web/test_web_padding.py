"""Attachments arrive padded (format.md §7.1) both ways in: sealed in Chromium, and sealed by the server without
JavaScript. The stored stream is the Padmé size, never the exact one, and the reviewer gets the file byte for byte."""

from __future__ import annotations

import pytest

from intake.crypto.report import open_report
from intake.crypto.stream import padme, sealed_length
from intake.storage.cases import get_case, iter_parts
from tests.support.web import open_stored

pytestmark = [pytest.mark.browser, pytest.mark.slow]
SIZES = [100_003, 65_535, 1_000_001]  # padded to 100_352, 65_536 and 1_015_808 bytes


def clip(size: int) -> bytes:
    """A video-looking file of exactly `size` bytes, which the page sends as it is."""
    head = b"\x00\x00\x00\x18ftypmp42"
    return head + bytes((i * 7 + 3) % 251 for i in range(size - len(head)))


def send(browser, server, javascript: bool, files: list[bytes]) -> str:
    """Fill the form, attach `files`, send it, and return the receipt's case reference."""
    context = browser.new_context(java_script_enabled=javascript)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.goto(server.url + "/")
    if javascript:
        page.wait_for_selector("html[data-sealing=ready]")
    page.select_option("#incident_type", "cctv")
    page.fill("#description", "cameras on every pole of the avenue")
    page.set_input_files("#attachments", [{"name": f"clip{i}.mp4", "mimeType": "video/mp4", "buffer": data}
                                          for i, data in enumerate(files)])
    if javascript:
        page.wait_for_selector("#unclean li")
    page.click("button[type=submit]")
    if javascript:
        page.wait_for_selector("#receipt-box:not([hidden])", timeout=60000)
    else:
        page.wait_for_selector("#receipt")
    ref = page.inner_text("#receipt")
    context.close()
    assert errors == []
    return ref


@pytest.mark.parametrize("javascript", [True, False], ids=["sealed-in-browser", "sealed-by-server"])
def test_attachments_are_stored_padded(browser, live, javascript: bool) -> None:
    """Each stored stream has the length of its Padmé size; the opened files are the originals."""
    site, server = live
    files = [clip(size) for size in SIZES]
    ref = send(browser, server, javascript, files)
    case = get_case(site.engine, ref)
    assert case is not None
    assert case.sealed_by == ("browser" if javascript else "server")
    assert list(case.lengths) == [sealed_length(padme(size)) for size in SIZES]
    assert all(sealed_length(padme(size)) != sealed_length(size) for size in SIZES)
    _, opened, _ = open_stored(site.engine, ref, site.identities[:1])
    assert [data for _, data in opened] == files
    report = open_report(case.header, case.body, len(case.lengths), [site.identities[1]])
    assert report.body.version == 2
    assert [entry.size for entry in report.body.attachments] == SIZES
    assert b"".join(report.attachment(1, iter_parts(site.engine, case.id, 1), case.lengths[1])) == files[1]
