"""The keyring as the web app sees it: verified at start, re-verified whenever keyring.json changes."""

from __future__ import annotations

import logging
import threading
from pathlib import Path

from intake.keys.keyring import FILENAME, Keyring, KeyringError, load_keyring, read_signer

log = logging.getLogger("intake.web")


class KeyringUnavailable(Exception):
    """The keyring changed and no longer verifies: reports cannot be sealed until an admin fixes it."""


class KeyringWatch:
    """Holds the verified keyring and reloads it when the file's size, inode or mtime change."""

    def __init__(self, keys_dir: Path, signing_key: Path) -> None:
        self.keys_dir = keys_dir
        self.signer = read_signer(signing_key)
        self._lock = threading.Lock()
        self._stamp = self._file_stamp()
        self._keyring: Keyring | None = load_keyring(keys_dir, self.signer)

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
                try:
                    self._keyring = load_keyring(self.keys_dir, self.signer)
                except KeyringError as exc:
                    log.error("the keyring no longer verifies, reports are refused: %s", exc)
                    self._keyring = None
            if self._keyring is None:
                raise KeyringUnavailable("the reviewers' keyring cannot be verified right now")
            return self._keyring
