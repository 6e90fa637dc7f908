"""Fixtures for every area: real SQLite files and real PostgreSQL databases, and reviewer identities."""

from __future__ import annotations

import os
import resource
from pathlib import Path

import pytest

os.environ.setdefault("INTAKE_KDF_PROFILE", "interactive")

from intake.crypto.keys import Identity  # noqa: E402
from intake.storage.db import connect, upgrade  # noqa: E402
from tests.support import DROPPER, migrated, postgres_database  # noqa: E402
from tests.support.browser import Chromium  # noqa: E402
from tests.support.keytools import Prepared  # noqa: E402

MIGRATING = {"engine", "site"}  # fixtures that migrate their database first: they get it migrated already
CHROMIUM = Chromium()  # this test process's, shared by the modules that use `browser`


@pytest.fixture(scope="session", autouse=True)
def _once_per_process():
    """At the end of the session, close this process's Chromium, drop its migrated templates and wait for the drops
    of its test databases."""
    yield
    CHROMIUM.stop()
    migrated.drop()
    DROPPER.finish()


@pytest.fixture(scope="module", autouse=True)
def _playwright_free(request: pytest.FixtureRequest) -> None:
    """Before a module none of whose tests uses `browser`, stop the shared Chromium: its tests may start Playwright
    themselves, and the sync API allows one Playwright per thread."""
    if not any("browser" in item.fixturenames for item in request.session.items if item.module is request.module):
        CHROMIUM.stop()


@pytest.fixture
def pg_url(request: pytest.FixtureRequest) -> str:
    """A fresh PostgreSQL database on the loopback server, dropped afterwards: empty, or at the newest migration for
    a test that uses `engine` or `site` (a copy of a migrated template, tests/support/migrated.py)."""
    template = migrated.postgres_template() if MIGRATING & set(request.fixturenames) else None
    with postgres_database(template=template) as url:
        yield url


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """The URL of a database, a SQLite file then a PostgreSQL database: empty, or at the newest migration for a test
    that uses `engine` or `site`."""
    if request.param == "sqlite":
        if MIGRATING & set(request.fixturenames):
            migrated.copy_sqlite(tmp_path / "intake.db")
        return f"sqlite:///{tmp_path / 'intake.db'}"
    return request.getfixturevalue("pg_url")


@pytest.fixture
def engine(db_url: str):
    """An engine on a migrated, empty database (both backends); `upgrade` finds it migrated (db_url)."""
    eng = connect(db_url)
    upgrade(eng)
    yield eng
    eng.dispose()


@pytest.fixture
def identities() -> list[Identity]:
    """Three fresh reviewer identities."""
    return [Identity.generate() for _ in range(3)]


@pytest.fixture(scope="module")
def browser():
    """Debian's Chromium, headless, driven by Playwright: one per test process, shared by the modules that use it;
    the contexts a module leaves open are closed at its end."""
    chromium = CHROMIUM.get()
    yield chromium
    if chromium.is_connected():
        for context in chromium.contexts:
            context.close()


@pytest.fixture(scope="session")
def prepared(tmp_path_factory: pytest.TempPathFactory) -> Prepared:
    """Instances made once per test process by the real CLI, copied for each test (tests/support/keytools.py)."""
    made = Prepared(tmp_path_factory.mktemp("prepared"))
    yield made
    made.close()


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """The proof suites first, SQLite's before PostgreSQL's, then the other slow tests: the longest tests start first
    and, with the test command's `--maxschedchunk 4`, on different processes (a suite's two databases are not queued
    behind each other), and the short ones fill the end. Without the second group, test_web_busy.py (98 s, most of it
    waiting out busy timeouts) once started 100 s before the end and ran the last 50 s alone."""
    items.sort(key=lambda item: (0, "postgresql" in item.nodeid) if item.get_closest_marker("soak")
               else (1 if item.get_closest_marker("slow") else 2, False))


def _processor_seconds() -> tuple[float, float]:
    """User and system seconds of this process, and of the children it has waited for."""
    me, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return me.ru_utime + me.ru_stime, children.ru_utime + children.ru_stime


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_protocol(item: pytest.Item, nextitem: pytest.Item | None):
    """With INTAKE_TEST_CPU=FILE, add a line to FILE per test: the processor seconds its process and the children it
    waited for (servers, CLIs) spent in its setup, call and teardown, then its id. On 2 cores the suite is bound by
    processor time, not by --durations' wall time; sort the file to see which tests cost it."""
    record = os.environ.get("INTAKE_TEST_CPU")
    before = _processor_seconds()
    yield
    if record:
        after = _processor_seconds()
        with open(record, "a", encoding="utf-8") as out:
            out.write(f"{after[0] - before[0]:.2f}\t{after[1] - before[1]:.2f}\t{item.nodeid}\n")
