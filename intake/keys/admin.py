"""Admin work on the keyring: the signing key, adding, retiring and rotating reviewer keys (docs/keys.md)."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import nacl.signing
from sqlalchemy import Engine

from intake.clock import today
from intake.crypto.errors import InvalidKey
from intake.crypto.keys import Recipient
from intake.errors import AlreadyExists, IntakeError, UsageProblem
from intake.keys import audit
from intake.keys.keyring import FILENAME, KeyEntry, Keyring, create_signing_key, save_keyring, unlock_signing_key
from intake.keys.pair import check_name, new_key_pair
from intake.keys.trust import admin_signing_key, put_in_use, verified
from intake.settings import Settings
from intake.storage.cases import count_by_key
from intake.storage.instance import database
from intake.storage.threads import messages_by_key


def admin_key(settings: Settings) -> Path:
    """Where the admin signing key of this instance lives."""
    return settings.signing_key


def commit(settings: Settings, engine: Engine, keyring: Keyring, key: nacl.signing.SigningKey, action: str,
           detail: dict[str, object]) -> Keyring:
    """Append the signed audit entry, sign and save the keyring with it as checkpoint, and put that keyring in use.

    The entry records the new keyring's serial, so that `audit verify` can tell an older keyring put back.
    """
    entry = audit.record(engine, action, {**detail, "keyring_serial": keyring.serial + 1}, key)
    saved = save_keyring(settings.keys_dir, replace(keyring, extra={**keyring.extra, "audit": entry.checkpoint}), key)
    put_in_use(engine, saved, settings.keys_dir / FILENAME)
    return saved


def init_keyring(settings: Settings, passphrase: bytes) -> str:
    """Create the admin signing key and an empty signed keyring; return the signer's public text.

    The new signer is trusted only once the admin sets INTAKE_KEYRING_SIGNER to it (docs/keys.md).
    """
    path = admin_key(settings)
    if path.exists():
        raise AlreadyExists(f"{path} already exists: the keyring is set up (see `intake keys list`)")
    with database(settings, create=True) as engine:
        signer = create_signing_key(path, passphrase, settings.kdf_profile)
        commit(settings, engine, Keyring(signer=signer), unlock_signing_key(path, passphrase), "keys init",
               {"signer": signer})
    return signer


def read_recipient_file(path: Path) -> Recipient:
    """Read a NAME.pub file: one recipient line, `#` comments allowed."""
    try:
        lines = [ln.strip() for ln in path.read_text(encoding="utf-8").splitlines()]
    except (OSError, UnicodeDecodeError) as exc:
        raise IntakeError(f"cannot read {path}: {exc}") from exc
    keys = [ln for ln in lines if ln and not ln.startswith("#")]
    if len(keys) != 1:
        raise IntakeError(f"{path} must hold exactly one intake-recipient-1: line")
    try:
        return Recipient.parse(keys[0])
    except InvalidKey as exc:
        raise IntakeError(f"{path}: {exc}") from exc


def current(settings: Settings) -> Keyring:
    """The keyring signed by the trusted signer and no older than any in use; it may have no active key yet."""
    with database(settings) as engine:
        return verified(settings, engine, require_active=False)


def _unused(keyring: Keyring, recipient: Recipient) -> None:
    if recipient.key_id in {k.key_id for k in keyring.keys} | set(keyring.key_ids):
        raise IntakeError(f"key {recipient.key_id} is already in the keyring: use a new key")


def _active(keyring: Keyring, name: str) -> KeyEntry:
    entry = next((k for k in keyring.active if k.name == name), None)
    if entry is None:
        raise IntakeError(f"{name} has no active key: see `intake keys list`")
    return entry


def add_key(settings: Settings, pubfile: Path, name: str | None, passphrase: bytes) -> KeyEntry:
    """Add a reviewer's public key to the keyring as active, and re-sign it."""
    recipient = read_recipient_file(pubfile)
    name = check_name(name or pubfile.stem)
    keyring = current(settings)
    _unused(keyring, recipient)
    if any(k.name == name and k.status == "active" for k in keyring.keys):
        raise IntakeError(f"{name} already has an active key: use `intake keys rotate {name}`")
    entry = KeyEntry(name, recipient, "active", today().isoformat())
    key = admin_signing_key(settings, passphrase)
    with database(settings) as engine:
        commit(settings, engine, replace(keyring, keys=keyring.keys + (entry,)), key, "keys add",
               {"name": name, "key_id": entry.key_id})
    return entry


def retire_key(settings: Settings, name: str, passphrase: bytes) -> tuple[KeyEntry, int, int]:
    """Retire a reviewer's active key; return it and how many stored cases and thread messages it still opens."""
    keyring = current(settings)
    entry = _active(keyring, name)
    if len(keyring.active) == 1:
        raise IntakeError(f"retiring {name} would leave no active key: add another reviewer's key first")
    key = admin_signing_key(settings, passphrase)
    retired = replace(entry, status="retired", retired=today().isoformat())
    keys = tuple(retired if k is entry else k for k in keyring.keys)
    with database(settings) as engine:
        commit(settings, engine, replace(keyring, keys=keys), key, "keys retire",
               {"name": name, "key_id": entry.key_id})
        return retired, count_by_key(engine).get(entry.key_id, 0), messages_by_key(engine).get(entry.key_id, 0)


def rotate_key(settings: Settings, name: str, passphrase: bytes, out_dir: Path, key_passphrase: bytes | None,
               pubfile: Path | None) -> tuple[KeyEntry, KeyEntry, list[Path]]:
    """Give a reviewer a new active key (made here, or read from PUBFILE) and retire the old one."""
    keyring = current(settings)
    old = _active(keyring, name)
    key = admin_signing_key(settings, passphrase)
    written: list[Path] = []
    with database(settings) as engine:
        if pubfile is not None:
            recipient = read_recipient_file(pubfile)
            _unused(keyring, recipient)
        elif key_passphrase is None:
            raise UsageProblem("give the new key's passphrase, or --pub with the reviewer's own NAME.pub")
        else:
            pub, keyfile, _ = new_key_pair(name, out_dir, key_passphrase, settings.kdf_profile)
            recipient, written = read_recipient_file(pub), [pub, keyfile]
        day = today().isoformat()
        new = KeyEntry(name, recipient, "active", day)
        keys = tuple(replace(k, status="retired", retired=day) if k is old else k for k in keyring.keys) + (new,)
        commit(settings, engine, replace(keyring, keys=keys), key, "keys rotate",
               {"name": name, "old_key_id": old.key_id, "new_key_id": new.key_id})
    return old, new, written
