"""Small values a page carries from one form post to the next, sealed under a key only this server holds.

The key is derived from the instance's secret key (instance/secret.key); the box is libsodium's
secretbox (XSalsa20-Poly1305), so a page cannot read or alter what it carries. Used for what the
server already held in memory in the request that made the page, and must not store: the group a
receipt asks back (web/receipt.py) and the keys a codename derived (web/thread.py).

A box carries its own expiry inside the sealed content: it opens for `INTAKE_PAGE_BOX_SECONDS`
(default 15 minutes) after it was made, and never after, so a box a browser kept on disk is worth
nothing later, even with the live server (docs/web.md, "What the reporter's browser keeps"). The
expiry is never stored: it exists only inside boxes on the reporters' pages.
"""

from __future__ import annotations

import base64
import binascii
import json
import time

import nacl.exceptions
import nacl.secret

from intake.crypto.keys import generichash
from intake.web.state import state

_DOMAIN = b"intake-page-box-v1"


class BoxExpired(ValueError):
    """A box made by this server whose lifetime is over."""


def now() -> float:
    """The clock the boxes' lifetimes are read from (a test may set it)."""
    return time.time()


def _box(purpose: bytes) -> nacl.secret.SecretBox:
    return nacl.secret.SecretBox(generichash(32, _DOMAIN + purpose, state().secret))


def seal_value(purpose: bytes, value: dict[str, object]) -> str:
    """Seal a JSON object for a page's hidden field, with its expiry inside."""
    content = {**value, "until": now() + state().settings.page_box_seconds}
    return base64.urlsafe_b64encode(bytes(_box(purpose).encrypt(json.dumps(content).encode()))).decode("ascii")


def open_value(purpose: bytes, text: str) -> dict[str, object]:
    """Open a hidden field sealed by `seal_value` with the same purpose: ValueError if it is not one,
    BoxExpired once its lifetime is over."""
    try:
        value = json.loads(_box(purpose).decrypt(base64.urlsafe_b64decode(text.encode("ascii"))))
        until = float(value.pop("until")) if isinstance(value, dict) else None
    except (binascii.Error, ValueError, UnicodeError, KeyError, TypeError, nacl.exceptions.CryptoError) as exc:
        raise ValueError("not a value sealed by this server") from exc
    if until is None:
        raise ValueError("not a value sealed by this server")
    if not now() <= until:
        raise BoxExpired("this page has expired")
    return value
