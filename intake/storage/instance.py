"""Creating the instance folder and its database, and refusing to run where none exists."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import Engine

from intake.errors import IntakeError
from intake.settings import Settings
from intake.storage.db import connect, upgrade


class NoInstance(IntakeError):
    """The instance folder or its database does not exist: nothing was created."""


def init_instance(settings: Settings) -> None:
    """Create the instance folder (mode 0700) and migrate the database to the newest schema."""
    with database(settings, create=True):
        settings.instance.chmod(0o700)


def require_instance(settings: Settings) -> None:
    """Refuse, creating nothing and naming the setting to fix, unless the instance folder and its database exist."""
    if not settings.instance.is_dir():
        raise NoInstance(f"no instance folder at {settings.instance}; nothing was created",
                         "set INTAKE_INSTANCE to your instance folder (the default is ./instance, in the current "
                         "folder), or make a new instance with `intake init`")
    require_database(settings)


def require_database(settings: Settings) -> None:
    """Refuse, creating nothing, when the database is a SQLite file that does not exist (connecting would make it)."""
    sqlite_file = sqlite_path(settings.database_url)
    if sqlite_file is not None and not sqlite_file.is_file():
        raise NoInstance(f"no database at {sqlite_file}; nothing was created",
                         "set INTAKE_DATABASE_URL to your database (the default is intake.db in INTAKE_INSTANCE), "
                         "or run `intake init` to make a new one")


def sqlite_path(url: str) -> Path | None:
    """The file of a sqlite:/// URL (None for PostgreSQL)."""
    return Path(url.removeprefix("sqlite:///")) if url.startswith("sqlite:///") else None


@contextmanager
def database(settings: Settings, create: bool = False) -> Iterator[Engine]:
    """An engine on the instance's database, migrated to the newest schema, disposed afterwards.

    Without `create`, an instance that does not exist is refused (require_instance), never made.
    """
    if create:
        settings.instance.mkdir(mode=0o700, parents=True, exist_ok=True)
    else:
        require_instance(settings)
    engine = connect(settings.database_url)
    try:
        upgrade(engine)
        yield engine
    finally:
        engine.dispose()
