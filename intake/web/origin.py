"""Refusing writes that a page of another origin makes a visitor's browser send (docs/web.md, "Floods").

Browsers mark every request with `Sec-Fetch-Site` (Chromium 76, Firefox 90, Safari 16.4), but only
to a potentially trustworthy origin: HTTPS, loopback, and onion services in Tor Browser. Where it
is missing, `Origin` decides: a browser sends it with every POST, and our pages' `Referrer-Policy:
same-origin` makes it our own origin for our forms (under `no-referrer` it would be `null`, which a
page elsewhere can also produce). A request with neither header does not come from a browser, so
it is no cross-site request and is priced like any other client's.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import Request

ALLOWED_SITES = ("same-origin", "none")


def cross_origin(request: Request) -> bool:
    """Whether a browser sent `request` on behalf of a page of another origin (or one that hid its origin)."""
    site = request.headers.get("Sec-Fetch-Site")
    if site is not None:
        return site not in ALLOWED_SITES
    origin = request.headers.get("Origin")
    if origin is None:
        return False
    if origin == "null":
        return True
    try:
        netloc = urlsplit(origin).netloc
    except ValueError:
        return True
    return netloc.lower() != request.host.lower()
