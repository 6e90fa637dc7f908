"""Creating the instance folder and its database."""

from __future__ import annotations

from intake.config import Settings
from intake.storage.db import connect, upgrade


def init_instance(settings: Settings) -> None:
    """Create the instance folder (mode 0700) and migrate the database to the newest schema."""
    settings.instance.mkdir(mode=0o700, parents=True, exist_ok=True)
    settings.instance.chmod(0o700)
    engine = connect(settings.database_url)
    try:
        upgrade(engine)
    finally:
        engine.dispose()
