"""SQLite checkpoints after uploads, in a background thread of each process, off the request's path.

Parts stored with `db.writing(durable=False)` take no automatic checkpoint, so the WAL holds an
upload's parts until the upload completes. The completing commit is durable by itself (it flushes
the WAL); copying the WAL into the database (two fsyncs, and the upload's bytes written once more)
can wait, so the receipt does not. `soon(engine)` asks this process's checkpointer of that file to
run one PASSIVE checkpoint (it waits for no reader or writer); requests made while it runs are
served by one more. A checkpoint that fails (the file gone, a busy database) is left to the next
one, and to the hourly sweep's truncation (storage/budgets.py).

`write_behind(engine)` asks the kernel to start writing the WAL's dirty pages to disk without waiting
(Linux `sync_file_range(SYNC_FILE_RANGE_WRITE)`, as PostgreSQL's `wal_writer_flush_after` does). It
promises nothing and is not an fsync: it only lets the disk work while an upload still arrives, so
the one durable commit that completes it has little left to flush.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import os
import sqlite3
import threading
from pathlib import Path

from sqlalchemy import Engine, create_engine
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.pool import NullPool

_CHECKPOINTERS: dict[str, Checkpointer] = {}
_LOCK = threading.Lock()


class Checkpointer:
    """One daemon thread that checkpoints one SQLite file whenever asked, on a connection of its own that it
    closes each time (so it keeps no file open)."""

    def __init__(self, database: Path) -> None:
        uri = database.absolute().as_uri() + "?mode=rw"  # never creates a file that is gone
        self.engine = create_engine("sqlite://", creator=lambda: sqlite3.connect(uri, uri=True, timeout=30),
                                    poolclass=NullPool)
        self.asked = threading.Event()
        threading.Thread(target=self._run, name="intake-checkpoint", daemon=True).start()

    def _run(self) -> None:
        while True:
            self.asked.wait()
            self.asked.clear()
            try:
                with self.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
                    conn.exec_driver_sql("PRAGMA wal_checkpoint(PASSIVE)")
            except SQLAlchemyError:
                continue


def soon(engine: Engine) -> None:
    """Ask for a PASSIVE checkpoint of a SQLite database in the background (nothing on PostgreSQL)."""
    if engine.dialect.name != "sqlite" or not engine.url.database:
        return
    database = Path(engine.url.database).absolute()
    with _LOCK:
        checkpointer = _CHECKPOINTERS.get(str(database))
        if checkpointer is None:
            checkpointer = _CHECKPOINTERS[str(database)] = Checkpointer(database)
    checkpointer.asked.set()


SYNC_FILE_RANGE_WRITE = 2


def _sync_file_range() -> object | None:
    """libc's sync_file_range, or None where there is none (not Linux)."""
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c"), use_errno=True)
        call = libc.sync_file_range
    except (OSError, AttributeError):
        return None
    call.argtypes = (ctypes.c_int, ctypes.c_int64, ctypes.c_int64, ctypes.c_uint)
    return call


_START_WRITEBACK = _sync_file_range()


def write_behind(engine: Engine) -> None:
    """Start writing a SQLite database's WAL to disk in the background (no fsync, nothing waited for)."""
    if _START_WRITEBACK is None or engine.dialect.name != "sqlite" or not engine.url.database:
        return
    try:
        fd = os.open(f"{engine.url.database}-wal", os.O_RDONLY | os.O_CLOEXEC)
    except OSError:
        return
    try:
        _START_WRITEBACK(fd, 0, 0, SYNC_FILE_RANGE_WRITE)  # type: ignore[operator]
    finally:
        os.close(fd)
