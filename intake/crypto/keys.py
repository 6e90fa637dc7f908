"""Recipients (public keys) and identities (private keys) as text (docs/format.md §2)."""

from __future__ import annotations

import base64
import binascii
import hashlib
from dataclasses import dataclass
from functools import cached_property

import nacl.bindings as sodium
import nacl.exceptions
import nacl.utils

from intake.crypto.errors import InvalidKey

RECIPIENT_PREFIX = "intake-recipient-1:"
IDENTITY_PREFIX = "INTAKE-IDENTITY-1:"
KEY_ID_DOMAIN = b"intake-key-id-v1"
KEY_BYTES = 32
# Any clamped scalar times a low-order point is the identity; this one is fixed so the
# check is the same everywhere (docs/format.md §2.1).
_PROBE_SCALAR = bytes(range(1, 33))


def b64encode(data: bytes) -> str:
    """Encode bytes as base64url without padding."""
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def b64decode(text: str, length: int) -> bytes:
    """Decode canonical unpadded base64url of exactly `length` bytes, or raise ValueError."""
    if len(text) != (length * 4 + 2) // 3 or not text.isascii():
        raise ValueError("wrong length")
    try:
        data = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except (binascii.Error, ValueError) as exc:
        raise ValueError("not base64url") from exc
    if len(data) != length or b64encode(data) != text:
        raise ValueError("not canonical base64url")
    return data


def generichash(size: int, data: bytes, key: bytes = b"") -> bytes:
    """Return crypto_generichash (BLAKE2b) of `data`, `size` bytes long, optionally keyed.

    hashlib's BLAKE2b is the same function as libsodium's, without PyNaCl's per-call checks.
    """
    return hashlib.blake2b(data, digest_size=size, key=key).digest()


def key_id(public_key: bytes) -> str:
    """Return the key id of a public key: H(16, domain || pk) in hex (§2.2)."""
    return generichash(16, KEY_ID_DOMAIN + public_key).hex()


def check_public_key(public_key: bytes) -> None:
    """Raise InvalidKey unless `public_key` is 32 bytes and not of low order (§2.1)."""
    if len(public_key) != KEY_BYTES:
        raise InvalidKey("a public key must be 32 bytes")
    try:
        shared = sodium.crypto_scalarmult(_PROBE_SCALAR, public_key)
    except nacl.exceptions.RuntimeError as exc:
        raise InvalidKey("refusing a low-order public key: ask the reviewer for a new key") from exc
    if shared == bytes(KEY_BYTES):
        raise InvalidKey("refusing a low-order public key: ask the reviewer for a new key")


@dataclass(frozen=True)
class Recipient:
    """A reviewer's public key, to which reports are sealed."""

    public_key: bytes

    def __post_init__(self) -> None:
        check_public_key(self.public_key)

    @classmethod
    def parse(cls, text: str) -> Recipient:
        """Parse `intake-recipient-1:...` text, refusing anything else."""
        text = text.strip()
        if not text.startswith(RECIPIENT_PREFIX):
            raise InvalidKey(f"not an intake recipient: it must start with {RECIPIENT_PREFIX}")
        try:
            raw = b64decode(text[len(RECIPIENT_PREFIX):], KEY_BYTES)
        except ValueError as exc:
            raise InvalidKey(f"malformed intake recipient ({exc}): copy the whole line again") from exc
        return cls(raw)

    @cached_property
    def key_id(self) -> str:
        """The key id in hex (computed once: rewrap asks for it for every case)."""
        return key_id(self.public_key)

    def __str__(self) -> str:
        return RECIPIENT_PREFIX + b64encode(self.public_key)


@dataclass(frozen=True, repr=False)
class Identity:
    """A reviewer's private key, which opens reports sealed to its recipient."""

    secret_key: bytes

    def __post_init__(self) -> None:
        if len(self.secret_key) != KEY_BYTES:
            raise InvalidKey("a secret key must be 32 bytes")

    @classmethod
    def generate(cls) -> Identity:
        """Make a new random identity."""
        return cls(nacl.utils.random(KEY_BYTES))

    @classmethod
    def parse(cls, text: str) -> Identity:
        """Parse `INTAKE-IDENTITY-1:...` text."""
        text = text.strip()
        if not text.startswith(IDENTITY_PREFIX):
            raise InvalidKey(f"not an intake identity: it must start with {IDENTITY_PREFIX}")
        try:
            return cls(b64decode(text[len(IDENTITY_PREFIX):], KEY_BYTES))
        except ValueError as exc:
            raise InvalidKey(f"malformed intake identity ({exc})") from exc

    @cached_property
    def recipient(self) -> Recipient:
        """The public half (computed once)."""
        return Recipient(sodium.crypto_scalarmult_base(self.secret_key))

    @cached_property
    def key_id(self) -> str:
        """The key id of the public half."""
        return self.recipient.key_id

    def text(self) -> str:
        """The identity in clear, for vectors and the printed recovery sheet only."""
        return IDENTITY_PREFIX + b64encode(self.secret_key)

    def __repr__(self) -> str:
        return f"Identity(key_id={self.key_id!r})"
