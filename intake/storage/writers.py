"""One writer at a time on a SQLite file, queued without SQLite's sleeping busy handler.

SQLite lets one connection write at a time; the others retry after sleeps of 1 to 100 ms, long
after the lock was freed. Here the threads of a process queue on a lock, and the processes on
flock(2) of an empty file beside the database (`<database>-writer`), which the kernel hands to
the next waiter the moment it is released. SQLite's own lock stays in force underneath, for
writers that do not queue here (the CLI).

The hourly rebuild of the file (storage/layout.py) holds the turn for as long as `VACUUM` takes, a
minute or more on a large file. So it first takes `<database>-rebuild` exclusively, which every writer
holds shared from before it queues until its turn ends: a writer that finds a rebuild under way waits
for it at most REBUILD_WAIT seconds (SQLite's busy timeout) and is then refused as a locked database
(the 503 of docs/web.md, "Floods"), rather than holding a request thread for the whole rebuild.
"""

from __future__ import annotations

import fcntl
import os
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy.exc import OperationalError

REBUILD_WAIT = 30.0  # seconds a writer waits for a rebuild of the file (SQLite's busy timeout)


class WriterQueue:
    """The queue of writers on one SQLite file, for the threads of this process and for other processes."""

    def __init__(self, database: Path) -> None:
        self.path = database.with_name(database.name + "-writer")
        self.rebuild_path = database.with_name(database.name + "-rebuild")
        self._threads = threading.Lock()
        self._fd = -1
        self._pid = 0

    @contextmanager
    def turn(self) -> Iterator[None]:
        """Wait for this writer's turn, and hold it for the block (not reentrant); refused (OperationalError) when a
        rebuild of the file holds the writers back for over REBUILD_WAIT seconds."""
        with self._rebuild(fcntl.LOCK_SH, REBUILD_WAIT), self._turn():
            yield

    @contextmanager
    def rebuilding(self) -> Iterator[None]:
        """Hold every writer back for a rebuild of the file: waits for the writers under way, then takes the turn."""
        with self._rebuild(fcntl.LOCK_EX, None), self._turn():
            yield

    @contextmanager
    def _rebuild(self, mode: int, wait: float | None) -> Iterator[None]:
        """Hold the rebuild lock in `mode` (a descriptor of its own, so the threads of a process do not share it),
        waiting for it without bound (None) or polling for at most `wait` seconds."""
        fd = os.open(self.rebuild_path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
        try:
            if wait is None:
                fcntl.flock(fd, mode)
            else:
                deadline = time.monotonic() + wait
                while True:
                    try:
                        fcntl.flock(fd, mode | fcntl.LOCK_NB)
                        break
                    except BlockingIOError:
                        if time.monotonic() >= deadline:
                            raise OperationalError("waiting for the rebuild of the database file", None,
                                                   TimeoutError("the database file is being rebuilt")) from None
                        time.sleep(0.1)
            yield
        finally:
            os.close(fd)

    @contextmanager
    def _turn(self) -> Iterator[None]:
        """Wait for the writers' turn of this process and of the others, and hold it for the block."""
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
