"""Engines for SQLite and PostgreSQL, with safe settings, and schema migration."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import Connection, Engine, create_engine, event, text
from sqlalchemy.exc import DBAPIError

from intake.storage.writers import queue_for

MIGRATIONS = Path(__file__).with_name("migrations")
DURABLE = ("FULL", 1000)  # SQLite's synchronous level and automatic checkpoint (pages) of every connection
WAL_KEPT = 64 << 20  # bytes of WAL kept after a checkpoint: parts of large uploads grow it until one (LAZY)
BUSY_TIMEOUT = 30000  # ms a connection waits for SQLite's lock
REVISION = re.compile(r"^(revision|down_revision)(?:: [^=]+)? = (?:\"([^\"]*)\"|'([^']*)'|None)$", re.MULTILINE)
LAZY = ("NORMAL", 0)  # the same, for one transaction that no receipt depends on (writing(durable=False))


def _sqlite_pragmas(dbapi_connection: object, _record: object) -> None:
    """WAL for concurrent readers, secure_delete so deleted data is zeroed, foreign keys on."""
    cursor = dbapi_connection.cursor()  # type: ignore[attr-defined]
    for pragma in ("journal_mode=WAL", "secure_delete=ON", "foreign_keys=ON", f"synchronous={DURABLE[0]}",
                   f"wal_autocheckpoint={DURABLE[1]}", f"journal_size_limit={WAL_KEPT}",
                   f"busy_timeout={BUSY_TIMEOUT}"):
        cursor.execute(f"PRAGMA {pragma}")
    cursor.close()


def connect(url: str) -> Engine:
    """Return an engine for `url` (sqlite:///... or postgresql+psycopg://...)."""
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"timeout": 30})
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    if url.startswith("postgresql"):
        return create_engine(url, pool_pre_ping=True)
    raise ValueError(f"unsupported database URL {url.split(':', 1)[0]!r}: use sqlite:/// or postgresql+psycopg://")


@contextmanager
def writing(engine: Engine, durable: bool = True, checkpoint: bool = True) -> Iterator[Connection]:
    """A write transaction, committed on success; on SQLite begun IMMEDIATE, in its turn (storage/writers.py).

    BEGIN IMMEDIATE takes SQLite's write lock at once, so a transaction that reads before it
    writes never fails to upgrade its lock; the turn makes writers queue instead of polling that
    lock. PostgreSQL locks rows, so its writers run side by side. Not reentrant.

    `durable=False` is for the parts of an upload that no receipt depends on yet (docs/web.md,
    "One durable point"): its commit does not wait for the disk (SQLite: `synchronous=NORMAL` and
    no automatic checkpoint for this one transaction; PostgreSQL: `synchronous_commit` off), so it
    survives a crash of the process but perhaps not of the machine. The durable commit that
    completes the case flushes the log up to itself, so every part before it is on disk then. It
    takes `checkpoint=False`: no automatic checkpoint in that commit, which would copy the whole
    upload's WAL into the database before the receipt is sent; one follows in the background
    (storage/checkpoints.py).
    """
    if engine.dialect.name != "sqlite" or not engine.url.database:
        with engine.begin() as conn:
            if not durable and engine.dialect.name == "postgresql":
                conn.exec_driver_sql("SET LOCAL synchronous_commit = off")
            yield conn
        return
    mode = (DURABLE[0] if durable else LAZY[0], DURABLE[1] if durable and checkpoint else LAZY[1])
    with queue_for(engine.url.database).turn(), engine.connect() as conn:
        if mode == DURABLE:
            with conn.begin():
                conn.exec_driver_sql("BEGIN IMMEDIATE")
                yield conn
            return
        raw = conn.connection.driver_connection  # SQLite refuses these pragmas inside a transaction
        raw.execute(f"PRAGMA synchronous={mode[0]}")
        raw.execute(f"PRAGMA wal_autocheckpoint={mode[1]}")
        try:
            with conn.begin():
                conn.exec_driver_sql("BEGIN IMMEDIATE")
                yield conn
        finally:
            raw.execute(f"PRAGMA synchronous={DURABLE[0]}")
            raw.execute(f"PRAGMA wal_autocheckpoint={DURABLE[1]}")


def upgrade(engine: Engine) -> None:
    """Bring the schema to the newest migration (idempotent; a database already there costs one query)."""
    if _at_head(engine):
        return
    from alembic import command  # imported only to migrate: most commands find the schema at its head
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, "head")


def migrations_head() -> str | None:
    """The newest migration's revision, read from the migration files without alembic; None if unsure."""
    revisions, parents = set(), set()
    files = list((MIGRATIONS / "versions").glob("*.py"))
    for path in files:
        found = {m[1]: m[2] or m[3] or None for m in REVISION.finditer(path.read_text(encoding="utf-8"))}
        if "revision" not in found or "down_revision" not in found:
            return None
        revisions.add(found["revision"])
        parents.add(found["down_revision"])
    heads = revisions - parents
    return heads.pop() if len(heads) == 1 and len(revisions) == len(files) else None


def _at_head(engine: Engine) -> bool:
    """True when the database's schema is at the newest migration already."""
    head = migrations_head()
    if head is None:
        return False
    try:
        with engine.connect() as conn:
            return conn.execute(text("SELECT version_num FROM alembic_version")).scalars().all() == [head]
    except DBAPIError:  # no alembic_version table yet: a new database
        return False


def integrity_ok(engine: Engine) -> bool:
    """Run SQLite's integrity check (always true on PostgreSQL, which checks itself)."""
    if engine.dialect.name != "sqlite":
        return True
    with engine.connect() as connection:
        return connection.execute(text("PRAGMA integrity_check")).scalar() == "ok"
