"""Helpers shared by the test areas: paths of the checkout and real CLI processes."""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
import weakref
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import create_engine, event, text
from sqlalchemy.pool import Pool

ROOT = Path(__file__).resolve().parents[2]
VECTORS = ROOT / "tests" / "vectors"
DATA = ROOT / "tests" / "data"
BIN = Path(sys.executable).parent
PG_ADMIN_URL = os.environ.get("INTAKE_TEST_POSTGRES", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
OPENED: weakref.WeakSet = weakref.WeakSet()  # every PostgreSQL connection this test process opened


@event.listens_for(Pool, "connect")
def _opened(connection: object, _record: object) -> None:
    if hasattr(connection, "pgconn"):  # psycopg's (SQLite's cannot be weakly referenced, and need no closing)
        OPENED.add(connection)


def close_connections(database: str) -> None:
    """Close this process's connections to a PostgreSQL database about to be dropped. An engine a test left
    undisposed would otherwise be collected later, in whichever test is running, and psycopg's ResourceWarning
    ("deleted while still open") fail that test."""
    for connection in list(OPENED):
        if not connection.closed and connection.info.dbname == database:  # a closed one has no info to read
            connection.close()


@contextmanager
def postgres_database(prefix: str = "intake_test_", template: str | None = None) -> Iterator[str]:
    """A fresh PostgreSQL database on the loopback server, dropped afterwards; yields its URL. Empty, or a copy of
    the database named `template` (tests/support/migrated.py)."""
    name = prefix + uuid.uuid4().hex[:12]
    admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"' + (f' TEMPLATE "{template}"' if template else "")))
    try:
        yield PG_ADMIN_URL.rsplit("/", 1)[0] + "/" + name
    finally:
        close_connections(name)
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE "{name}" WITH (FORCE)'))
        admin.dispose()


def run_cli(*args: str, cwd: Path, env: dict[str, str] | None = None, input: str | None = None,
            check: bool = True) -> subprocess.CompletedProcess[str]:
    """Run an installed console script (`intake`, `intake-review`) as a real process."""
    full_env = {**os.environ, **(env or {})}
    result = subprocess.run([str(BIN / args[0]), *args[1:]], cwd=cwd, env=full_env, input=input,
                            capture_output=True, text=True, timeout=300)
    if check and result.returncode != 0:
        raise AssertionError(f"{args} exited {result.returncode}:\n{result.stdout}\n{result.stderr}")
    return result
