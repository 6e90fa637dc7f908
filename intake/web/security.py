"""The server's posture: security headers on every response, and no cookie at all."""

from __future__ import annotations

from flask import Flask, Response, request

from intake.web.state import state

CSP = ("default-src 'none'; script-src 'self' 'wasm-unsafe-eval'; style-src 'self'; img-src 'self'; "
       "connect-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'")
HEADERS = {
    "Content-Security-Policy": CSP,
    "Referrer-Policy": "same-origin",
    "X-Content-Type-Options": "nosniff",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Cross-Origin-Resource-Policy": "same-origin",
    "Permissions-Policy": "camera=(), microphone=(), geolocation=()",
}


def add_headers(response: Response) -> Response:
    """Set the security headers and no-store (static files get the same in intake/web/static.py); Onion-Location."""
    response.headers.update(HEADERS)
    response.headers["Cache-Control"] = "no-store"
    onion = state().settings.onion
    if onion and response.mimetype == "text/html":
        response.headers["Onion-Location"] = onion + request.full_path.rstrip("?")
    response.headers.pop("Server", None)
    return response


def init_app(app: Flask) -> None:
    """Install the response headers."""
    app.after_request(add_headers)
