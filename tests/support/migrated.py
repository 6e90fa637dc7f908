"""Databases at the newest migration, copied from one migrated once per test process (a SQLite file, a PostgreSQL
TEMPLATE): a copy costs a few milliseconds where running every migration costs a second on PostgreSQL.

A test that asks for an empty database (`db_url`, `pg_url` without `engine` or `site`) still gets an empty one, and
the migrations themselves run in the tests that test them (tests/storage, tests/ops/test_ops_backup.py) and here.
"""

from __future__ import annotations

import shutil
import sqlite3
import tempfile
import uuid
from pathlib import Path

from sqlalchemy import create_engine, text

from intake.storage.db import connect, upgrade
from tests.support import PG_ADMIN_URL

_made: dict[str, str] = {}


def copy_sqlite(path: Path) -> None:
    """Make `path` (no file yet) a SQLite database at the newest migration."""
    if "sqlite" not in _made:
        folder = Path(tempfile.mkdtemp(prefix="intake-migrated-"))
        _made["sqlite"] = str(folder / "intake.db")
        engine = connect(f"sqlite:///{_made['sqlite']}")
        upgrade(engine)
        engine.dispose()
    path.parent.mkdir(parents=True, exist_ok=True)
    source, to = sqlite3.connect(_made["sqlite"]), sqlite3.connect(path)
    source.backup(to)
    source.close()
    to.close()


def postgres_template() -> str:
    """The name of this process's PostgreSQL database at the newest migration, made at the first call."""
    if "postgresql" not in _made:
        name = "intake_migrated_" + uuid.uuid4().hex[:12]
        _admin(f'CREATE DATABASE "{name}"')
        _made["postgresql"] = name
        engine = connect(PG_ADMIN_URL.rsplit("/", 1)[0] + "/" + name)
        upgrade(engine)
        engine.dispose()  # CREATE DATABASE ... TEMPLATE needs the template with no connection open
    return _made["postgresql"]


def drop() -> None:
    """Remove this process's templates (at the end of the session)."""
    if "postgresql" in _made:
        _admin(f'DROP DATABASE "{_made.pop("postgresql")}" WITH (FORCE)')
    if "sqlite" in _made:
        shutil.rmtree(Path(_made.pop("sqlite")).parent)


def _admin(statement: str) -> None:
    admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(statement))
    admin.dispose()
