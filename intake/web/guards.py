"""Flood guards that track no one: a proof-of-work token and a server-wide budget of reports per minute.

Their state is in the database (intake/storage/guards.py), shared by every gunicorn worker; a
browser-sealed report spends its challenge and its place in the budget in the transaction that
stores it (intake/storage/admission.py).
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
import secrets
import struct
import time

from flask_babel import gettext as _
from sqlalchemy import Engine

from intake.crypto.keys import generichash
from intake.storage.admission import Refused
from intake.storage.guards import take_budget

POW_LIFETIME = 3600
_DOMAIN = b"intake-pow-v1"


class GuardError(Exception):
    """A report was refused by a flood guard; `status` is its HTTP status."""

    def __init__(self, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.status = status


def leading_zero_bits(digest: bytes) -> int:
    """How many zero bits start `digest`."""
    bits = 0
    for byte in digest:
        if byte:
            return bits + 8 - byte.bit_length()
        bits += 8
    return bits


class ProofOfWork:
    """Stateless challenges signed by the server, each accepted once while it is fresh.

    A solution is a nonce such that BLAKE2b-256("intake-pow-v1" || challenge || nonce) starts with
    `bits` zero bits; the challenge carries its issue time and an HMAC, so issuing one writes
    nothing, and the server keeps only the challenges already spent, in the database, until they expire.
    """

    def __init__(self, secret: bytes, bits: int) -> None:
        self.secret = hashlib.sha256(b"intake-pow-secret" + secret).digest()
        self.bits = bits

    def challenge(self) -> str:
        """A new challenge: issue time, 16 random bytes and a MAC, in base64url."""
        raw = struct.pack(">Q", int(time.time())) + secrets.token_bytes(16)
        return base64.urlsafe_b64encode(raw + self._mac(raw)).decode().rstrip("=")

    def _mac(self, raw: bytes) -> bytes:
        return hmac.new(self.secret, raw, hashlib.sha256).digest()[:16]

    def verify(self, challenge: object, nonce: object) -> dt.datetime:
        """Check that a fresh challenge of ours is solved, without the database; return when it expires (UTC).

        Whether it was spent before is checked when it is spent, with the report (storage/admission.py).
        """
        if not isinstance(challenge, str) or not isinstance(nonce, str) or len(nonce) > 64:
            raise GuardError(_("the proof of work is missing: reload the page and send the report again"))
        try:
            raw = base64.urlsafe_b64decode(challenge + "=" * (-len(challenge) % 4))
        except ValueError:
            raw = b""
        if len(raw) != 40 or not hmac.compare_digest(self._mac(raw[:24]), raw[24:]):
            raise GuardError(_("the proof of work is not valid: reload the page and send the report again"))
        (issued,) = struct.unpack(">Q", raw[:8])
        now = time.time()
        if not 0 <= now - issued <= POW_LIFETIME:
            raise GuardError(_("the proof of work has expired: reload the page and send the report again"))
        digest = generichash(32, _DOMAIN + challenge.encode() + nonce.encode())
        if leading_zero_bits(digest) < self.bits:
            raise GuardError(_("the proof of work is not solved: reload the page and send the report again"))
        return dt.datetime.fromtimestamp(issued + POW_LIFETIME, dt.UTC).replace(tzinfo=None)


def refusal(refused: Refused) -> GuardError:
    """What to tell a reporter whose report a flood guard refused as it was stored."""
    if refused.reason == "replayed":
        return GuardError(_("this proof of work was already used: reload the page and send the report again"))
    return budget_spent()


def budget_spent() -> GuardError:
    """The 429 of a spent budget."""
    return GuardError(_("The service is receiving many reports right now. Nothing was stored: wait a minute and "
                        "send yours again."), 429)


class RateBudget:
    """At most `per_minute` reports in any sliding minute, for the whole server and nobody in particular."""

    def __init__(self, engine: Engine, per_minute: int) -> None:
        self.engine = engine
        self.per_minute = per_minute

    def take(self) -> None:
        """Spend one report from the budget, or raise GuardError with status 429."""
        if not take_budget(self.engine, self.per_minute, time.time()):
            raise budget_spent()
