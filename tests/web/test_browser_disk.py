"""The reporter's browser is a disk too (issue 19.2; attack catalogue 7): a real Chromium profile directory goes
through the no-JS report, the receipt's type-back, the check and a follow-up, and the check page's fallback
without WebAssembly; after a normal close, no file of the profile holds the codename, one of its groups as
typed, what was written, or a sealed box of the pages. The boxes expire, and no answer sends the codename back.
"""

from __future__ import annotations

import re
import time
import urllib.parse
from pathlib import Path

import pytest
import requests

from tests.support.browser import CHROMIUM_ARGS
from tests.support.canary import needles, new_canary
from tests.support.threads import CODENAME, GROUP, SEALED, form_token
from tests.support.web import Server, make_site

pytestmark = [pytest.mark.browser, pytest.mark.slow]


def launch(pw, profile: Path, javascript: bool):
    """Debian's Chromium on a persistent profile directory, as a reporter's ordinary browser keeps one."""
    return pw.chromium.launch_persistent_context(str(profile), executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS,
                                                 java_script_enabled=javascript, viewport={"width": 360, "height": 740})


def secret_needles(codename: str, boxes: list[str], texts: list[str]) -> dict[str, bytes]:
    """Every way the secrets could sit in a profile file: the codename as shown, typed and posted (raw, URL-encoded,
    UTF-16), each group as posted back, two groups side by side, the boxes, and each text in every encoding."""
    groups = codename.split()
    found: dict[str, bytes] = {}
    forms = {codename, codename.replace(" ", ""), "-".join(groups), *(" ".join(groups[i:i + 2]) for i in range(4))}
    for form in forms:
        for label, data in (("raw", form.encode()), ("url", urllib.parse.quote_plus(form).encode()),
                            ("utf-16", form.encode("utf-16-le"))):
            found[f"codename {form!r} {label}"] = data
    for group in groups:
        found[f"typed={group}"] = f"typed={group}".encode()
        found[f"group {group} utf-16"] = group.encode("utf-16-le")
    for n, box in enumerate(boxes):
        found[f"box {n}"] = box[8:48].encode()
        found[f"box {n} url"] = urllib.parse.quote_plus(box[8:48]).encode()
    for text in texts:
        found.update({f"{text} {label}": data for label, data in needles(text)})
        found[f"{text} url"] = urllib.parse.quote_plus(text).encode()
    return found


def scan(profile: Path, secrets: dict[str, bytes]) -> list[str]:
    """Each (file, secret) where a profile file holds a secret."""
    assert any(profile.rglob("Sessions/*")), "the browser kept no session: the test would prove nothing"
    hits = []
    for path in profile.rglob("*"):
        if path.is_file() and not path.is_symlink():
            data = path.read_bytes()
            hits += [f"{path.relative_to(profile)}: {name}" for name, needle in secrets.items() if needle in data]
    return hits


def remembers_nothing(page: str) -> list[str]:
    """The fields of a page that a browser may remember: a form or field without autocomplete="off", or a form
    that posts without the filled password field that keeps its body out of the session files."""
    found = []
    for form in re.findall(r"<form\b.*?</form>", page, re.S):
        head = re.match(r"<form\b[^>]*>", form).group(0)
        found += [head] if 'autocomplete="off"' not in head else []
        if 'method="post"' in head and 'name="no_restore" value="1"' not in form:
            found.append(head + " without no_restore")
    for tag in re.findall(r"<(?:input|textarea|select)\b[^>]*>", page):
        if 'type="hidden"' not in tag and 'autocomplete="off"' not in tag:
            found.append(tag)
    return found


def test_profile_keeps_no_secret(live, tmp_path):
    """No JavaScript, then JavaScript without WebAssembly (check.js's fallback, followup.js), then with it: each time
    a normal close; then search the whole profile."""
    from playwright.sync_api import sync_playwright

    _site, server = live
    when, where, what, follow, fallback, js_when, js_what, js_follow = (new_canary(k) for k in (
        "when", "where", "what", "follow", "fallback", "jswhen", "jswhat", "jsfollow"))
    boxes: list[str] = []
    with sync_playwright() as pw:
        context = launch(pw, tmp_path / "profile", javascript=False)
        page = context.new_page()
        page.goto(server.url + "/")
        page.select_option("#incident_type", "drone")
        page.fill("#occurred", when)
        page.fill("#location", where)
        page.fill("#description", what)
        page.click("#report-form button[type=submit]")
        codename = page.inner_text("#codename")
        boxes.append(page.get_attribute("#confirm-form input[name=sealed]", "value"))
        group = int(GROUP.search(page.content()).group(1))
        page.fill("#typed", "00000" if codename.split()[group - 1] != "00000" else "11111")
        with context.expect_page() as answer:  # the answer opens in a new tab: the receipt stays
            page.click("#confirm-form button")
        answer.value.wait_for_load_state()
        assert f"does not match group {group}" in answer.value.inner_text("main")
        assert codename.split()[0] not in answer.value.content()
        assert page.inner_text("#codename") == codename
        answer.value.close()
        page.goto(server.url + "/check")
        page.fill("#codename", codename)
        page.click("#check-form button")
        boxes.append(page.get_attribute("#message-form input[name=sealed]", "value"))
        page.fill("#message", follow)
        page.click("#message-form button[type=submit]")
        page.wait_for_selector("#thread")
        assert follow in page.inner_text("#thread")
        context.close()

        context = launch(pw, tmp_path / "profile", javascript=True)
        context.add_init_script("delete window.WebAssembly;")
        page = context.new_page()
        page.goto(server.url + "/check")
        page.wait_for_selector("html[data-sealing=server]")
        page.fill("#codename", codename)
        page.click("#check-form button")
        page.wait_for_selector("#message-form input[name=sealed]", state="attached")
        boxes.append(page.get_attribute("#message-form input[name=sealed]", "value"))
        page.fill("#message", fallback)
        page.click("#message-form button[type=submit]")
        page.wait_for_selector(f"#thread li:has-text('{fallback}')")
        context.close()

        context = launch(pw, tmp_path / "profile", javascript=True)  # and the pages sealing with JavaScript
        page = context.new_page()
        page.goto(server.url + "/")
        page.wait_for_selector("html[data-sealing=ready]")
        page.select_option("#incident_type", "drone")
        page.fill("#occurred", js_when)
        page.fill("#description", js_what)
        page.click("#report-form button[type=submit]")
        page.wait_for_selector("#receipt-box:not([hidden])", timeout=60000)
        js_codename = page.inner_text("#codename")
        page.goto(server.url + "/check")
        page.wait_for_selector("html[data-sealing=ready]")
        page.fill("#codename", js_codename)
        page.click("#check-form button")
        page.wait_for_selector("#js-thread:not([hidden])", timeout=60000)
        page.fill("#message", js_follow)
        page.click("#message-form button[type=submit]")
        page.wait_for_selector(f"#thread li:has-text('{js_follow}')", timeout=60000)
        context.close()
    texts = [when, where, what, follow, fallback, js_when, js_what, js_follow]
    secrets = {**secret_needles(codename, boxes, texts), **secret_needles(js_codename, [], [])}
    found = scan(tmp_path / "profile", secrets)
    assert found == []


def test_boxes_expire_and_answers_never_hold_the_codename(tmp_path):
    """On a live server with 2-second boxes: a receipt box typed back wrong gets no codename; an old receipt box
    and an old thread box are refused, and nothing of the thread comes back."""
    site = make_site(tmp_path, f"sqlite:///{tmp_path / 'instance' / 'intake.db'}")
    server = Server({**site.env, "INTAKE_PAGE_BOX_SECONDS": "2"}, tmp_path).start()
    try:
        http = requests.Session()
        page = http.get(server.url + "/", timeout=30).text
        receipt = http.post(server.url + "/report", files={"csrf_token": (None, form_token(page)),
                                                           "incident_type": (None, "cctv"),
                                                           "description": (None, "a camera on the pole")}, timeout=60)
        assert receipt.status_code == 200, receipt.text[-1000:]
        codename = CODENAME.search(receipt.text).group(1)
        box, group = SEALED.search(receipt.text).group(1), int(GROUP.search(receipt.text).group(1))
        wrong = "00000" if codename.split()[group - 1] != "00000" else "11111"
        confirm = {"csrf_token": form_token(receipt.text), "sealed": box, "typed": wrong}
        fresh = http.post(server.url + "/receipt/confirm", data=confirm, timeout=30)
        assert fresh.status_code == 400
        assert not any(g in fresh.text for g in codename.split())
        check_page = http.get(server.url + "/check", timeout=30).text  # a page posts once: the form's token is spent
        thread = http.post(server.url + "/check", data={"csrf_token": form_token(check_page), "codename": codename},
                           timeout=60)
        thread_box = SEALED.search(thread.text).group(1)
        for name, shown in (("form", page), ("receipt", receipt.text), ("thread", thread.text),
                            ("check", http.get(server.url + "/check", timeout=30).text)):
            assert remembers_nothing(shown) == [], name
        time.sleep(3)
        for data in (confirm, {**confirm, "typed": codename.split()[group - 1]}):
            old = http.post(server.url + "/receipt/confirm", data=data, timeout=30)
            assert old.status_code == 400
            assert "This check has expired" in old.text
            assert not any(g in old.text for g in codename.split())
        late = http.post(server.url + "/check", data={"csrf_token": form_token(thread.text), "sealed": thread_box,
                                                      "message": "late"}, timeout=30)
        assert late.status_code == 400
        assert "This page has expired" in late.text
        assert re.search(r'class="message', late.text) is None
    finally:
        server.stop()
        site.engine.dispose()
