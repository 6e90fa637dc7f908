"""Admin work on the keyring: the signing key, and adding reviewer keys."""

from __future__ import annotations

from pathlib import Path

import click

from intake.config import Settings
from intake.crypto.errors import InvalidKey
from intake.crypto.keys import Recipient
from intake.keygen import check_name
from intake.keyring import (
    KeyEntry,
    Keyring,
    create_signing_key,
    load_keyring,
    read_signer,
    save_keyring,
    signing_key_path,
    today,
    unlock_signing_key,
)


def init_keyring(settings: Settings, passphrase: bytes) -> str:
    """Create the admin signing key and an empty signed keyring; return the signer's public text."""
    path = signing_key_path(settings.instance)
    if path.exists():
        raise click.ClickException(f"{path} already exists: the keyring is set up (see `intake keys list`)")
    signer = create_signing_key(path, passphrase)
    save_keyring(settings.keys_dir, Keyring(signer=signer), unlock_signing_key(path, passphrase))
    return signer


def read_recipient_file(path: Path) -> Recipient:
    """Read a NAME.pub file: one recipient line, `#` comments allowed."""
    try:
        lines = [ln.strip() for ln in path.read_text(encoding="utf-8").splitlines()]
    except (OSError, UnicodeDecodeError) as exc:
        raise click.ClickException(f"cannot read {path}: {exc}") from exc
    keys = [ln for ln in lines if ln and not ln.startswith("#")]
    if len(keys) != 1:
        raise click.ClickException(f"{path} must hold exactly one intake-recipient-1: line")
    try:
        return Recipient.parse(keys[0])
    except InvalidKey as exc:
        raise click.ClickException(f"{path}: {exc}") from exc


def current(settings: Settings) -> Keyring:
    """The verified keyring, which may have no active key yet."""
    return load_keyring(settings.keys_dir, read_signer(signing_key_path(settings.instance)), require_active=False)


def add_key(settings: Settings, pubfile: Path, name: str | None, passphrase: bytes) -> KeyEntry:
    """Add a reviewer's public key to the keyring as active, and re-sign it."""
    recipient = read_recipient_file(pubfile)
    name = check_name(name or pubfile.stem)
    keyring = current(settings)
    if any(k.key_id == recipient.key_id for k in keyring.keys):
        raise click.ClickException(f"key {recipient.key_id} is already in the keyring")
    if any(k.name == name and k.status == "active" for k in keyring.keys):
        raise click.ClickException(f"{name} already has an active key: use `intake keys rotate {name}`")
    entry = KeyEntry(name, recipient, "active", today())
    key = unlock_signing_key(signing_key_path(settings.instance), passphrase)
    save_keyring(settings.keys_dir, Keyring(keyring.keys + (entry,), keyring.recovery, keyring.serial,
                                            keyring.signer, keyring.extra), key)
    return entry
