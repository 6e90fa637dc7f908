"""Which admin key must sign the keyring (INTAKE_KEYRING_SIGNER), and the rule that a keyring only moves forward."""

from __future__ import annotations

import json
from pathlib import Path

import nacl.signing
from sqlalchemy import Engine

from intake.crypto.keys import b64decode, b64encode
from intake.keys.audit import Problem, entries
from intake.keys.keyring import FILENAME, SIGNER_PREFIX, Keyring, KeyringError, load_keyring, unlock_signing_key
from intake.settings import Settings
from intake.storage.keyring_state import KeyringRollback, advance, highest, refuse_older

SETTING = "INTAKE_KEYRING_SIGNER"
KEYRING_CHANGES = frozenset({"keys init", "keys add", "keys retire", "keys rotate", "keys recovery", "purge"})


def trusted_signer(settings: Settings) -> str:
    """The signer every keyring must be signed by: INTAKE_KEYRING_SIGNER, the key text or a file holding it."""
    raw = (settings.keyring_signer or "").strip()
    if not raw:
        raise KeyringError(f"{SETTING} is not set: set it to the intake-signer-1:... line `intake keys init` "
                           "printed, or to the path of a file holding it that the server cannot write")
    text = raw if raw.startswith(SIGNER_PREFIX) else _from_file(Path(raw))
    try:
        b64decode(text.removeprefix(SIGNER_PREFIX), 32)
    except ValueError:
        raise KeyringError(f"{SETTING} must be an intake-signer-1:... public key, not {text[:60]!r}") from None
    return text


def _from_file(path: Path) -> str:
    try:
        lines = [ln.strip() for ln in path.read_text(encoding="utf-8").splitlines()]
    except (OSError, UnicodeDecodeError) as exc:
        raise KeyringError(f"{SETTING} names {path}, which cannot be read ({exc}): give the intake-signer-1:... "
                           "line itself, or a readable file holding it") from None
    found = [ln for ln in lines if ln.startswith(SIGNER_PREFIX)]
    if len(found) != 1:
        raise KeyringError(f"{path} (named by {SETTING}) must hold exactly one line intake-signer-1:... (not the "
                           "admin signing key file, which the server's folder holds)")
    return found[0]


def put_in_use(engine: Engine, keyring: Keyring, where: Path) -> None:
    """Record the keyring as the newest in use, or raise KeyringRollback if an older or different one is."""
    advance(engine, keyring.signer, keyring.serial, keyring.digest, str(where), keyring.key_ids)


def verified(settings: Settings, engine: Engine, require_active: bool = True) -> Keyring:
    """The keyring in keys/, signed by the trusted signer and no older than any keyring already in use."""
    return trusted_keyring(settings.keys_dir, trusted_signer(settings), engine, require_active)


def trusted_keyring(keys_dir: Path, signer: str, engine: Engine, require_active: bool = True) -> Keyring:
    """The one way to read a keyring: signed by the pinned signer, and recorded as no older than any in use.

    Every command that reads keyring.json calls this (or `verified`), so that a validly signed old copy
    put back is refused everywhere (docs/keys.md "A keyring only moves forward").
    """
    keyring = load_keyring(keys_dir, signer, require_active)
    put_in_use(engine, keyring, keys_dir / FILENAME)
    return keyring


def admin_signing_key(settings: Settings, passphrase: bytes) -> nacl.signing.SigningKey:
    """Unlock the admin signing key, and refuse it unless it is the trusted signer."""
    key = unlock_signing_key(settings.signing_key, passphrase)
    signer = trusted_signer(settings)
    if SIGNER_PREFIX + b64encode(bytes(key.verify_key)) != signer:
        raise KeyringError(f"the admin signing key {settings.signing_key} is not the signer {SETTING} names "
                           f"({signer}): someone may have replaced it; restore it from a backup")
    return key


def rollback_problems(engine: Engine, keyring: Keyring) -> list[Problem]:
    """What says the keyring in keys/ is older than one recorded in the audit log or in use."""
    problems, newest, newest_seq = [], 0, 0
    for entry in entries(engine):
        try:
            detail = json.loads(entry.detail)
        except ValueError:
            continue  # an edited entry: the chain check reports it
        if not isinstance(detail, dict):
            continue
        if entry.action == "keys init":
            newest, newest_seq = 0, 0  # a new signer starts its own serials
        serial = detail.get("keyring_serial")
        if entry.action in KEYRING_CHANGES and isinstance(serial, int) and serial > newest:
            newest, newest_seq = serial, entry.seq
    if keyring.serial < newest:
        problems.append(Problem(newest_seq, "rollback", f"the keyring in use has serial {keyring.serial}, but this "
                                f"entry signed serial {newest}: an older keyring.json was put back"))
    known = highest(engine, keyring.signer)
    try:
        if known:
            refuse_older(*known, keyring.serial, keyring.digest, "in keys/")
    except KeyringRollback as exc:
        problems.append(Problem(newest_seq, "rollback", str(exc)))
    return problems
