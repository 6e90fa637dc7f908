"""`intake backup` and `intake restore`: a consistent copy of the sealed data, in one SQLite file (docs/deploy.md).

The copy is read in one snapshot (a read transaction in SQLite's WAL, REPEATABLE READ on
PostgreSQL), so the server keeps writing while it runs and every case in the file is whole.
It holds only what `intake-review` and checking back need: complete cases with their attachments,
keys, notes, lookups and threads, the codename salt, and the audit log. It leaves out unfinished
uploads (their upload tokens), the flood guards (spent challenges and the per-minute budget) and
every private key. The same file restores
into SQLite or PostgreSQL, at the schema it was made with, then upgraded to the newest.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, Engine, MetaData, Table, create_engine, delete, event, func, insert, select, text
from sqlalchemy.exc import SQLAlchemyError

from intake.operations import OperationError
from intake.storage.db import MIGRATIONS, connect, upgrade

# Flood-guard state a restored instance starts empty: work spent today, bytes stored today, the sweeps' upkeep.
LEFT_OUT = frozenset({"alembic_version", "spent_work", "stored_bytes", "upkeep"})
# Tables the migrations fill with a fresh value: the copy replaces it (a new codename salt would orphan every codename).
REPLACED = frozenset({"codename_salt"})
BATCH = 32


@dataclass(frozen=True)
class Copied:
    """What a backup or a restore copied: the schema revision, and rows per table."""

    revision: str
    rows: dict[str, int]

    @property
    def cases(self) -> int:
        """How many cases were copied."""
        return self.rows.get("cases", 0)


def _config() -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    return config


def _revision(conn: Connection) -> str | None:
    return MigrationContext.configure(conn).get_current_revision()


def _migrate(engine: Engine, revision: str) -> None:
    config = _config()
    with engine.begin() as conn:
        config.attributes["connection"] = conn
        command.upgrade(config, revision)


def _file_engine(path: Path, read_only: bool = False) -> Engine:
    """A plain SQLite engine on a backup file: rollback journal, secure_delete, no WAL left beside it."""
    url = f"sqlite:///file:{path}?mode=ro&uri=true" if read_only else f"sqlite:///{path}"
    engine = create_engine(url)

    def pragmas(dbapi_connection: object, _record: object) -> None:
        cursor = dbapi_connection.cursor()  # type: ignore[attr-defined]
        writable = ("journal_mode=DELETE", "secure_delete=ON", "foreign_keys=ON")
        for pragma in ("query_only=ON",) if read_only else writable:
            cursor.execute(f"PRAGMA {pragma}")
        cursor.close()

    event.listen(engine, "connect", pragmas)
    return engine


@contextmanager
def snapshot(engine: Engine) -> Iterator[Connection]:
    """A read-only connection that sees one consistent state of the database for as long as it is open."""
    if engine.dialect.name == "sqlite":
        with engine.connect() as conn:
            conn.exec_driver_sql("BEGIN")
            try:
                yield conn
            finally:
                conn.rollback()
        return
    with engine.connect().execution_options(isolation_level="REPEATABLE READ") as conn, conn.begin():
        conn.execute(text("SET TRANSACTION READ ONLY"))
        yield conn


def _rows(source: Connection, table: Table, tables: MetaData) -> Iterator[dict[str, object]]:
    """The rows of `table` a backup keeps: complete cases (without upload tokens) and what belongs to them (a
    follow-up's file parts once a delivered message names their stream: never those still uploading)."""
    query, cases = select(table), tables.tables["cases"]
    if table.name == "cases":
        query = query.where(table.c.complete.is_(True))
    elif table.name == "message_parts" and "stream" in table.c:
        query = query.where(table.c.stream.in_(select(tables.tables["message_attachments"].c.stream)))
    elif "case_id" in table.c:
        query = query.where(table.c.case_id.in_(select(cases.c.id).where(cases.c.complete.is_(True))))
    key = list(table.primary_key.columns) or list(table.columns)
    for row in source.execute(query.order_by(*key).execution_options(yield_per=BATCH)).mappings():
        values = dict(row)
        if table.name == "cases":
            values.update(upload_token=None, idle=0)
        yield values


def copy_tables(source: Connection, target: Connection) -> dict[str, int]:
    """Copy every kept table from `source` into the same tables of `target`, parents first."""
    have, want = MetaData(), MetaData()
    have.reflect(source)
    want.reflect(target)
    counts: dict[str, int] = {}
    for table in have.sorted_tables:
        if table.name in LEFT_OUT:
            continue
        if table.name not in want.tables:
            raise OperationError(f"the target has no table {table.name}: restore into a database at the backup's "
                                 "schema (a new, empty one)")
        into, batch, counts[table.name] = want.tables[table.name], [], 0
        if table.name in REPLACED:
            target.execute(delete(into))
        for values in _rows(source, table, have):
            batch.append({k: v for k, v in values.items() if k in into.c})
            if len(batch) == BATCH:
                counts[table.name] += _flush(target, into, batch)
        counts[table.name] += _flush(target, into, batch)
    return counts


def _flush(target: Connection, table: Table, batch: list[dict[str, object]]) -> int:
    if batch:
        target.execute(insert(table), batch)
    done = len(batch)
    batch.clear()
    return done


def backup(database_url: str, out: Path) -> Copied:
    """Write a consistent copy of the sealed data to `out` (a new file, mode 0600); the server may keep running."""
    out = out.absolute()
    if out.exists():
        raise OperationError(f"{out} already exists: choose a new file name")
    if not out.parent.is_dir():
        raise OperationError(f"no folder {out.parent}: create it first")
    if database_url.startswith("sqlite:///") and not Path(database_url.removeprefix("sqlite:///")).is_file():
        raise OperationError(f"no database at {database_url.removeprefix('sqlite:///')}: check INTAKE_INSTANCE "
                             "and INTAKE_DATABASE_URL")
    staged = out.with_name(f".{out.name}.partial-{os.getpid()}")
    os.close(os.open(staged, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600))
    source, target = connect(database_url), _file_engine(staged)
    try:
        with snapshot(source) as conn:
            revision = _revision(conn)
            if revision is None:
                raise OperationError("the database has no intake schema: check INTAKE_DATABASE_URL")
            _migrate(target, revision)
            with target.begin() as into:
                rows = copy_tables(conn, into)
        target.dispose()
        with staged.open("rb+") as handle:
            os.fsync(handle.fileno())
        os.replace(staged, out)
        return Copied(revision, rows)
    except SQLAlchemyError as exc:
        raise OperationError(f"cannot copy the database: {_reason(exc)}; nothing was written") from None
    finally:
        source.dispose()
        target.dispose()
        staged.unlink(missing_ok=True)


def _reason(exc: SQLAlchemyError) -> str:
    return str(getattr(exc, "orig", None) or exc).splitlines()[0]


def _is_empty(conn: Connection) -> bool:
    meta = MetaData()
    meta.reflect(conn)
    names = set(meta.tables) - LEFT_OUT
    return all(conn.execute(select(func.count()).select_from(meta.tables[n])).scalar() == 0 for n in names)


def restore(database_url: str, backup_file: Path) -> Copied:
    """Fill an empty database from a backup file, then upgrade it to the newest schema."""
    if not backup_file.is_file():
        raise OperationError(f"no backup file at {backup_file}")
    source, target = _file_engine(backup_file.absolute(), read_only=True), connect(database_url)
    try:
        with _opened(source, backup_file) as conn:
            revision = _backup_revision(conn)
            if revision is None:
                raise OperationError(f"{backup_file} is not an intake backup: give a file `intake backup` wrote")
            if ScriptDirectory.from_config(_config()).get_revision(revision) is None:
                raise OperationError(f"{backup_file} was made by a newer intake (schema {revision}): upgrade intake "
                                     "first")
            with target.connect() as check:
                current = _revision(check)
                if not _is_empty(check):
                    raise OperationError("the target database is not empty: restore only into a new instance "
                                         "(a new INTAKE_INSTANCE or INTAKE_DATABASE_URL)")
            if current not in (None, revision):
                raise OperationError(f"the empty target database is already at schema {current}, not the backup's "
                                     f"{revision}: restore into a database `intake init` has not touched")
            _migrate(target, revision)
            with target.begin() as into:
                rows = copy_tables(conn, into)
                _reset_sequences(into)
        upgrade(target)
        return Copied(revision, rows)
    except SQLAlchemyError as exc:
        raise OperationError(f"cannot restore: {_reason(exc)}") from None
    finally:
        source.dispose()
        target.dispose()


@contextmanager
def _opened(engine: Engine, backup_file: Path) -> Iterator[Connection]:
    try:
        conn = engine.connect()
    except SQLAlchemyError:
        raise OperationError(f"{backup_file} is not an intake backup: give a file `intake backup` wrote") from None
    with conn:
        yield conn


def _backup_revision(conn: Connection) -> str | None:
    """The schema revision of a backup file, or None if it is not one."""
    try:
        names = set(conn.exec_driver_sql("SELECT name FROM sqlite_master WHERE type = 'table'").scalars())
        return _revision(conn) if {"alembic_version", "cases", "audit"} <= names else None
    except SQLAlchemyError:
        return None


def _reset_sequences(conn: Connection) -> None:
    """On PostgreSQL, move each id sequence past the ids just copied in."""
    if conn.dialect.name != "postgresql":
        return
    meta = MetaData()
    meta.reflect(conn)
    for table in meta.sorted_tables:
        if "id" in table.c and table.c.id.primary_key:
            conn.execute(text(f"SELECT setval(pg_get_serial_sequence('{table.name}', 'id'), "  # noqa: S608
                              f"COALESCE(MAX(id), 1), MAX(id) IS NOT NULL) FROM \"{table.name}\""))
