"""Driving Debian's Chromium with Playwright: its flags, a phone-sized or watched page, the form, the receipt."""

from __future__ import annotations

from pathlib import Path

CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]


class Chromium:
    """Debian's Chromium for one test process, launched when a module first asks for it and kept for the next (a
    launch costs seconds); launched again if it went away."""

    def __init__(self) -> None:
        self.playwright = self.chromium = None

    def get(self):
        """The running Chromium, launched now if there is none."""
        if self.chromium is None or not self.chromium.is_connected():
            from playwright.sync_api import sync_playwright

            self.stop()
            self.playwright = sync_playwright().start()
            self.chromium = self.playwright.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
        return self.chromium

    def stop(self) -> None:
        """Close Chromium and stop Playwright (a test that starts its own needs the thread free of ours)."""
        if self.chromium is not None and self.chromium.is_connected():
            self.chromium.close()
        if self.playwright is not None:
            self.playwright.stop()
        self.playwright = self.chromium = None


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


def open_thread(page, url: str, codename: str) -> None:
    """Check back with JavaScript: type the codename on the check page and wait until its thread is shown."""
    page.goto(url + "/check")
    page.wait_for_selector("html[data-sealing=ready]")
    page.fill("#codename", codename)
    page.click("#check-form button")
    page.wait_for_selector("#js-thread:not([hidden])", timeout=60000)


def fill(page, description: str) -> None:
    """Fill the text fields of the form."""
    page.select_option("#incident_type", "drone")
    page.fill("#location", "Yangon, Hlaing")
    page.fill("#description", description)


def phone(browser, javascript: bool = True):
    """A 360 px wide page, whose page errors and CSP violations are collected."""
    context = browser.new_context(viewport={"width": 360, "height": 740}, java_script_enabled=javascript)
    page = context.new_page()
    problems: list[str] = []
    page.on("pageerror", lambda exc: problems.append(str(exc)))
    page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
    return context, page, problems


def fits(page, name: str, shots: Path) -> None:
    """The page scrolls only downwards at 360 px; keep its screenshot."""
    page.screenshot(path=str(shots / f"{name}.png"), full_page=True)
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 360, f"{name}: {width} px wide"
