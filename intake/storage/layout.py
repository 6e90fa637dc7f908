"""The database file's physical layout: rebuilt at each hourly sweep so that it keeps no order of arrival.

SQLite gives a new row's overflow pages (every value over about 4 KB: sealed bodies, 1 MiB parts) the
next free pages, so a copy of the file tells the order in which rows were written, whatever their keys.
`VACUUM` builds a fresh copy of the file, table by table in key order, and puts it in place in one
transaction (through the WAL: a crash before it commits leaves the old file whole). Every table a
reporter's rows go into is keyed by a random id (case ids, part ids), so the rebuilt pages fall in
random order. docs/web.md ("Nothing finer than the day") gives the reasoning and the cost.
"""

from __future__ import annotations

import logging
import shutil
from pathlib import Path

from sqlalchemy import Connection, Engine

from intake.storage.db import BUSY_TIMEOUT
from intake.storage.writers import queue_for

log = logging.getLogger("intake.storage")
TRUNCATE_WAIT = 5000  # ms the truncation waits for readers, holding writers back


def _room(database: Path) -> bool:
    """Whether the database's disk holds two more copies of it (VACUUM's temporary copy and its WAL)."""
    size = sum(p.stat().st_size for p in (database, database.with_name(database.name + "-wal")) if p.exists())
    return shutil.disk_usage(database.parent).free > 2 * size


def shuffle_file(engine: Engine) -> bool:
    """On SQLite, rebuild the file in key order (random order) and truncate its WAL; False when either was not done.

    Writers wait for it at most SQLite's busy timeout, then answer a 503 (storage/writers.py). Not done on
    PostgreSQL (docs/web.md says what its files keep), nor when the disk lacks room for the copy.
    """
    database = engine.url.database
    if engine.dialect.name != "sqlite" or not database:
        return False
    if not _room(Path(database)):
        log.warning("the database was not rebuilt: its disk lacks room for two copies of it; free some space")
        return False
    with queue_for(database).rebuilding(), engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.exec_driver_sql("VACUUM")
        return _truncate(conn)


def truncate_wal(engine: Engine) -> bool:
    """On SQLite, checkpoint and truncate the WAL now, in the writers' turn; False when a reader kept it."""
    database = engine.url.database
    if engine.dialect.name != "sqlite" or not database:
        return True
    with queue_for(database).rebuilding(), engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        return _truncate(conn)


def _truncate(conn: Connection) -> bool:
    """Truncate the WAL, waiting at most TRUNCATE_WAIT ms for readers (writers wait meanwhile); False, logged, when a
    reader still uses it: its frames (the last hour's writes in order, deleted rows) stay until it is truncated."""
    conn.exec_driver_sql(f"PRAGMA busy_timeout={TRUNCATE_WAIT}")
    try:
        busy = conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)").first()[0]
    finally:
        conn.exec_driver_sql(f"PRAGMA busy_timeout={BUSY_TIMEOUT}")
    if busy:
        log.warning("the WAL was not truncated: a long read was under way; the server's sweeper tries again "
                    "within minutes (or run intake expire-uploads again)")
    return not busy
