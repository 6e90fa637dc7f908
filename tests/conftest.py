"""Fixtures for every area: real SQLite files and real PostgreSQL databases, and reviewer identities."""

from __future__ import annotations

import os
import uuid
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

os.environ.setdefault("INTAKE_KDF_PROFILE", "interactive")

from intake.crypto.keys import Identity  # noqa: E402
from intake.storage.db import connect, upgrade  # noqa: E402
from tests.support import PG_ADMIN_URL  # noqa: E402


@pytest.fixture
def pg_url() -> str:
    """A fresh, empty PostgreSQL database on the loopback server, dropped afterwards."""
    name = "intake_test_" + uuid.uuid4().hex[:12]
    admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    yield PG_ADMIN_URL.rsplit("/", 1)[0] + "/" + name
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE "{name}" WITH (FORCE)'))
    admin.dispose()


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """The URL of an empty database: a SQLite file, then a PostgreSQL database."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'intake.db'}"
    return request.getfixturevalue("pg_url")


@pytest.fixture
def engine(db_url: str):
    """An engine on a migrated, empty database (both backends)."""
    eng = connect(db_url)
    upgrade(eng)
    yield eng
    eng.dispose()


@pytest.fixture
def identities() -> list[Identity]:
    """Three fresh reviewer identities."""
    return [Identity.generate() for _ in range(3)]
