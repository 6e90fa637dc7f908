"""Driving Debian's Chromium with Playwright: its flags, a watched page, waiting for the receipt."""

from __future__ import annotations

CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]


class Watched:
    """A page whose CSP violations, page errors and request bodies are recorded."""

    def __init__(self, context) -> None:
        self.problems: list[str] = []
        self.bodies: list[bytes] = []
        self.page = context.new_page()
        self.page.on("pageerror", lambda exc: self.problems.append(f"page error: {exc}"))
        self.page.on("console", self._console)
        self.page.on("request", lambda req: self.bodies.append(req.post_data_buffer or b""))
        context.add_init_script("document.addEventListener('securitypolicyviolation', "
                                "e => console.error('CSP violation: ' + e.violatedDirective + ' ' + e.blockedURI));")

    def _console(self, message) -> None:
        if message.type == "error" or "Content Security Policy" in message.text:
            self.problems.append(f"console {message.type}: {message.text}")

    def check(self) -> None:
        """Fail on any CSP violation or page error."""
        assert self.problems == []


def wait_receipt(page) -> str:
    """Wait until the page shows its receipt, or fail with what the page says instead."""
    page.wait_for_function("() => !document.getElementById('receipt-box').hidden || "
                           "document.getElementById('status').textContent.startsWith("
                           "document.getElementById('js-seal').dataset.msgFailed)", timeout=60000)
    assert page.is_visible("#receipt-box"), page.inner_text("#status")
    return page.inner_text("#receipt")
