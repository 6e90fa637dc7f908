"""Two-way in Chromium with JavaScript on a real server: every request and response recorded through page.route.

Report, write down the codename, a reviewer replies with the real CLI, the reporter checks back and reads
the reply, answers, the reviewer reads the answer. No request or response body carries the reply's or the
answer's plaintext, the codename is in no request, and the canary search finds none of them on disk.
"""

from __future__ import annotations

import re

import pytest

from tests.support.browser import CHROMIUM_ARGS, Watched, wait_receipt
from tests.support.canary import hits, new_canary, temp_entries
from tests.support.recorder import Recorder
from tests.support.threads import Team
from tests.support.web import Server

pytestmark = [pytest.mark.browser, pytest.mark.slow]


def test_js_thread_round_trip(tmp_path, prepared):
    from playwright.sync_api import sync_playwright

    before = temp_entries()
    inst, keys = prepared.setup(tmp_path, f"sqlite:///{tmp_path / 'instance' / 'intake.db'}", "alice", "bob")
    inst.env.update(INTAKE_POW_BITS="4", INTAKE_NOJS_PER_MINUTE="1000")
    reply, answer, description = new_canary("reply"), new_canary("answer"), new_canary("desc")
    server = Server(inst.env, tmp_path).start()
    try:
        with sync_playwright() as pw:
            chromium = pw.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
            context = chromium.new_context()
            watched = Watched(context)
            page = watched.page
            recorder = Recorder(page)
            page.goto(server.url + "/")
            page.wait_for_selector("html[data-sealing=ready]")
            page.select_option("#incident_type", "drone")
            page.fill("#description", description)
            page.click("button[type=submit]")
            ref = wait_receipt(page)
            codename = page.inner_text("#codename")
            assert len(codename.split()) == 5
            group = int(re.search(r"type group (\d) of your codename", page.inner_text("#typed-label")).group(1))
            page.fill("#typed", "99999" if codename.split()[group - 1] != "99999" else "00000")
            page.click("#confirm-js button")
            assert "does not match" in page.inner_text("#confirm-result")
            page.fill("#typed", codename.split()[group - 1])
            page.click("#confirm-js button")
            assert "copied your codename correctly" in page.inner_text("#confirm-result")

            team = Team(inst, keys["alice"])
            team.reply(ref, reply)
            check = context.new_page()
            checked = Recorder(check)
            workers: list[str] = []
            check.on("worker", lambda worker: workers.append(worker.url))
            check.goto(server.url + "/check")
            check.wait_for_selector("html[data-sealing=ready]")
            check.fill("#codename", "12345 12345 12345 12345 12345")
            check.click("#check-form button")
            check.wait_for_function("() => document.getElementById('check-status').className === 'error'")
            assert "No report was found" in check.inner_text("#check-status")
            check.fill("#codename", "-".join(codename.split()))
            check.click("#check-form button")
            check.wait_for_selector("#js-thread:not([hidden])", timeout=60000)
            assert check.inner_text("#thread .text") == reply
            assert any(url.endswith("/static/js/derive-worker.js") for url in workers)
            assert "Received" in check.inner_text("#case-status")
            check.fill("#message", answer)
            check.click("#message-form button[type=submit]")
            check.wait_for_function("() => document.querySelectorAll('#thread .text').length === 2", timeout=60000)
            assert [t.strip() for t in check.locator("#thread .text").all_inner_texts()] == [reply, answer]
            watched.check()
            context.close()
            chromium.close()
        assert [(m["from"], m["text"]) for m in team.thread(ref)] == [("reviewer", reply), ("reporter", answer)]
    finally:
        server.kill()
    sent = recorder.sent + checked.sent
    received = recorder.received + checked.received
    assert any(b"/api/v1/thread/messages" in s for s in sent)
    assert recorder.leaks([codename, reply, answer], sent) == []
    assert recorder.leaks([reply, answer], received) == []
    inst.engine.dispose()
    logs = {path.name: path.read_bytes() for path in server.logs}
    canaries = [codename.replace(" ", ""), codename, reply, answer, description]
    assert hits([tmp_path, *sorted(temp_entries() - before)], canaries, {**team.outputs, **logs}) == []


def test_without_webassembly_the_server_makes_the_codename(tmp_path, prepared):
    """libsodium.js never arrives: the report goes to the server, which makes the codename the page shows;
    /check then posts the codename as a form, and the server opens the thread."""
    from playwright.sync_api import sync_playwright

    inst, keys = prepared.setup(tmp_path, f"sqlite:///{tmp_path / 'instance' / 'intake.db'}", "alice")
    inst.env.update(INTAKE_POW_BITS="4", INTAKE_NOJS_PER_MINUTE="1000")
    reply = new_canary("reply")
    server = Server(inst.env, tmp_path).start()
    try:
        with sync_playwright() as pw:
            chromium = pw.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
            context = chromium.new_context()
            context.route("**/vendor/libsodium-*", lambda route: route.abort("connectionreset"))
            page = context.new_page()
            page.goto(server.url + "/")
            page.wait_for_selector("html[data-sealing=server]")
            page.select_option("#incident_type", "cctv")
            page.fill("#description", "a camera on a pole")
            page.click("button[type=submit]")
            ref = wait_receipt(page)
            codename = page.inner_text("#codename")
            assert len(codename.replace(" ", "")) == 25
            Team(inst, keys["alice"]).reply(ref, reply)
            check = context.new_page()
            check.goto(server.url + "/check")
            check.wait_for_selector("html[data-sealing=server]")
            check.fill("#codename", codename)
            check.click("#check-form button")
            check.wait_for_selector("#thread .text")
            assert check.inner_text("#thread .text") == reply
            context.close()
            chromium.close()
    finally:
        server.kill()
        inst.engine.dispose()
