"""One writer at a time on a SQLite file, queued without SQLite's sleeping busy handler.

SQLite lets one connection write at a time; the others retry after sleeps of 1 to 100 ms, long
after the lock was freed. Here the threads of a process queue on a lock, and the processes on
flock(2) of an empty file beside the database (`<database>-writer`), which the kernel hands to
the next waiter the moment it is released. SQLite's own lock stays in force underneath, for
writers that do not queue here (the CLI).
"""

from __future__ import annotations

import fcntl
import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


class WriterQueue:
    """The queue of writers on one SQLite file, for the threads of this process and for other processes."""

    def __init__(self, database: Path) -> None:
        self.path = database.with_name(database.name + "-writer")
        self._threads = threading.Lock()
        self._fd = -1
        self._pid = 0

    @contextmanager
    def turn(self) -> Iterator[None]:
        """Wait for this writer's turn, and hold it for the block (not reentrant)."""
        with self._threads:
            if self._pid != os.getpid():
                self._fd = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
                self._pid = os.getpid()
            fcntl.flock(self._fd, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(self._fd, fcntl.LOCK_UN)


_QUEUES: dict[str, WriterQueue] = {}
_QUEUES_LOCK = threading.Lock()


def queue_for(database: str) -> WriterQueue:
    """The one queue of this process for a SQLite file."""
    path = Path(database).absolute()
    with _QUEUES_LOCK:
        return _QUEUES.setdefault(str(path), WriterQueue(path))
