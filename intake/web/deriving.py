"""Turns at deriving a codename's keys (one Argon2id of 64 MiB, 0.25 to 0.45 s of a core), priced in CPU time.

Each server process derives at most SLOTS at once (memory), and a typed codename on `POST /check`
may spend at most `share` of one core over time: a budget of CPU-seconds that fills at `share`
CPU-seconds a second up to BURST, and that each derivation empties by the CPU time it took. A check
that finds no free slot, or the budget below RESERVE, is refused at once (a 429) rather than queued,
so wrong codenames cannot hold every core or every thread (docs/web.md, "Codenames", "Floods").
A new report's codename waits its turn for a slot and is never refused by the budget: the no-JS
budget paid for its post, and the reserve left by checks is what it spends. Nothing is kept but
the budget's level, in this process's memory.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

SLOTS = 2  # Argon2id takes 64 MiB: at most two at once per process
BURST = 8.0  # CPU-seconds a quiet process may spend on checks at once (about 20 derivations)
RESERVE = 2.0  # CPU-seconds that checks leave to new reports' codenames


class Busy(Exception):
    """No derivation now: every slot is taken, or checks spent their share of the CPU; try again in a minute."""


class Derivations:
    """This process's derivation slots and its rolling budget of CPU-seconds for checks."""

    def __init__(self, share: float, slots: int = SLOTS, burst: float = BURST) -> None:
        self.share, self.burst = share, burst
        self._slots = threading.BoundedSemaphore(slots)
        self._level, self._at = burst, time.monotonic()
        self._lock = threading.Lock()

    def level(self) -> float:
        """The CPU-seconds checks may spend now."""
        with self._lock:
            return self._refill()

    def _refill(self) -> float:
        now = time.monotonic()
        self._level = min(self.burst, self._level + (now - self._at) * self.share)
        self._at = now
        return self._level

    @contextmanager
    def turn(self, wait: float = 0.0, reserve: float = RESERVE) -> Iterator[None]:
        """One derivation's turn, charged its CPU time; Busy at once when the budget is below `reserve` (checks), or
        when no slot frees within `wait` seconds."""
        with self._lock:
            if self._refill() < reserve:
                raise Busy
        if not self._slots.acquire(timeout=wait) if wait else not self._slots.acquire(blocking=False):
            raise Busy
        began = time.thread_time()  # libsodium's Argon2id runs in this thread, with one lane
        try:
            yield
        finally:
            used = time.thread_time() - began
            self._slots.release()
            with self._lock:
                self._refill()
                self._level -= used


NEVER = -math.inf  # the reserve of a new report's codename: the CPU budget never refuses it
