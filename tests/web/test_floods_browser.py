"""Pages of other origins cannot make a visitor's Chromium send reports, and Chromium keeps no cookie of ours
(docs/web.md, "Floods"; issue 11.1, 11.2)."""

from __future__ import annotations

import re
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import requests
from sqlalchemy import func, select

from intake.storage.schema import stored_bytes
from tests.support.browser import wait_receipt
from tests.support.web import rows
from tests.web.test_web_browser import fill

pytestmark = [pytest.mark.browser, pytest.mark.slow]

ATTACK = """<!doctype html><html><body>
<form id="f" method="post" action="{target}/report" enctype="multipart/form-data">
<input name="csrf_token" value="{token}"><input name="website" value="">
<input name="incident_type" value="other"><textarea name="description">cross-site flood</textarea>
</form>
<script>
const target = "{target}";
async function flood() {{
  const form = new FormData();
  form.append("csrf_token", "{token}");
  form.append("incident_type", "other");
  form.append("description", "cross-site flood");
  form.append("attachments", new Blob([new Uint8Array(300000)]), "big.bin");
  const sent = [];
  for (let i = 0; i < 20; i++) {{
    sent.push(fetch(target + "/report", {{ method: "POST", mode: "no-cors", body: form }}).catch(() => null));
    sent.push(fetch(target + "/report", {{ method: "POST", mode: "no-cors", body: form,
                                          referrerPolicy: "no-referrer" }}).catch(() => null));
    sent.push(fetch(target + "/api/v1/reports", {{ method: "POST", mode: "no-cors", body: "{{}}",
                                                 headers: {{ "X-CSRFToken": "{token}" }} }}).catch(() => null));
  }}
  await Promise.all(sent);
  document.title = "flooded";
  document.getElementById("f").submit();
}}
flood();
</script></body></html>"""


class Attacker(ThreadingHTTPServer):
    """A web server on another port that serves one attacking page."""

    def __init__(self, page: str) -> None:
        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 - http.server's name
                body = page.encode()
                self.send_response(200)
                self.send_header("Content-Type", "text/html; charset=utf-8")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *_args: object) -> None:
                pass

        super().__init__(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.serve_forever, daemon=True).start()


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
