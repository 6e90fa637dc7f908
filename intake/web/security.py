"""The server's posture: security headers on every response and a cookie that only CSRF uses."""

from __future__ import annotations

from flask import Flask, Response, request
from flask.sessions import SecureCookieSessionInterface

from intake.web.state import state

CSP = ("default-src 'none'; script-src 'self' 'wasm-unsafe-eval'; style-src 'self'; img-src 'self'; "
       "connect-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'")
HEADERS = {
    "Content-Security-Policy": CSP,
    "Referrer-Policy": "no-referrer",
    "X-Content-Type-Options": "nosniff",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Cross-Origin-Resource-Policy": "same-origin",
    "Permissions-Policy": "camera=(), microphone=(), geolocation=()",
}


class CsrfCookie(SecureCookieSessionInterface):
    """The session cookie, which holds only the CSRF secret: `__Host-` prefixed and Secure over HTTPS."""

    def get_cookie_name(self, app: Flask) -> str:
        """`__Host-csrf` over HTTPS, `csrf` over plain HTTP (a loopback demo or an onion service)."""
        return "__Host-csrf" if request.is_secure else "csrf"

    def get_cookie_secure(self, app: Flask) -> bool:
        """Secure whenever the request came over HTTPS."""
        return request.is_secure

    def get_cookie_path(self, app: Flask) -> str:
        """`/`, as the `__Host-` prefix requires."""
        return "/"

    def get_cookie_domain(self, app: Flask) -> None:
        """No Domain attribute, as the `__Host-` prefix requires."""
        return None


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
    """Install the cookie settings and the response headers."""
    app.session_interface = CsrfCookie()
    app.config.update(SESSION_COOKIE_HTTPONLY=True, SESSION_COOKIE_SAMESITE="Strict",
                      SESSION_REFRESH_EACH_REQUEST=False)
    app.after_request(add_headers)
