"""What every request shares: settings, the database, the keyring, the flood guards, upload expiry."""

from __future__ import annotations

import datetime as dt
import secrets
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

from flask import Flask, current_app
from sqlalchemy import Engine

from intake.crypto.keyfile import write_private
from intake.settings import Settings
from intake.storage.batches import GroupCommit
from intake.storage.db import connect, upgrade
from intake.storage.guards import forget_spent
from intake.storage.lifecycle import expire_uploads
from intake.web.guards import ProofOfWork, RateBudget
from intake.web.keyring_watch import KeyringWatch

EXPIRY_INTERVAL = 600


@dataclass
class Intake:
    """The app's shared objects, kept in app.extensions["intake"]."""

    settings: Settings
    engine: Engine
    keyring: KeyringWatch
    pow: ProofOfWork
    budget: RateBudget
    commits: GroupCommit
    _expired_at: float = 0.0
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def expire_now_and_then(self) -> None:
        """Delete abandoned uploads and expired guard state, at most once every EXPIRY_INTERVAL seconds."""
        now = time.monotonic()
        with self._lock:
            if self._expired_at and now - self._expired_at < EXPIRY_INTERVAL:
                return
            self._expired_at = now
        expire_uploads(self.engine)
        forget_spent(self.engine, dt.datetime.now(dt.UTC).replace(tzinfo=None))


def secret_key(instance: Path) -> bytes:
    """The key that signs CSRF tokens and proof-of-work challenges, kept in instance/secret.key (0600)."""
    path = instance / "secret.key"
    if not path.exists():
        instance.mkdir(mode=0o700, parents=True, exist_ok=True)
        try:
            write_private(path, secrets.token_hex(32) + "\n")
        except FileExistsError:
            pass
    return bytes.fromhex(path.read_text(encoding="ascii").strip())


def init_app(app: Flask, settings: Settings) -> None:
    """Open and migrate the database, verify the keyring (refusing to start on a bad, older or unpinned one)."""
    engine = connect(settings.database_url)
    upgrade(engine)
    keyring = KeyringWatch(settings, engine)
    pow_ = ProofOfWork(app.config["SECRET_KEY"], settings.pow_bits)
    app.extensions["intake"] = Intake(settings, engine, keyring, pow_, RateBudget(engine, settings.reports_per_minute),
                                      GroupCommit(engine))


def state() -> Intake:
    """The shared objects of the current app."""
    return current_app.extensions["intake"]
