"""Recording what a Chromium page sends and receives, through page.route, to search it for plaintext."""

from __future__ import annotations

from playwright.sync_api import Error as PlaywrightError


class Recorder:
    """Every request (method, URL, headers, body) and every response body the page exchanged, through page.route."""

    def __init__(self, page) -> None:
        self.sent: list[bytes] = []
        self.received: list[bytes] = []
        page.route("**/*", self._route)

    def _route(self, route) -> None:
        request = route.request
        self.sent.append(f"{request.method} {request.url}\n{request.all_headers()}\n".encode()
                         + (request.post_data_buffer or b""))
        try:
            response = route.fetch()
            self.received.append(str(response.headers).encode() + b"\n" + response.body())
            route.fulfill(response=response)
        except PlaywrightError:  # the page or browser closed while this request was in flight (work fetched ahead)
            return

    def leaks(self, secrets: list[str], into: list[bytes]) -> list[str]:
        """Which secrets occur in the recorded bytes, with or without spaces."""
        blob = b"\n".join(into)
        return [s for s in secrets if s.encode() in blob or s.replace(" ", "").encode() in blob]
