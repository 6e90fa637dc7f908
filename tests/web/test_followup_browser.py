"""Follow-ups with files from the check page, in Chromium with JavaScript on, against a real `intake serve`.

The reporter checks back with the codename of a report made in the page, and sends a text, a phone's portrait
photo carrying GPS and camera details and a short video: the photo is cleaned and both are sealed in the page,
uploaded in sealed parts and shown in the thread by name. A reviewer's identity opens them in Python; no
request the page made carries the text, the files' bytes or the codename, and neither does the server's disk.
"""

from __future__ import annotations

import hashlib
import secrets

import pytest

from intake.crypto.codename import derive_keys
from intake.crypto.message import open_message
from intake.storage.cases import get_case
from intake.storage.threads import salt, thread
from tests.support import photos as photokit
from tests.support.browser import Watched, open_thread
from tests.support.canary import hits, new_canary
from tests.support.photos import CANARIES, STRUCTURES, pixels, text_png
from tests.support.recorder import Recorder
from tests.support.threadfiles import report, stored

pytestmark = [pytest.mark.browser, pytest.mark.slow]
OUTCOME = """() => {
    const said = document.getElementById("check-status").textContent;
    const texts = document.getElementById("js-check").dataset;
    return [texts.msgSent, texts.msgUnclean, texts.msgTooMany].includes(said) || said.startsWith(texts.msgFailed);
}"""


def clip(marker: str) -> bytes:
    """A short video no cleaner can read (random bytes behind an MP4 box), 1.5 MiB so that it seals into two
    parts, with `marker` in each."""
    half = marker.encode() + secrets.token_bytes(3 << 18)
    return b"\x00\x00\x00\x18ftypmp42\x00\x00\x00\x00mp42isom" + half + half




def check_back(context, url: str, codename: str) -> tuple[Watched, Recorder]:
    """The check page, its thread opened with the codename, watched for page errors and CSP violations and
    every request recorded from the start."""
    watched = Watched(context)
    recorder = Recorder(watched.page)
    open_thread(watched.page, url, codename)
    return watched, recorder


def send(page, files: list[tuple[str, str, bytes]], text: str = "") -> str:
    """Write a follow-up, choose its files and press the button: what the page says then."""
    page.fill("#message", text)
    page.set_input_files("#attachments", [{"name": n, "mimeType": t, "buffer": d} for n, t, d in files])
    return press(page)


def press(page) -> str:
    """Press the button of the follow-up and wait until the page says how it went."""
    page.evaluate("document.getElementById('check-status').textContent = ''")
    page.click("#message-form button[type=submit]")
    page.wait_for_function(OUTCOME, timeout=60000)
    return page.inner_text("#check-status")


def shown(page) -> list[list]:
    """The thread as the page shows it: each message's text and file names."""
    return page.evaluate("""() => [...document.querySelectorAll("#thread li.message")].map((m) =>
        [m.querySelector(".text").textContent, [...m.querySelectorAll(".files li")].map((f) => f.textContent)])""")




def test_follow_up_with_a_photo_and_a_video(browser, live, tmp_path):
    """Told first that the video cannot be cleaned, the reporter sends it all: a reviewer opens the text, the
    cleaned photo and the video, and none of them nor the codename went out in the clear."""
    site, server = live
    text = f"{new_canary('followup')} ស្ពាន the van came back at night"
    marker = new_canary("clip")
    photo, video = photokit.portrait_photo(), clip(marker)
    context = browser.new_context()
    try:
        ref, codename = report(context, server.url)
        watched, recorder = check_back(context, server.url, codename)
        page = watched.page
        page.fill("#message", text)
        page.set_input_files("#attachments", [{"name": n, "mimeType": t, "buffer": d} for n, t, d in
                                              [("street.jpg", "image/jpeg", photo), ("clip.mp4", "video/mp4", video)]])
        page.wait_for_selector("#unclean li")  # issue 20.8: told as soon as the files are chosen, above the button
        assert page.inner_text("#files-message") == page.get_attribute("#js-check", "data-msg-unclean")
        assert page.locator("#unclean .name").all_inner_texts() == ["clip.mp4"]
        assert not any(b"/api/v1/thread/messages" in s for s in recorder.sent), "sent before the reporter pressed"
        assert press(page) == page.get_attribute("#js-check", "data-msg-sent")
        page.wait_for_selector("#thread .files li")
        assert shown(page) == [[text, ["street.jpg", "clip.mp4"]]]
        assert page.input_value("#message") == ""
        assert page.locator("#unclean li").count() == 0
        watched.check()
    finally:
        context.close()
    [(got_text, files, shas)] = stored(site, ref, codename)
    assert got_text == text
    [(photo_name, cleaned), (video_name, got_video)] = files
    assert (photo_name, video_name) == ("street.jpg", "clip.mp4")
    assert [hashlib.sha256(cleaned).hexdigest(), hashlib.sha256(got_video).hexdigest()] == shas
    assert got_video == video
    assert [c for c in CANARIES + photokit.STRUCTURES_BUT_EXIF if c in cleaned] == []
    assert photokit.only_orientation(cleaned) == 6  # a phone's portrait photo stays upright, by its one EXIF tag
    assert pixels(cleaned) == pixels(photo)
    sent = b"\n".join(recorder.sent)
    assert sum(s.startswith(b"PUT ") for s in recorder.sent) == 3  # one part of the photo, two of the video
    assert any(s.startswith(b"POST ") and b"/complete" in s for s in recorder.sent)
    assert recorder.leaks([codename, text.split()[0], marker], recorder.sent) == []
    assert cleaned[len(cleaned) // 2:len(cleaned) // 2 + 32] not in sent
    assert video[-64:] not in sent
    assert recorder.leaks([text.split()[0], marker], recorder.received) == []
    site.engine.dispose()
    logs = {path.name: path.read_bytes() for path in server.logs}
    assert hits([tmp_path], [codename, codename.replace(" ", ""), text.split()[0], marker], logs) == []


def test_files_alone_a_cut_part_and_keys_changed_while_uploading(browser, live):
    """33 files are refused before anything is sealed; a follow-up of one photo and no text is a message, sent
    whole although its first part was cut once; one whose reviewers' keys change before it completes is refused,
    says so and leaves nothing in the thread, and goes through when sent again."""
    site, server = live
    png = text_png()
    context = browser.new_context()
    tries: list[str] = []

    def cut_once(route) -> None:
        tries.append(route.request.url)
        route.abort("connectionreset") if len(tries) == 1 else route.fallback()

    def new_key(route) -> None:
        site.add_reviewer()
        page.unroute("**/complete", new_key)
        route.fallback()

    try:
        ref, codename = report(context, server.url)
        watched, recorder = check_back(context, server.url, codename)
        page = watched.page
        page.route("**/api/v1/uploads/*/0/0", cut_once)
        too_many = [(f"{n}.png", "image/png", png) for n in range(33)]
        assert send(page, too_many) == page.get_attribute("#js-check", "data-msg-too-many")
        assert not any(b"/api/v1/thread/messages" in s for s in recorder.sent)
        assert send(page, [("pole.png", "image/png", png)]) == page.get_attribute("#js-check", "data-msg-sent")
        assert len(tries) == 2
        page.wait_for_selector("#thread .files li")
        assert shown(page) == [["", ["pole.png"]]]
        page.route("**/complete", new_key)
        failed = send(page, [("later.png", "image/png", png)], "one more")
        assert failed.startswith(page.get_attribute("#js-check", "data-msg-failed"))
        assert "keys changed" in failed
        assert [text for text, _, _ in stored(site, ref, codename)] == [""]
        assert shown(page) == [["", ["pole.png"]]]
        assert press(page) == page.get_attribute("#js-check", "data-msg-sent")
        page.wait_for_function("() => document.querySelectorAll('#thread li.message').length === 2")
        assert shown(page) == [["", ["pole.png"]], ["one more", ["later.png"]]]
        assert [p for p in watched.problems if "Failed to load resource" not in p] == []  # the cut and the 409
    finally:
        context.close()
    messages = stored(site, ref, codename)
    assert [(text, [name for name, _ in files]) for text, files, _ in messages] == [("", ["pole.png"]),
                                                                                   ("one more", ["later.png"])]
    assert [c for _, files, _ in messages for _, data in files for c in CANARIES + STRUCTURES if c in data] == []
    case_id = get_case(site.engine, ref).id
    newest = thread(site.engine, case_id)[-1]
    open_message(newest.header, newest.body, 1, site.identities[-1:], derive_keys(codename, salt(site.engine))
                 .identity.recipient, "reporter")
