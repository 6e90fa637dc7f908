"""A page on another origin that makes a visitor's browser post to the intake, and the server that serves it."""

from __future__ import annotations

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

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
