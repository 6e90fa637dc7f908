"""Settings from INTAKE_* environment variables, with safe defaults for a local demo."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Settings:
    """Where the instance, the database and the public keyring live."""

    instance: Path
    database_url: str
    keys_dir: Path

    @classmethod
    def from_env(cls, environ: dict[str, str] | None = None) -> Settings:
        """Read INTAKE_INSTANCE, INTAKE_DATABASE_URL and INTAKE_KEYS_DIR."""
        env = os.environ if environ is None else environ
        instance = Path(env.get("INTAKE_INSTANCE") or "instance").absolute()
        url = env.get("INTAKE_DATABASE_URL") or f"sqlite:///{instance / 'intake.db'}"
        if not url.startswith(("sqlite:///", "postgresql")):
            raise ValueError("INTAKE_DATABASE_URL must start with sqlite:/// or postgresql+psycopg://")
        return cls(instance, url, Path(env.get("INTAKE_KEYS_DIR") or "keys").absolute())
