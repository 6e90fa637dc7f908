"""Pages of other origins cannot make a visitor's Chromium send reports, and Chromium keeps no cookie of ours
(docs/web.md, "Floods"; issue 11.1, 11.2)."""

from __future__ import annotations

import re

import pytest
import requests
from sqlalchemy import func, select

from intake.storage.schema import stored_bytes
from tests.support.browser import fill, wait_receipt
from tests.support.other_origin import ATTACK, Attacker
from tests.support.web import rows

pytestmark = [pytest.mark.browser, pytest.mark.slow]

@pytest.mark.parametrize("host", ["localhost", "127.0.0.1"], ids=["cross-site", "same-site, other port"])
def test_other_origin_cannot_post(browser, live, host):
    """A page elsewhere, holding a valid form token, makes Chromium POST forms, no-cors multipart uploads and
    API calls, and auto-submits a form: every one is refused (403) and nothing is stored or charged."""
    site, server = live
    token = re.search(r'name="csrf-token" content="([^"]+)"', requests.get(server.url + "/", timeout=10).text).group(1)
    attacker = Attacker(ATTACK.format(target=server.url, token=token))
    try:
        context = browser.new_context()
        page = context.new_page()
        failed = []
        page.on("requestfailed", lambda r: failed.append((r.url, r.failure)))
        page.goto(f"http://{host}:{attacker.server_address[1]}/attack.html")
        page.wait_for_url(server.url + "/report", timeout=60000)
        assert "A page of another website" in page.content()
        blocked = [url for url, failure in failed if "ERR_BLOCKED_BY_RESPONSE" in (failure or "")]
        assert len(blocked) == 60, ("each no-cors request reached the server, whose answer Chromium then hid from "
                                    "the page (Cross-Origin-Resource-Policy)", failed[:3])
        assert rows(site.engine)["cases"] == 0
        with site.engine.connect() as conn:
            assert conn.execute(select(func.count()).select_from(stored_bytes)).scalar_one() == 0
        context.close()
    finally:
        attacker.shutdown()
        attacker.server_close()


def test_no_cookie_in_the_browser(browser, live):
    """A report sent with JavaScript and one without leave Chromium with no cookie for the site."""
    site, server = live
    for javascript in (True, False):
        context = browser.new_context(java_script_enabled=javascript)
        page = context.new_page()
        page.goto(server.url + "/")
        if javascript:
            page.wait_for_selector("html[data-sealing=ready]")
        fill(page, "a report that leaves no cookie")
        page.click("button[type=submit]")
        if javascript:
            wait_receipt(page)
        else:
            page.wait_for_selector("text=Your report was received")
        assert context.cookies() == []
        context.close()
    assert rows(site.engine)["cases"] == 2
