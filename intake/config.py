"""Settings from INTAKE_* environment variables, with safe defaults for a local demo."""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path

MIB = 1 << 20
_ONION = re.compile(r"https?://[a-z2-7]{56}\.onion/?")


def _integer(env: dict[str, str], name: str, default: int, low: int, high: int) -> int:
    """Read an integer setting within [low, high], or raise ValueError saying what to set."""
    raw = env.get(name)
    if raw in (None, ""):
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ValueError(f"{name} must be a whole number, not {raw!r}") from None
    if not low <= value <= high:
        raise ValueError(f"{name} must be between {low} and {high}, not {value}")
    return value


@dataclass(frozen=True)
class Settings:
    """Where the instance, the database and the public keyring live, and the web server's limits."""

    instance: Path
    database_url: str
    keys_dir: Path
    max_report_bytes: int = 500 * MIB
    pow_bits: int = 16
    pow_easy_rate: int = 60
    nojs_per_minute: int = 300
    daily_bytes: int = 50 * 1024 * MIB
    pending_bytes: int = 8 * 1024 * MIB
    free_floor: int = 2 * 1024 * MIB
    onion: str | None = None
    workers: int = 2
    header_timeout: int = 30
    idle_timeout: int = 60
    body_grace: int = 30
    min_body_rate: int = 1024

    @classmethod
    def from_env(cls, environ: dict[str, str] | None = None) -> Settings:
        """Read INTAKE_INSTANCE, INTAKE_DATABASE_URL, INTAKE_KEYS_DIR and the web settings."""
        env = os.environ if environ is None else environ
        instance = Path(env.get("INTAKE_INSTANCE") or "instance").absolute()
        url = env.get("INTAKE_DATABASE_URL") or f"sqlite:///{instance / 'intake.db'}"
        if not url.startswith(("sqlite:///", "postgresql")):
            raise ValueError("INTAKE_DATABASE_URL must start with sqlite:/// or postgresql+psycopg://")
        onion = env.get("INTAKE_ONION") or None
        if onion and not _ONION.fullmatch(onion):
            raise ValueError("INTAKE_ONION must be an onion service address such as http://<56 letters>.onion")
        return cls(instance, url, Path(env.get("INTAKE_KEYS_DIR") or "keys").absolute(),
                   max_report_bytes=_integer(env, "INTAKE_MAX_REPORT_BYTES", 500 * MIB, MIB, 1 << 40),
                   pow_bits=_integer(env, "INTAKE_POW_BITS", 16, 0, 32),
                   pow_easy_rate=_integer(env, "INTAKE_POW_EASY_RATE", 60, 1, 1_000_000),
                   nojs_per_minute=_integer(env, "INTAKE_NOJS_PER_MINUTE", 300, 1, 1_000_000),
                   daily_bytes=_integer(env, "INTAKE_DAILY_BYTES", 50 * 1024 * MIB, MIB, 1 << 50),
                   pending_bytes=_integer(env, "INTAKE_PENDING_BYTES", 8 * 1024 * MIB, MIB, 1 << 50),
                   free_floor=_integer(env, "INTAKE_FREE_FLOOR", 2 * 1024 * MIB, 0, 1 << 50),
                   onion=onion.rstrip("/") if onion else None,
                   workers=_integer(env, "INTAKE_WORKERS", 2, 1, 64),
                   header_timeout=_integer(env, "INTAKE_HEADER_TIMEOUT", 30, 1, 3600),
                   idle_timeout=_integer(env, "INTAKE_IDLE_TIMEOUT", 60, 1, 3600),
                   body_grace=_integer(env, "INTAKE_BODY_GRACE", 30, 1, 3600),
                   min_body_rate=_integer(env, "INTAKE_MIN_BODY_RATE", 1024, 1, 1 << 30))
