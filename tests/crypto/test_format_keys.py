"""docs/format.md §2: recipients, identities and key ids as text; low-order keys refused."""

from __future__ import annotations

import json

import nacl.bindings as sodium
import pytest

from intake.crypto.errors import InvalidKey
from intake.crypto.keys import Identity, Recipient, b64encode, generichash
from tests.support import DATA

WYCHEPROOF = DATA / "wycheproof" / "x25519_test.json"


def wycheproof_public_keys(flags: set[str]) -> list[str]:
    """Public keys (hex) of Wycheproof X25519 cases carrying any of `flags`."""
    data = json.loads(WYCHEPROOF.read_text())
    return sorted({t["public"] for g in data["testGroups"] for t in g["tests"] if flags & set(t["flags"])})


def test_recipient_round_trip() -> None:
    """A recipient's text parses back to the same key, with a 43-character body (§2.1)."""
    recipient = Identity.generate().recipient
    text = str(recipient)
    assert text.startswith("intake-recipient-1:")
    assert len(text) == len("intake-recipient-1:") + 43
    assert Recipient.parse(text) == recipient
    assert Recipient.parse(f"  {text}\n") == recipient


@pytest.mark.parametrize(("text", "message"), [
    ("age1qyqszqgpqyqszqgpqyqszqgpqyqszqgpqyqszqgpqyqszqgpqyqs", "must start with"),
    ("intake-recipient-1:", "wrong length"),
    ("intake-recipient-1:" + "A" * 42, "wrong length"),
    ("intake-recipient-1:" + "A" * 44, "wrong length"),
    ("intake-recipient-1:" + "+" * 43, "not"),
    ("intake-recipient-1:" + "é" * 43, "wrong length"),
    ("intake-recipient-2:" + "A" * 43, "must start with"),
])
def test_recipient_parse_refuses_malformed_text(text: str, message: str) -> None:
    """Prefix, length and alphabet are checked (§2.1)."""
    with pytest.raises(InvalidKey, match=message):
        Recipient.parse(text)


def test_recipient_parse_refuses_non_canonical_base64() -> None:
    """The last character may not carry non-zero spare bits (§2.1)."""
    text = str(Identity.generate().recipient)
    last = text[-1]
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
    other = alphabet[alphabet.index(last) ^ 1]
    with pytest.raises(InvalidKey, match="canonical"):
        Recipient.parse(text[:-1] + other)


def test_all_zero_public_key_refused() -> None:
    """The all-zero key is of low order (§2.1)."""
    with pytest.raises(InvalidKey, match="low-order"):
        Recipient.parse("intake-recipient-1:" + b64encode(bytes(32)))


@pytest.mark.parametrize("public", wycheproof_public_keys({"LowOrderPublic", "ZeroSharedSecret"}))
def test_wycheproof_low_order_public_keys_refused(public: str) -> None:
    """Every Wycheproof public key whose shared secret is all zeros is refused (§2.1)."""
    with pytest.raises(InvalidKey, match="low-order"):
        Recipient.parse("intake-recipient-1:" + b64encode(bytes.fromhex(public)))


def test_wycheproof_valid_agreements_accepted() -> None:
    """Keys Wycheproof marks valid parse, and libsodium agrees on their shared secret."""
    data = json.loads(WYCHEPROOF.read_text())
    valid = [t for g in data["testGroups"] for t in g["tests"] if t["result"] == "valid"]
    assert len(valid) > 50
    for t in valid:
        recipient = Recipient.parse("intake-recipient-1:" + b64encode(bytes.fromhex(t["public"])))
        shared = sodium.crypto_scalarmult(bytes.fromhex(t["private"]), recipient.public_key)
        assert shared.hex() == t["shared"], t["tcId"]


def test_key_id_is_domain_separated_blake2b() -> None:
    """key id = H(16, "intake-key-id-v1" || pk), 32 hex digits (§2.2)."""
    recipient = Identity.generate().recipient
    assert recipient.key_id == generichash(16, b"intake-key-id-v1" + recipient.public_key).hex()
    assert len(recipient.key_id) == 32


def test_identity_text_round_trip_and_repr_hides_secret() -> None:
    """Identities as text parse back; their repr shows only the key id (§2.3)."""
    identity = Identity.generate()
    assert Identity.parse(identity.text()) == identity
    assert identity.text().startswith("INTAKE-IDENTITY-1:")
    assert identity.text().split(":", 1)[1] not in repr(identity)
    with pytest.raises(InvalidKey):
        Identity.parse("AGE-SECRET-KEY-1" + "Q" * 58)
