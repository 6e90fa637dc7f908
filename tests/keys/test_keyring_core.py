"""The signed keyring: signing, verification, tampering and the fingerprint."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from intake.crypto.keys import Identity
from intake.keys.keyring import (
    KeyEntry,
    Keyring,
    KeyringError,
    create_signing_key,
    load_keyring,
    save_keyring,
    unlock_signing_key,
)


@pytest.fixture
def signed(tmp_path: Path) -> tuple[Path, str, list[Identity]]:
    """A keyring folder holding two active keys, signed by a fresh admin key."""
    signer = create_signing_key(tmp_path / "admin.key", b"admin")
    people = [Identity.generate() for _ in range(2)]
    keyring = Keyring(tuple(KeyEntry(f"p{i}", p.recipient, "active", "2026-01-01") for i, p in enumerate(people)),
                      signer=signer)
    save_keyring(tmp_path / "keys", keyring, unlock_signing_key(tmp_path / "admin.key", b"admin"))
    return tmp_path / "keys", signer, people


def test_round_trip(signed) -> None:
    """A saved keyring loads back verified, with a grown serial and a stable fingerprint."""
    keys_dir, signer, people = signed
    keyring = load_keyring(keys_dir, signer)
    assert keyring.serial == 1
    assert keyring.key_ids == [p.key_id for p in people]
    assert len(keyring.fingerprint.split()) == 10
    assert load_keyring(keys_dir, signer).fingerprint == keyring.fingerprint


def test_tampered_keyring_refused(signed) -> None:
    """Any change to the signed content fails the signature check."""
    keys_dir, signer, _ = signed
    path = keys_dir / "keyring.json"
    data = json.loads(path.read_text())
    data["keys"][1]["status"] = "retired"
    path.write_text(json.dumps(data))
    with pytest.raises(KeyringError, match="signature"):
        load_keyring(keys_dir, signer)


def test_other_signer_refused(signed, tmp_path: Path) -> None:
    """A keyring signed by another admin key is refused."""
    keys_dir, _, _ = signed
    other = create_signing_key(tmp_path / "other.key", b"x")
    with pytest.raises(KeyringError, match="another admin key"):
        load_keyring(keys_dir, other)


def test_missing_and_unsigned_keyrings(tmp_path: Path) -> None:
    """No keyring, or one without a signature, is a clear error."""
    with pytest.raises(KeyringError, match="intake keys init"):
        load_keyring(tmp_path, "intake-signer-1:x")
    (tmp_path / "keyring.json").write_text('{"format": "intake-keyring-1", "keys": []}')
    with pytest.raises(KeyringError, match="unsigned"):
        load_keyring(tmp_path, "intake-signer-1:x")


def test_no_active_key_refused(tmp_path: Path) -> None:
    """A keyring without an active key cannot seal anything."""
    signer = create_signing_key(tmp_path / "admin.key", b"a")
    save_keyring(tmp_path / "keys", Keyring(signer=signer), unlock_signing_key(tmp_path / "admin.key", b"a"))
    with pytest.raises(KeyringError, match="no active key"):
        load_keyring(tmp_path / "keys", signer)
    assert load_keyring(tmp_path / "keys", signer, require_active=False).keys == ()
