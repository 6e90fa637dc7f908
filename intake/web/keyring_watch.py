"""The keyring as the web app sees it: verified at start, re-verified whenever keyring.json changes.

A keyring only moves forward: one older than the newest in use (recorded in the database) is refused,
and the server keeps sealing to the newest keyring it verified, or refuses reports, never an older one.
Another node on the same database may put a newer keyring in use: every NEWEST_CHECK seconds the
server looks, and refuses reports until its own keyring.json is replaced by the newest.
"""

from __future__ import annotations

import logging
import threading
import time

from sqlalchemy import Engine
from sqlalchemy.exc import SQLAlchemyError

from intake.errors import IntakeError
from intake.keys.keyring import FILENAME, Keyring, KeyringError
from intake.keys.trust import trusted_keyring, trusted_signer
from intake.settings import Settings
from intake.storage.keyring_state import KeyringRollback, highest

log = logging.getLogger("intake.web")
NEWEST_CHECK = 5.0


class KeyringUnavailable(Exception):
    """The keyring changed and no longer verifies: reports cannot be sealed until an admin fixes it."""


class KeyringWatch:
    """Holds the verified keyring and reloads it when the file's size, inode or mtime change."""

    def __init__(self, settings: Settings, engine: Engine) -> None:
        self.keys_dir, self.engine = settings.keys_dir, engine
        self.signer = trusted_signer(settings)
        self._lock = threading.Lock()
        self._stamp = self._file_stamp()
        self._keyring: Keyring | None = trusted_keyring(self.keys_dir, self.signer, engine)
        self._checked = time.monotonic()

    def _file_stamp(self) -> tuple[int, int, int] | None:
        try:
            st = (self.keys_dir / FILENAME).stat()
        except OSError:
            return None
        return (st.st_ino, st.st_size, st.st_mtime_ns)

    def current(self) -> Keyring:
        """The verified keyring, re-read if the file changed since the last call."""
        with self._lock:
            stamp = self._file_stamp()
            if stamp != self._stamp:
                self._stamp = stamp
                self._keyring = self._reload()
            elif self._keyring is not None and time.monotonic() - self._checked >= NEWEST_CHECK:
                self._keyring = self._held_if_newest()
            if self._keyring is None:
                raise KeyringUnavailable("the reviewers' keyring cannot be verified right now")
            return self._keyring

    def holds(self, keyring: Keyring) -> bool:
        """Whether `keyring` is still the one in use: held here, its file unchanged. A stat only (no lock, no
        database), so a write transaction can ask it as it commits."""
        return self._keyring is keyring and self._file_stamp() == self._stamp

    def _reload(self) -> Keyring | None:
        """The changed keyring if it verifies and is the newest; else the one held if still the newest; else None."""
        try:
            return trusted_keyring(self.keys_dir, self.signer, self.engine)
        except KeyringRollback as exc:
            log.error("an older keyring was put back and is refused: %s", exc)
            return self._held_if_newest()
        except (KeyringError, IntakeError) as exc:
            log.error("the keyring no longer verifies, reports are refused: %s", exc)
            return None

    def _held_if_newest(self) -> Keyring | None:
        held = self._keyring
        try:
            newest = highest(self.engine, self.signer)
        except SQLAlchemyError:
            return held  # the database is away: storing the report will fail and say so
        self._checked = time.monotonic()
        if held is None or newest != (held.serial, held.digest):
            log.error("the newest keyring in use is not the one this server holds: reports are refused until "
                      "the newest keyring.json is copied into %s", self.keys_dir)
            return None
        return held
