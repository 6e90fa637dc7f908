"""What reading a thread may cost (docs/web.md "Reading a thread"): a page of at most PAGE_BYTES sealed bytes,
READS_AT_ONCE pages loaded at once per process (a 503 after a short wait, never a queue), and a daily
allowance of sealed bytes read per case per process, counted in memory only: nothing about a read is stored.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager

from flask import abort
from flask_babel import gettext as _

from intake.storage.threads import MAX_THREAD_BYTES, PAGE_BYTES
from intake.web.tokens import day_number

READS_AT_ONCE = 4
WAIT = 5.0
DAILY_READ_BYTES = 16 * MAX_THREAD_BYTES  # a full thread read 16 times a day, per case and process


class Reads:
    """The read slots and today's bytes read per case, of this process."""

    def __init__(self) -> None:
        self._slots = threading.BoundedSemaphore(READS_AT_ONCE)
        self._lock = threading.Lock()
        self._day = -1
        self._read: dict[int, int] = {}

    def _left(self, case_id: int) -> int:
        with self._lock:
            if self._day != day_number():
                self._day, self._read = day_number(), {}
            return DAILY_READ_BYTES - self._read.get(case_id, 0)

    def charge(self, case_id: int, size: int) -> None:
        """Count `size` sealed bytes read from this case today."""
        with self._lock:
            self._read[case_id] = self._read.get(case_id, 0) + size

    def refuse_if_spent(self, case_id: int) -> int:
        """The bytes left to read from this case today; 429 when none are (asked before a follow-up is stored too,
        so that a stored message is never answered with a refusal)."""
        left = self._left(case_id)
        if left <= 0:
            abort(429, _("This conversation was opened very many times today. Try again tomorrow."))
        return left

    @contextmanager
    def page(self, case_id: int) -> Iterator[int]:
        """Hold a read slot and give the bytes this page may load; 429 when the case's allowance is spent,
        503 when every slot stays busy."""
        left = self.refuse_if_spent(case_id)
        if not self._slots.acquire(timeout=WAIT):
            abort(503, _("The service is busy. Nothing was stored: try again in a minute."))
        try:
            yield min(PAGE_BYTES, left)
        finally:
            self._slots.release()


READS = Reads()
