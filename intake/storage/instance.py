"""Creating the instance folder and its database."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import Engine

from intake.settings import Settings
from intake.storage.db import connect, upgrade


def init_instance(settings: Settings) -> None:
    """Create the instance folder (mode 0700) and migrate the database to the newest schema."""
    with database(settings):
        settings.instance.chmod(0o700)


@contextmanager
def database(settings: Settings) -> Iterator[Engine]:
    """An engine on the instance's database, migrated to the newest schema, disposed afterwards."""
    settings.instance.mkdir(mode=0o700, parents=True, exist_ok=True)
    engine = connect(settings.database_url)
    try:
        upgrade(engine)
        yield engine
    finally:
        engine.dispose()
