"""Codenames: making one, reading one typed back, and the keys it derives (docs/format.md §12.1-§12.3)."""

from __future__ import annotations

import hashlib
import struct
from dataclasses import dataclass

import nacl.bindings as sodium
import nacl.utils

from intake.crypto.errors import CryptoError
from intake.crypto.keys import Identity, generichash

DIGITS = 25
GROUP = 5
MAX_TYPED = 200
SALT_BYTES = 16
OPSLIMIT = 2
MEMLIMIT = 64 << 20
KDF_CONTEXT = b"codename"
TOKEN_ID, REPLY_ID = 1, 2
LOOKUP_DOMAIN = b"intake-lookup-v1"
_SEPARATORS = frozenset([0x09, 0x0A, 0x0D, 0x20, 0xA0, 0x200B, 0x202F, 0x3000, 0x2D, 0x2212, 0xFF0D,
                         *range(0x2010, 0x2016)])


class InvalidCodename(CryptoError):
    """A codename is 25 digits in 5 groups: type only the digits, with spaces or dashes between groups."""

    expect = "invalid codename"


def make_codename() -> str:
    """A fresh codename from libsodium's random generator, in 5 groups of 5 digits (§12.1)."""
    digits: list[str] = []
    while len(digits) < DIGITS:
        digits += [str(b % 10) for b in nacl.utils.random(DIGITS - len(digits)) if b < 250]
    return " ".join("".join(digits[i:i + GROUP]) for i in range(0, DIGITS, GROUP))


def _digit(code: int) -> int | None:
    """The value of a digit code point that §12.2 accepts, else None."""
    for zero in (0x30, 0x17E0, 0x1040):
        if zero <= code <= zero + 9:
            return code - zero
    return 0 if code == 0x101D else None


def normalise(typed: str, count: int = DIGITS) -> str:
    """The canonical form of a typed codename: its 25 ASCII digits (§12.2), or InvalidCodename.

    `count` reads a part of a codename typed back (one group of 5 digits) by the same rules.
    """
    if not isinstance(typed, str) or len(typed) > MAX_TYPED:
        raise InvalidCodename(InvalidCodename.__doc__)
    digits = []
    for char in typed:
        code = ord(char)
        if code in _SEPARATORS:
            continue
        value = _digit(code)
        if value is None:
            raise InvalidCodename(InvalidCodename.__doc__)
        digits.append(str(value))
    if len(digits) != count:
        raise InvalidCodename(InvalidCodename.__doc__)
    return "".join(digits)


def make_salt() -> bytes:
    """A new instance's codename salt."""
    return nacl.utils.random(SALT_BYTES)


def lookup_of(token: bytes) -> bytes:
    """The hash of a token that the server stores and looks cases up by (§12.3)."""
    if len(token) != 32:
        raise ValueError("a token is 32 bytes")
    return generichash(32, LOOKUP_DOMAIN + token)


def _kdf(seed: bytes, subkey_id: int) -> bytes:
    """crypto_kdf_derive_from_key(32, subkey_id, "codename", seed)."""
    salt = struct.pack("<Q", subkey_id) + bytes(8)
    return hashlib.blake2b(digest_size=32, key=seed, salt=salt, person=KDF_CONTEXT + bytes(8)).digest()


@dataclass(frozen=True, repr=False)
class CodenameKeys:
    """What a codename derives: the token to send, its lookup hash and the reply identity."""

    token: bytes
    identity: Identity

    @property
    def lookup(self) -> bytes:
        """The hash of the token (§12.3)."""
        return lookup_of(self.token)

    def __repr__(self) -> str:
        return "CodenameKeys(...)"


def derive_keys(typed: str, salt: bytes) -> CodenameKeys:
    """Normalise a typed codename and derive its token and reply identity with Argon2id (§12.3)."""
    if len(salt) != SALT_BYTES:
        raise ValueError(f"the codename salt must be {SALT_BYTES} bytes: check codename_salt in keyring.json")
    seed = sodium.crypto_pwhash_alg(32, normalise(typed).encode("ascii"), salt, OPSLIMIT, MEMLIMIT,
                                    sodium.crypto_pwhash_ALG_ARGON2ID13)
    return CodenameKeys(_kdf(seed, TOKEN_ID), Identity(_kdf(seed, REPLY_ID)))
