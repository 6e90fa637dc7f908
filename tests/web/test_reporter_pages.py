"""The reporter's pages at 360 px in Debian's Chromium, as issue 20 (items 4-12, 14) and issue 19 (11, 14, 16) saw
them: the receipt in view after sending, the type-back label, files reviewed as they are chosen, the size limit,
whole fingerprint groups, a codename field that fits a codename, the form first, and true words on each path.

`INTAKE_SCREENSHOTS=docs/screenshots` writes the receipt screenshots that docs/web.md shows.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

from tests.support.browser import phone, wait_receipt
from tests.support.catalogs import catalog
from tests.support.photos import CANARIES, pixels, thumbnail_photo
from tests.support.threadfiles import report, stored
from tests.support.web import Server, make_site

pytestmark = [pytest.mark.browser, pytest.mark.slow]
LANGS = ("en", "km", "my")
TYPE_GROUP = "To check your copy, type group %(n)s of your codename from your paper (5 digits):"
CLIP = b"\x00\x00\x00\x18ftypmp42" + bytes(5000)


def words(lang: str, msgid: str) -> str:
    """A message as the page in `lang` shows it."""
    return msgid if lang == "en" else catalog(lang)[msgid]


def choose(page, files: list[tuple[str, str, bytes]]) -> None:
    """Choose files in the page's file field."""
    page.set_input_files("#attachments", [{"name": n, "mimeType": t, "buffer": d} for n, t, d in files])


@pytest.mark.parametrize("lang", LANGS)
def test_receipt_in_view_with_the_codename(browser, served, lang, tmp_path):
    """Items 4 and 7: after sending, focus and view are on "Your report was received" and the codename; the
    type-back label names the group as the no-JS receipt does."""
    _site, server, _root = served
    shots = Path(os.environ.get("INTAKE_SCREENSHOTS") or tmp_path)
    context, page, problems = phone(browser)
    page.goto(f"{server.url}/?lang={lang}")
    page.wait_for_selector("html[data-sealing=ready]")
    page.select_option("#incident_type", "drone")
    page.fill("#description", "a drone over the market " * 40)
    page.click("#report-form button[type=submit]")
    wait_receipt(page)
    assert page.evaluate("document.activeElement.id") == "receipt-heading"
    for selector in ("#receipt-heading", "#codename"):
        box = page.locator(selector).bounding_box()
        assert box["y"] >= -1, (selector, box)
        assert box["y"] + box["height"] <= 740, (selector, box)
    label = page.inner_text("#typed-label")
    group = re.search(r"\d", label).group(0)
    assert label == words(lang, TYPE_GROUP).replace("%(n)s", group)
    page.screenshot(path=str(shots / f"receipt-{lang}.png"))  # the viewport only, right after sending
    context.close()
    assert problems == []


def test_files_reviewed_as_they_are_chosen(browser, served):
    """Item 8: a video is listed at once, above the button, with Remove; removing it keeps the photo; an unrelated
    error shows no stale list; one press sends."""
    _site, server, _root = served
    context, page, problems = phone(browser)
    sent: list[str] = []
    page.on("request", lambda r: sent.append(r.url) if r.method != "GET" else None)
    page.goto(server.url + "/")
    page.wait_for_selector("html[data-sealing=ready]")
    choose(page, [("photo.jpg", "image/jpeg", thumbnail_photo()), ("clip.mp4", "video/mp4", CLIP)])
    page.wait_for_selector("#unclean li")
    assert page.locator("#unclean .name").all_inner_texts() == ["clip.mp4"]
    note, button = page.locator("#files-note").bounding_box(), page.locator("#report-form button[type=submit]")
    assert note["y"] + note["height"] <= button.bounding_box()["y"], "the warning sits above the button"
    page.click("#unclean button")
    page.wait_for_selector("#files-note", state="hidden")
    assert page.evaluate("[...document.getElementById('attachments').files].map(f => f.name)") == ["photo.jpg"]
    assert sent == []
    page.select_option("#incident_type", "cctv")
    page.fill("#description", "cameras at the junction")
    page.route("**/api/v1/reports", lambda route: route.abort())
    page.click("#report-form button[type=submit]")  # an unrelated error: the connection fails
    page.wait_for_selector("#status.error")
    assert page.inner_text("#status").startswith(page.get_attribute("#js-seal", "data-msg-failed"))
    assert page.is_hidden("#files-note"), "no stale list under the next error"
    page.unroute("**/api/v1/reports")
    choose(page, [("clip.mp4", "video/mp4", CLIP)])
    page.wait_for_selector("#unclean li")
    page.click("#report-form button[type=submit]")  # one press
    wait_receipt(page)
    context.close()
    assert [p for p in problems if "ERR_FAILED" not in p] == []  # but the connection the test broke


def test_size_limit_stated_and_checked_in_the_page(browser, tmp_path):
    """Item 9: the limit is written by the file field on both forms; a file past it is refused in the page, as an
    error, before a byte leaves."""
    site = make_site(tmp_path, f"sqlite:///{tmp_path / 'instance' / 'intake.db'}", max_report_bytes=1 << 20)
    server = Server(site.env, tmp_path).start()
    try:
        for javascript in (False, True):
            context, page, problems = phone(browser, javascript=javascript)
            page.goto(server.url + "/")
            assert "At most 1 MiB in all." in page.inner_text("#attachments-hint")
            context.close()
        context, page, problems = phone(browser)
        sent: list[str] = []
        page.on("request", lambda r: sent.append(r.url) if r.method != "GET" else None)
        page.goto(server.url + "/")
        page.wait_for_selector("html[data-sealing=ready]")
        page.select_option("#incident_type", "cctv")
        page.fill("#description", "cameras at the junction")
        choose(page, [("long.mp4", "video/mp4", CLIP * 300)])
        page.wait_for_selector("#files-note:not([hidden])")
        assert page.inner_text("#files-message") == page.get_attribute("#js-seal", "data-msg-too-large")
        assert page.get_attribute("#files-message", "class") == "error"
        page.click("#report-form button[type=submit]")
        page.wait_for_timeout(500)
        assert sent == []
        assert page.is_hidden("#receipt-box")
        context.close()
        assert problems == []
    finally:
        server.stop()
        site.engine.dispose()


@pytest.mark.parametrize("lang", LANGS)
def test_form_first_and_fingerprint_whole(browser, served, lang):
    """Items 12 and 10: the first field is near the top of a phone, the verification details are linked from there
    and lie below the form, and no fingerprint group breaks across lines."""
    _site, server, _root = served
    context, page, problems = phone(browser, javascript=False)
    page.goto(f"{server.url}/?lang={lang}")
    assert page.locator("#incident_type").bounding_box()["y"] < 500
    assert page.get_attribute("a[href='#safety']", "href") == "#safety"
    assert page.locator("#fingerprint").bounding_box()["y"] > page.locator("#report-form").bounding_box()["y"]
    lines = page.evaluate("[...document.querySelectorAll('#fingerprint .group')].map(g => g.getClientRects().length)")
    assert lines == [1] * 10
    context.close()
    assert problems == []


@pytest.mark.parametrize("lang", LANGS)
def test_codename_field_fits_a_codename(browser, served, lang):
    """Item 11: a typed codename, in the language's digits, shows whole in the /check field at 360 px."""
    _site, server, _root = served
    digits = {"en": "0123456789", "km": "០១២៣៤៥៦៧៨៩", "my": "၀၁၂၃၄၅၆၇၈၉"}[lang]
    typed = " ".join("".join(digits[(i * 5 + j) % 10] for j in range(5)) for i in range(5))
    context, page, problems = phone(browser, javascript=False)
    page.goto(f"{server.url}/check?lang={lang}")
    page.fill("#codename", typed)
    assert page.evaluate("(e => e.scrollWidth <= e.clientWidth)(document.getElementById('codename'))")
    context.close()


def test_check_pages_say_what_is_true(browser, served):
    """Issue 19.16 and item 14: without JavaScript the follow-up form says photos keep their location, the pages
    say what a browser keeps, the status reads with one colon; the no-JS receipt does not claim the server
    cannot read the report."""
    _site, server, _root = served
    context, page, problems = phone(browser, javascript=False)
    page.goto(server.url + "/")
    page.select_option("#incident_type", "drone")
    page.fill("#description", "a drone over the market")
    page.click("#report-form button[type=submit]")
    receipt = page.inner_text("main")
    assert "This server cannot read it" not in receipt
    assert "This server sealed your report the moment it arrived" in receipt
    assert "an ordinary browser may keep what you type" in receipt
    codename = page.inner_text("#codename")
    page.goto(server.url + "/check")
    assert "an ordinary browser may keep what you type" in page.inner_text("main")
    page.fill("#codename", codename)
    page.click("#check-form button")
    thread = page.inner_text("main")
    assert "photos keep their location and camera details" in page.inner_text("#message-form")
    assert page.inner_text("#case-status") == "Your report: Received, not yet marked by a reviewer."
    assert "an ordinary browser may keep what you type" in thread
    page.goto(server.url + "/check")
    page.fill("#codename", "1234")
    page.click("#check-form button")
    assert page.inner_text("h1") == "Your codename could not be checked"  # item 6
    assert page.get_attribute("main a", "href") == "/check"
    context.close()


def test_follow_up_photo_cleaned_without_webassembly(browser, served):
    """Issue 19.14: JavaScript on, WebAssembly off, the thread page the server made: the photo is rebuilt before
    the form posts it, so the server receives no GPS or camera details."""
    _site, server, _root = served
    context, _page, _problems = phone(browser)
    ref, codename = report(context, server.url)
    context.close()
    context, page, problems = phone(browser)
    context.add_init_script("delete window.WebAssembly;")
    page.goto(server.url + "/check")
    page.wait_for_selector("html[data-sealing=server]")
    page.fill("#codename", codename)
    page.click("#check-form button")
    page.wait_for_selector("#message-form input[name=sealed]", state="attached")
    page.wait_for_selector("html[data-sealing=server]")  # followup.js holds the form (a loaded machine is slow)
    photo = thumbnail_photo()
    assert [c for c in CANARIES if c in photo]
    choose(page, [("street.jpg", "image/jpeg", photo)])
    page.click("#message-form button[type=submit]")
    page.wait_for_selector("#thread .files li")
    assert page.inner_text("#thread .files li") == "street.jpg"
    context.close()
    [(_text, [(name, received)], _shas)] = stored(served[0], ref, codename)
    assert name == "street.jpg"
    assert pixels(received) == pixels(photo)
    assert [c for c in CANARIES if c in received] == []


def test_follow_up_work_solved_while_typing(browser, served):
    """Issue 19.11: the follow-up's proof of work is fetched and solved once the thread opens, so pressing the
    button sends at once, without a challenge in between."""
    _site, server, _root = served
    context, page, problems = phone(browser)
    _ref, codename = report(context, server.url)
    seen: list[str] = []
    page.on("request", lambda r: seen.append(r.url.split("/", 3)[3]))
    page.goto(server.url + "/check")
    page.wait_for_selector("html[data-sealing=ready]")
    page.fill("#codename", codename)
    page.click("#check-form button")
    page.wait_for_selector("#js-thread:not([hidden])", timeout=60000)
    page.wait_for_timeout(300)
    assert "api/v1/challenge" in seen, "solved ahead, while the reporter writes"
    seen.append("PRESSED")
    page.fill("#message", "one more thing")
    page.click("#message-form button[type=submit]")
    page.wait_for_selector("#thread li.message")
    after = seen[seen.index("PRESSED"):]
    assert after.index("api/v1/thread/messages") < (after.index("api/v1/challenge") if "api/v1/challenge" in after
                                                     else len(after))
    context.close()
    assert problems == []
