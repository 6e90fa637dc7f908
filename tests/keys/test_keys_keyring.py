"""The signed keyring refuses tampering, unknown signers, unsafe keys and headers sealed to the wrong keys."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import nacl.signing
import pytest

from intake.crypto.envelope import parse_header
from intake.crypto.errors import InvalidKey
from intake.crypto.keys import RECIPIENT_PREFIX, Identity, Recipient, b64encode
from intake.crypto.report import seal_report
from intake.errors import IntakeError
from intake.keys.admin import add_key, init_keyring, retire_key
from intake.keys.keyring import (
    FILENAME,
    KeyEntry,
    Keyring,
    KeyringError,
    canonical,
    load_keyring,
    read_signer,
    save_keyring,
    unlock_signing_key,
)
from intake.settings import Settings
from tests.support import DATA

WYCHEPROOF = DATA / "wycheproof" / "x25519_test.json"
PASSPHRASE = b"admin passphrase"


def low_order_keys() -> list[str]:
    """Every public key Wycheproof flags as of low order or giving an all-zero shared secret, plus all zeros."""
    groups = json.loads(WYCHEPROOF.read_text())["testGroups"]
    flags = {"LowOrderPublic", "ZeroSharedSecret"}
    found = {t["public"] for g in groups for t in g["tests"] if flags & set(t["flags"])}
    return ["00" * 32, *sorted(found - {"00" * 32})]


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    """An instance with a signing key and a keyring holding alice and bob."""
    settings = Settings(tmp_path / "instance", f"sqlite:///{tmp_path / 'intake.db'}", tmp_path / "keys",
                        kdf_profile="interactive")
    settings = replace(settings, keyring_signer=init_keyring(settings, PASSPHRASE))
    for name in ("alice", "bob"):
        pub = tmp_path / f"{name}.pub"
        pub.write_text(f"{Identity.generate().recipient}\n")
        add_key(settings, pub, None, PASSPHRASE)
    return settings


def load(settings: Settings) -> Keyring:
    """Load the keyring the way the server does."""
    return load_keyring(settings.keys_dir, read_signer(settings.signing_key))


def resign(settings: Settings, data: dict[str, object]) -> None:
    """Write keyring JSON signed by the real admin key (an admin's mistake, not an attacker's)."""
    key = unlock_signing_key(settings.signing_key, PASSPHRASE)
    data.pop("signature", None)
    data["signature"] = b64encode(key.sign(canonical(data)).signature)
    (settings.keys_dir / FILENAME).write_text(json.dumps(data))


def keyring_json(settings: Settings) -> dict[str, object]:
    """The keyring file as JSON."""
    return json.loads((settings.keys_dir / FILENAME).read_text())


def test_a_good_keyring_loads_with_its_audit_checkpoint(settings: Settings) -> None:
    keyring = load(settings)
    assert [k.name for k in keyring.active] == ["alice", "bob"]
    assert keyring.extra["audit"]["seq"] == 3


def test_tampered_signature_is_refused(settings: Settings) -> None:
    data = keyring_json(settings)
    data["keys"][1]["status"] = "retired"
    (settings.keys_dir / FILENAME).write_text(json.dumps(data))
    with pytest.raises(KeyringError, match="failed its signature check: it was altered; restore it"):
        load(settings)


def test_added_key_without_resigning_is_refused(settings: Settings) -> None:
    data = keyring_json(settings)
    data["keys"].append(KeyEntry("mallory", Identity.generate().recipient, "active", "2024-01-01").as_json())
    (settings.keys_dir / FILENAME).write_text(json.dumps(data))
    with pytest.raises(KeyringError, match="failed its signature check"):
        load(settings)


def test_keyring_signed_by_an_unknown_key_is_refused(settings: Settings) -> None:
    other = nacl.signing.SigningKey.generate()
    save_keyring(settings.keys_dir, load(settings), other)
    with pytest.raises(KeyringError, match="signed by another admin key"):
        load(settings)


def test_keyring_claiming_the_pinned_signer_but_signed_by_another_is_refused(settings: Settings) -> None:
    data = keyring_json(settings)
    data.pop("signature")
    data["signature"] = b64encode(nacl.signing.SigningKey.generate().sign(canonical(data)).signature)
    (settings.keys_dir / FILENAME).write_text(json.dumps(data))
    with pytest.raises(KeyringError, match="failed its signature check"):
        load(settings)


def test_no_active_key_is_refused(settings: Settings) -> None:
    data = keyring_json(settings)
    for key in data["keys"]:
        key["status"] = "retired"
    resign(settings, data)
    with pytest.raises(KeyringError, match="has no active key: add one with `intake keys add PUBFILE`"):
        load(settings)


def test_retiring_the_last_active_key_is_refused(settings: Settings) -> None:
    retire_key(settings, "alice", PASSPHRASE)
    with pytest.raises(IntakeError, match="would leave no active key"):
        retire_key(settings, "bob", PASSPHRASE)


@pytest.mark.parametrize("public_hex", low_order_keys())
def test_low_order_public_keys_are_refused_everywhere(settings: Settings, tmp_path: Path, public_hex: str) -> None:
    text = RECIPIENT_PREFIX + b64encode(bytes.fromhex(public_hex))
    with pytest.raises(InvalidKey, match="refusing a low-order public key"):
        Recipient.parse(text)
    pub = tmp_path / "evil.pub"
    pub.write_text(text + "\n")
    with pytest.raises(IntakeError, match="refusing a low-order public key: ask the reviewer for a new key"):
        add_key(settings, pub, None, PASSPHRASE)
    data = keyring_json(settings)
    data["keys"].append({"name": "evil", "key_id": "0" * 32, "recipient": text, "status": "active",
                         "created": "2024-01-01", "retired": None})
    resign(settings, data)
    with pytest.raises(KeyringError, match="holds an invalid public key: refusing a low-order public key"):
        load(settings)


def test_low_order_recovery_key_is_refused(settings: Settings) -> None:
    data = keyring_json(settings)
    data["recovery"] = RECIPIENT_PREFIX + b64encode(bytes(32))
    resign(settings, data)
    with pytest.raises(KeyringError, match="holds an invalid public key"):
        load(settings)


def test_a_header_sealed_to_the_current_keys_passes(settings: Settings) -> None:
    keyring = load(settings)
    header = seal_report(keyring.recipients(), {"incident_type": "drone"}).header
    keyring.check_key_ids(parse_header(header).key_ids)


def test_a_header_with_an_unknown_key_id_is_refused(settings: Settings) -> None:
    keyring = load(settings)
    stranger = Identity.generate().recipient
    header = seal_report([*keyring.recipients(), stranger], {"incident_type": "drone"}).header
    with pytest.raises(KeyringError, match=f"sealed to key {stranger.key_id}, which is not in the keyring: reload"):
        keyring.check_key_ids(parse_header(header).key_ids)


def test_a_retired_key_cannot_receive_a_new_case(settings: Settings) -> None:
    before = load(settings)
    retire_key(settings, "alice", PASSPHRASE)
    keyring = load(settings)
    alice = before.find("alice").recipient
    assert alice.key_id not in keyring.key_ids
    stale = seal_report(before.recipients(), {"incident_type": "drone"}).header
    with pytest.raises(KeyringError, match="sealed to alice's retired key .*: reload the keyring and seal it again"):
        keyring.check_key_ids(parse_header(stale).key_ids)


def test_a_header_missing_a_current_key_is_refused(settings: Settings) -> None:
    keyring = load(settings)
    header = seal_report(keyring.recipients()[:1], {"incident_type": "drone"}).header
    with pytest.raises(KeyringError, match="not sealed to every current key"):
        keyring.check_key_ids(parse_header(header).key_ids)
