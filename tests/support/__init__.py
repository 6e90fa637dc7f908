"""Helpers shared by the test areas: paths of the checkout and real CLI processes."""

from __future__ import annotations

import atexit
import os
import queue
import subprocess
import sys
import threading
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


class Dropper:
    """Drops test databases in one background thread of the test process: DROP DATABASE waits for a checkpoint of
    the whole server (2.5-10 s measured while other suites ran), which no test needs to wait for. A drop that
    fails is raised by `finish` (the session's end), so no database is left behind unnoticed."""

    def __init__(self) -> None:
        self.names: queue.Queue[str | None] = queue.Queue()
        self.failed: list[str] = []
        self.thread: threading.Thread | None = None

    def drop(self, name: str) -> None:
        """Drop the database `name` soon."""
        if self.thread is None:
            self.thread = threading.Thread(target=self._run, name="drop-databases", daemon=True)  # never holds up exit
            self.thread.start()
        self.names.put(name)

    def finish(self) -> None:
        """Wait for every drop asked for; raise if one failed."""
        if self.thread is not None:
            self.names.put(None)
            self.thread.join()
            self.thread = None
        failed, self.failed = self.failed, []
        if failed:
            raise AssertionError(f"test databases not dropped: {failed}")

    def _run(self) -> None:
        admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
        while (name := self.names.get()) is not None:
            try:
                with admin.connect() as conn:
                    conn.execute(text(f'DROP DATABASE "{name}" WITH (FORCE)'))
            except Exception as exc:  # noqa: BLE001 - told at the session's end by finish()
                self.failed.append(f"{name}: {type(exc).__name__}: {exc}")
        admin.dispose()


DROPPER = Dropper()
atexit.register(DROPPER.finish)


@contextmanager
def postgres_database(prefix: str = "intake_test_", template: str | None = None) -> Iterator[str]:
    """A fresh PostgreSQL database on the loopback server, dropped afterwards (in the background: Dropper); yields
    its URL. Empty, or a copy of the database named `template` (tests/support/migrated.py)."""
    name = prefix + uuid.uuid4().hex[:12]
    admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"' + (f' TEMPLATE "{template}"' if template else "")))
    try:
        yield PG_ADMIN_URL.rsplit("/", 1)[0] + "/" + name
    finally:
        admin.dispose()
        close_connections(name)
        DROPPER.drop(name)


def run_cli(*args: str, cwd: Path, env: dict[str, str] | None = None, input: str | None = None,
            check: bool = True) -> subprocess.CompletedProcess[str]:
    """Run an installed console script (`intake`, `intake-review`) as a real process."""
    full_env = {**os.environ, **(env or {})}
    result = subprocess.run([str(BIN / args[0]), *args[1:]], cwd=cwd, env=full_env, input=input,
                            capture_output=True, text=True, timeout=300)
    if check and result.returncode != 0:
        raise AssertionError(f"{args} exited {result.returncode}:\n{result.stdout}\n{result.stderr}")
    return result
