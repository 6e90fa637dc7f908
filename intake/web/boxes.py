"""Small values a page carries from one form post to the next, sealed under a key only this server holds.

The key is derived from the instance's secret key (instance/secret.key); the box is libsodium's
secretbox (XSalsa20-Poly1305), so a page cannot read or alter what it carries. Used for what the
server already held in memory in the request that made the page, and must not store: a receipt's
codename (web/receipt.py) and the keys a codename derived (web/thread.py).
"""

from __future__ import annotations

import base64
import binascii
import json

import nacl.exceptions
import nacl.secret

from intake.crypto.keys import generichash
from intake.web.state import state

_DOMAIN = b"intake-page-box-v1"


def _box(purpose: bytes) -> nacl.secret.SecretBox:
    return nacl.secret.SecretBox(generichash(32, _DOMAIN + purpose, state().secret))


def seal_value(purpose: bytes, value: dict[str, object]) -> str:
    """Seal a JSON object for a page's hidden field."""
    return base64.urlsafe_b64encode(bytes(_box(purpose).encrypt(json.dumps(value).encode()))).decode("ascii")


def open_value(purpose: bytes, text: str) -> dict[str, object]:
    """Open a hidden field sealed by `seal_value` with the same purpose; ValueError if it is not one."""
    try:
        value = json.loads(_box(purpose).decrypt(base64.urlsafe_b64decode(text.encode("ascii"))))
    except (binascii.Error, ValueError, UnicodeError, nacl.exceptions.CryptoError) as exc:
        raise ValueError("not a value sealed by this server") from exc
    if not isinstance(value, dict):
        raise ValueError("not a value sealed by this server")
    return value
