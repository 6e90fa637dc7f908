"""What every request shares: settings, the database, the keyring, the flood guards, the hourly sweep."""

from __future__ import annotations

import logging
import secrets
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from flask import Flask, current_app
from sqlalchemy import Engine

from intake.crypto.keyfile import write_private
from intake.settings import Settings
from intake.storage.admission import Limits
from intake.storage.batches import GroupCommit
from intake.storage.budgets import sweep
from intake.storage.db import connect, upgrade
from intake.storage.layout import shuffle_file, truncate_wal
from intake.storage.lifecycle import discard
from intake.web.deriving import Derivations
from intake.web.keyring_watch import KeyringWatch
from intake.web.limits import Bucket
from intake.web.tokens import FormTokens, day_number
from intake.web.work import ProofOfWork

SWEEP_CHECK = 300
log = logging.getLogger("intake.web")


@dataclass
class Intake:
    """The app's shared objects, kept in app.extensions["intake"]."""

    settings: Settings
    engine: Engine
    keyring: KeyringWatch
    work: ProofOfWork
    tokens: FormTokens
    nojs: Bucket
    commits: GroupCommit
    secret: bytes  # instance/secret.key: the key of the pages' sealed boxes (web/boxes.py)
    derivations: Derivations  # codenames' Argon2id: slots and a CPU budget in this process (web/deriving.py)
    wal_owed: bool = False  # the last sweep could not truncate the WAL (a long read): the sweeper tries again

    @property
    def limits(self) -> Limits:
        """The byte budgets of a browser-sealed report."""
        return Limits(self.settings.daily_bytes, self.settings.pending_bytes, self.settings.max_report_bytes)

    @property
    def disk(self) -> Path | None:
        """The folder whose disk holds the database, when it is on this machine (SQLite)."""
        database = self.engine.url.database if self.engine.dialect.name == "sqlite" else None
        return Path(database).parent if database else None

    def sweep(self) -> None:
        """Take part in the hourly sweep (storage/budgets.py): discard the uploads it found idle, rebuild the
        SQLite file in random order and truncate its WAL (storage/layout.py), then again until it is truncated."""
        if self.wal_owed:
            self.wal_owed = not truncate_wal(self.engine)
        stale = sweep(self.engine, time.time(), day_number())
        if stale is None:
            return
        for case_id in stale:
            discard(self.engine, case_id)
        self.wal_owed = not shuffle_file(self.engine)

    def start_sweeper(self) -> None:
        """Sweep now and every SWEEP_CHECK seconds in a thread of this process (a gunicorn worker).

        A clock drives the sweeps, not requests: the hour stored in `upkeep` then says when the
        server ran, never when a report came.
        """
        threading.Thread(target=self._sweep_forever, name="intake-sweep", daemon=True).start()

    def _sweep_forever(self) -> None:
        while True:
            try:
                self.sweep()
            except Exception as exc:  # noqa: BLE001 - the next sweep tries again; log the kind only
                log.error("the sweep failed (%s); it runs again in %s s", type(exc).__name__, SWEEP_CHECK)
            time.sleep(SWEEP_CHECK)


def secret_key(instance: Path) -> bytes:
    """The key that signs form tokens and proof-of-work challenges, kept in instance/secret.key (0600)."""
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
    secret = secret_key(settings.instance)
    work = ProofOfWork(secret, settings.pow_bits, settings.pow_easy_rate, settings.workers)
    app.extensions["intake"] = Intake(settings, engine, keyring, work, FormTokens(secret),
                                      Bucket(settings.nojs_per_minute), GroupCommit(engine), secret,
                                      Derivations(settings.check_cpu_percent / 100))


def state() -> Intake:
    """The shared objects of the current app."""
    return current_app.extensions["intake"]
