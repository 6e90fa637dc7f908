"""What every command needs: the reviewer's identities, unlocked once per run, and the source of cases."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from intake.crypto.errors import CryptoError, WrongPassphrase
from intake.crypto.keys import Identity
from intake.errors import UsageProblem
from intake.review.errors import DAMAGED_BUNDLE, WRONG_PASSPHRASE, ReviewError, from_crypto
from intake.review.terminal import echo

PROMPT_TRIES = 3


@dataclass
class Session:
    """The options of the `intake-review` group; identities and source are opened on first use."""

    identity_files: tuple[Path, ...]
    passphrase_file: Path | None
    db_url: str | None
    bundle: Path | None
    ask: Callable[[str], bytes] | None = None  # a hidden prompt on the terminal; None when there is none
    _identities: list[tuple[Path, Identity]] | None = field(default=None, repr=False)
    _source: object = None
    keyring_at: tuple[Path, str | Callable[[], str]] | None = None  # keys folder and signer, for reviewers' names
    _names: dict[str, str] | None = field(default=None, repr=False)

    def reviewer_name(self, key_id: object) -> str | None:
        """The name the verified keyring gives a key id (retired keys too); None when unknown or unverified."""
        if self._names is None:
            self._names = keyring_names(self.keyring_at)
        return self._names.get(key_id) if isinstance(key_id, str) else None

    @property
    def identities(self) -> list[Identity]:
        """The unlocked identities (asked for once per run)."""
        return [identity for _, identity in self.named_identities]

    @property
    def named_identities(self) -> list[tuple[Path, Identity]]:
        """Each unlocked identity with the file it came from."""
        if self._identities is None:
            if not self.identity_files:
                raise UsageProblem("say who you are: --identity KEYFILE (your NAME.key)")
            self._identities = unlock_all(self.identity_files, self.passphrase_file, self.ask)
        return self._identities

    def key_name(self, key_id: str) -> str:
        """The identity file name that holds a key id."""
        return next((path.name for path, i in self.named_identities if i.key_id == key_id), key_id)

    @property
    def source(self):
        """The database or bundle the cases are read from."""
        if self._source is None:
            self._source = open_source(self.db_url, self.bundle)
        return self._source

    def close(self) -> None:
        """Close the source, if it was opened (a long-lived caller such as the desk, when it ends)."""
        if self._source is not None:
            self._source.close()
            self._source = None


def keyring_names(where: tuple[Path, str | Callable[[], str]] | None) -> dict[str, str]:
    """Each key id's name in the keyring of `where` (folder, signer), verified; empty when none verifies."""
    from intake.errors import IntakeError
    from intake.keys.keyring import KeyringError, load_keyring

    if where is None:
        return {}
    try:
        signer = where[1]() if callable(where[1]) else where[1]
        keyring = load_keyring(where[0], signer.strip(), require_active=False)
    except (KeyringError, IntakeError, OSError, ValueError):
        return {}
    return {entry.key_id: entry.name for entry in keyring.keys}


def open_source(db_url: str | None, bundle: Path | None):
    """Open the bundle file, or the database at the URL (never creating one)."""
    from intake.review.source import BundleSource, DatabaseSource

    if bool(db_url) == bool(bundle):
        raise UsageProblem("say where the cases are: either --db URL or --bundle FILE")
    if bundle:
        from intake.bundle.read import BundleError

        try:
            return BundleSource(bundle)
        except BundleError as exc:
            raise ReviewError(f"bundle {bundle}: {exc}", "copy the bundle again, or ask for a new "
                              "`intake export-sealed`", DAMAGED_BUNDLE) from None
    if db_url.startswith("sqlite:///") and not Path(db_url.removeprefix("sqlite:///")).is_file():
        raise ReviewError(f"no database at {db_url.removeprefix('sqlite:///')}",
                          "check --db (sqlite:///PATH or postgresql+psycopg://...)")
    try:
        return DatabaseSource(db_url)
    except ValueError as exc:
        raise ReviewError(str(exc), "use --db sqlite:///PATH or --db postgresql+psycopg://...") from None


def _passphrases(path: Path | None) -> list[bytes]:
    if path is None:
        return []
    try:
        lines = [line for line in path.read_text(encoding="utf-8").splitlines() if line]
    except (OSError, UnicodeDecodeError) as exc:
        raise ReviewError(f"cannot read passphrase file {path}: {getattr(exc, 'strerror', None) or exc}",
                          "give a readable file whose first line is the passphrase") from None
    if not lines:
        raise ReviewError(f"passphrase file {path} is empty", "write the passphrase on its first line")
    return [line.encode() for line in lines]


def _read_identity_text(path: Path) -> str:
    from intake.crypto.errors import DamagedKeyFile

    try:
        return path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        reason = getattr(exc, "strerror", None) or "it is not a text file"
        raise from_crypto(DamagedKeyFile(f"cannot read identity file {path}: {reason}")) from None


def unlock_all(paths: tuple[Path, ...], passphrase_file: Path | None,
               ask: Callable[[str], bytes] | None) -> list[tuple[Path, Identity]]:
    """Unlock each identity file with the passphrases known so far, asking on a terminal when none fits."""
    from intake.crypto.keyfile import plain_identity, unlock_identity

    known: list[bytes] | None = None
    found: dict[str, tuple[Path, Identity]] = {}
    for path in paths:
        text = _read_identity_text(path)
        identity = None
        try:
            identity = plain_identity(text)
            if identity is not None:
                echo(f"intake-review: warning: {path} is an unencrypted recovery identity; "
                           "use it offline, then lock it away", err=True)
                found.setdefault(identity.key_id, (path, identity))
                continue
            known = _passphrases(passphrase_file) if known is None else known
            for passphrase in known:
                try:
                    identity = unlock_identity(text, passphrase)
                    break
                except WrongPassphrase:
                    continue
            if identity is None:
                identity = _ask(path, text, bool(known), passphrase_file is not None, known, ask)
        except CryptoError as exc:
            raise from_crypto(exc) from None
        found.setdefault(identity.key_id, (path, identity))
    return list(found.values())


def _ask(path: Path, text: str, tried: bool, from_file: bool, known: list[bytes],
         ask: Callable[[str], bytes] | None) -> Identity:
    from intake.crypto.keyfile import unlock_identity

    if from_file:
        raise ReviewError(f"wrong passphrase for {path}", "check the passphrase file (one passphrase a line, "
                          "tried on every identity file)", WRONG_PASSPHRASE)
    if ask is None:
        raise ReviewError("no terminal to ask for the passphrase", "give --passphrase-file FILE")
    if tried:
        echo(f"intake-review: that passphrase does not open {path.name}", err=True)
    for _ in range(PROMPT_TRIES):
        passphrase = ask(f"passphrase for {path.name}")
        try:
            identity = unlock_identity(text, passphrase)
        except WrongPassphrase:
            echo(f"intake-review: wrong passphrase for {path.name}", err=True)
            continue
        known.append(passphrase)
        return identity
    raise ReviewError(f"wrong passphrase for {path} ({PROMPT_TRIES} tries)", "check it and run the command again",
                      WRONG_PASSPHRASE)
