"""The form token: proof that a request comes from a page this server gave out today or yesterday.

It replaces a CSRF cookie, so a reporter's browser keeps nothing of ours. It is the day number,
16 random bytes and a MAC under the instance's secret key; it holds no finer time and names no
one. It is not bound to a session (there is none): across sites the Fetch metadata check refuses
requests (web/origin.py), and the API also needs it in a header that no page elsewhere can make a
browser send without asking us first (CORS preflight, which we never grant).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import struct
import time

DAY = 86400


def day_number() -> int:
    """The UTC day as a number (days since 1970-01-01): all the time a token or a challenge holds."""
    return int(time.time() // DAY)


class FormTokens:
    """Issue and check form tokens under one secret."""

    def __init__(self, secret: bytes) -> None:
        self.key = hashlib.sha256(b"intake-form-token" + secret).digest()

    def _mac(self, raw: bytes) -> bytes:
        return hmac.new(self.key, raw, hashlib.sha256).digest()[:16]

    def issue(self) -> str:
        """A new token for a page served now."""
        raw = struct.pack(">I", day_number()) + secrets.token_bytes(16)
        return base64.urlsafe_b64encode(raw + self._mac(raw)).decode().rstrip("=")

    def valid(self, token: object) -> bool:
        """Whether `token` is one of ours, issued today or yesterday."""
        if not isinstance(token, str) or len(token) != 48:
            return False
        try:
            raw = base64.urlsafe_b64decode(token + "==")
        except ValueError:
            return False
        if len(raw) != 36 or not hmac.compare_digest(self._mac(raw[:20]), raw[20:]):
            return False
        return 0 <= day_number() - struct.unpack(">I", raw[:4])[0] <= 1

    def spent(self, token: str) -> tuple[bytes, int]:
        """The keyed digest that marks a valid `token` spent once its page has sent something, and its day.

        It is kept in `spent_work` (storage/budgets.py) with the token's day, so it is dropped with the
        days a token can no longer be used on; the token itself is never stored.
        """
        raw = base64.urlsafe_b64decode(token + "==")[:20]
        return self._mac(b"spent form" + raw), struct.unpack(">I", raw[:4])[0]
