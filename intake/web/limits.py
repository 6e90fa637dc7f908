"""Limits kept in this process's memory: the no-JavaScript path's budget and the free-space floor.

The no-JS path cannot do a proof of work, so it has its own budget of reports per minute (a token
bucket in memory, per worker process: nothing on disk, no time stored), apart from the API's
work, so that a flood of one path never locks out the other (docs/web.md, "Floods").
"""

from __future__ import annotations

import shutil
import threading
import time
from pathlib import Path

SMALL = 1 << 20


class Bucket:
    """At most `per_minute` takes in any minute, `per_minute` at once after a quiet minute."""

    def __init__(self, per_minute: int) -> None:
        self.per_minute = per_minute
        self._level = float(per_minute)
        self._at = time.monotonic()
        self._lock = threading.Lock()

    def take(self) -> bool:
        """Take one place if there is one."""
        with self._lock:
            now = time.monotonic()
            self._level = min(float(self.per_minute), self._level + (now - self._at) * self.per_minute / 60)
            self._at = now
            if self._level < 1:
                return False
            self._level -= 1
            return True

    def give_back(self) -> None:
        """Return a place taken by a request that was then refused (a carried file found bad as it arrived)."""
        with self._lock:
            self._level = min(float(self.per_minute), self._level + 1)


def below_floor(folder: Path | None, size: int, floor: int) -> bool:
    """Whether storing `size` more bytes would eat into the free-space floor of the database's disk.

    Below `floor`, only reports under SMALL bytes are taken; below a tenth of it, none. A database
    on another machine (PostgreSQL) is `folder` None: its own monitoring must watch its disk.
    """
    if folder is None:
        return False
    free = shutil.disk_usage(folder).free
    return free - size < floor // 10 or (size >= SMALL and free - size < floor)
