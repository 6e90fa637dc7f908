"""The proof of work of the API, priced by recent load (docs/web.md, "Floods").

A challenge is the day number, the number of zero bits asked for, the minute it was issued, 12 random
bytes and a MAC: issuing one writes nothing, and the minute lives only inside the challenge (what is
stored of a spent one is a keyed digest and its day). A solution is a nonce such that
BLAKE2b-256("intake-pow-v2" || challenge || nonce) starts with that many zero bits. As in Tor's
onion-service defence (proposal 327), the effort asked for rises with the load: one more bit, so
twice the work, each time the reports admitted in the last minute double past `easy_rate`. A
solution must also reach the current effort, less SLACK bits while its challenge is at most
FRESH_MINUTES old, so challenges stockpiled while the service was quiet are worth little once it
is busy, and nothing once they are a few minutes old. The load is counted in this process's memory
only (in 10-second slots, forgotten after a minute) and scaled by the number of workers.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import math
import secrets
import struct
import threading
import time
from dataclasses import dataclass

from intake.crypto.keys import generichash
from intake.web.tokens import day_number


def N_(message: str) -> str:
    """Mark a message for the catalogs; it is translated where the refusal becomes an answer (web/errors.py)."""
    return message

DOMAIN = b"intake-pow-v2"
SLACK = 2
FRESH_MINUTES = 5  # a challenge older than this gets no slack: it must reach the current effort
MAX_RISE = 12
SLOT = 10
SLOTS = 6


def minute() -> int:
    """The minutes since the epoch: the age of a challenge is counted in them (a test may set this clock)."""
    return int(time.time() // 60)


class WorkRefused(Exception):
    """A proof of work was refused: `status` 400 (invalid) or 429 (too little work for the current load)."""

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


class Load:
    """How many reports this process admitted in the last minute, in memory only."""

    def __init__(self) -> None:
        self._slots: dict[int, int] = {}
        self._lock = threading.Lock()

    def add(self) -> None:
        """Count one admitted report."""
        slot = int(time.monotonic() // SLOT)
        with self._lock:
            self._slots[slot] = self._slots.get(slot, 0) + 1
            for old in [s for s in self._slots if s <= slot - SLOTS]:
                del self._slots[old]

    def last_minute(self) -> int:
        """Reports admitted in the last SLOTS slots."""
        slot = int(time.monotonic() // SLOT)
        with self._lock:
            return sum(n for s, n in self._slots.items() if s > slot - SLOTS)


@dataclass(frozen=True)
class Solved:
    """A valid solution: the keyed digest that marks its challenge spent, and the challenge's day."""

    spent: bytes
    day: int


class ProofOfWork:
    """Challenges whose effort follows the load; solutions checked without the database."""

    def __init__(self, secret: bytes, base_bits: int, easy_rate: int, workers: int) -> None:
        self.key = hashlib.sha256(b"intake-pow-secret" + secret).digest()
        self.base_bits, self.easy_rate, self.workers = base_bits, easy_rate, workers
        self.load = Load()

    def effort(self) -> int:
        """The zero bits asked for now: the base, plus one for each doubling of the load past `easy_rate`."""
        rate = self.load.last_minute() * self.workers
        rise = math.ceil(math.log2(rate / self.easy_rate)) if rate > self.easy_rate else 0
        return min(self.base_bits + min(rise, MAX_RISE), 32)

    def _mac(self, raw: bytes) -> bytes:
        return hmac.new(self.key, raw, hashlib.sha256).digest()[:16]

    def challenge(self) -> tuple[str, int]:
        """A new challenge and the zero bits it asks for."""
        bits = self.effort()
        raw = struct.pack(">IBI", day_number(), bits, minute() & 0xFFFFFFFF) + secrets.token_bytes(12)
        return base64.urlsafe_b64encode(raw + self._mac(raw)).decode().rstrip("="), bits

    def verify(self, challenge: object, nonce: object) -> Solved:
        """Check a solution of one of our challenges of today or yesterday, with enough work for the load now."""
        if not isinstance(challenge, str) or not isinstance(nonce, str) or len(nonce) > 64 or not nonce.isascii():
            raise WorkRefused(N_("the proof of work is missing: reload the page and send the report again"))
        try:
            raw = base64.urlsafe_b64decode(challenge + "==") if len(challenge) == 50 else b""
        except ValueError:
            raw = b""
        if len(raw) != 37 or not hmac.compare_digest(self._mac(raw[:21]), raw[21:]):
            raise WorkRefused(N_("the proof of work is not valid: reload the page and send the report again"))
        day, bits, issued = struct.unpack(">IBI", raw[:9])
        if not 0 <= day_number() - day <= 1:
            raise WorkRefused(N_("the proof of work has expired: reload the page and send the report again"))
        zeros = leading_zero_bits(generichash(32, DOMAIN + challenge.encode() + nonce.encode()))
        if zeros < bits:
            raise WorkRefused(N_("the proof of work is not solved: reload the page and send the report again"))
        slack = SLACK if 0 <= (minute() - issued) & 0xFFFFFFFF <= FRESH_MINUTES else 0
        if zeros < self.effort() - slack:
            raise WorkRefused(N_("the service is busy and asks for more work now: solve a new challenge"), 429)
        return Solved(self._mac(b"spent" + raw[:21]), day)
