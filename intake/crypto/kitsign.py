"""The signer of a carried file (docs/format.md §13.1): a fresh Ed25519 key whose X25519 form is the ephemeral key
of the header's stanza 0, so that the file's prefix (serial, lookup) is signed by a key the sealed header commits to.
A carrier who changes the lookup must sign again, and cannot: that needs the key which sealed stanza 0."""

from __future__ import annotations

import hmac
import struct
from collections.abc import Sequence
from dataclasses import dataclass

import nacl.bindings as sodium
import nacl.exceptions
import nacl.signing

from intake.crypto.errors import CarriedSignatureError
from intake.crypto.keys import generichash

DOMAIN = b"intake-carried-v2"
SIGNER_BYTES = 32
SIGNATURE_BYTES = 64
EPHEMERAL_BYTES = 32  # the first bytes of a sealed box: its ephemeral public key


@dataclass(frozen=True, repr=False)
class CarriedSigner:
    """A carried file's signing key, made fresh for one file and dropped once it is written."""

    key: nacl.signing.SigningKey

    @classmethod
    def generate(cls) -> CarriedSigner:
        """A fresh signer (crypto_sign_keypair)."""
        return cls(nacl.signing.SigningKey.generate())

    @property
    def public(self) -> bytes:
        """The signer as the file carries it: the Ed25519 public key."""
        return bytes(self.key.verify_key)

    def seal(self, message: bytes, recipient: bytes) -> bytes:
        """crypto_box_seal(message, recipient) with this signer's X25519 form as its ephemeral key: e_pk ||
        crypto_box_easy(message, H(24, e_pk || recipient), recipient, e_sk), which crypto_box_seal_open opens."""
        secret = sodium.crypto_sign_ed25519_sk_to_curve25519(sodium.crypto_sign_seed_keypair(bytes(self.key))[1])
        ephemeral = sodium.crypto_scalarmult_base(secret)
        nonce = generichash(24, ephemeral + recipient)
        return ephemeral + sodium.crypto_box_easy(message, nonce, recipient, secret)

    def sign(self, fields: bytes, header: bytes, body: bytes, lengths: Sequence[int]) -> bytes:
        """The signature of a carried file's prefix fields (version, serial, lookup, signer), header, body, count and
        stream lengths."""
        return self.key.sign(signed(fields, header, body, lengths)).signature


def signed(fields: bytes, header: bytes, body: bytes, lengths: Sequence[int]) -> bytes:
    """What the signature covers: "intake-carried-v2" || version, serial, lookup, signer || H(header) || H(body) ||
    count (1) || each stream length (8)."""
    counted = bytes([len(lengths)]) + b"".join(struct.pack(">Q", n) for n in lengths)
    return DOMAIN + fields + generichash(32, header) + generichash(32, body) + counted


def check_sealer(signer: bytes, stanza0: bytes) -> None:
    """§13.2 step 6: the signer's X25519 form is stanza 0's ephemeral key, else CarriedSignatureError."""
    try:
        ephemeral = sodium.crypto_sign_ed25519_pk_to_curve25519(signer)
    except (nacl.exceptions.CryptoError, ValueError, TypeError):
        raise CarriedSignatureError("the file's signer is not a valid public key") from None
    if not hmac.compare_digest(ephemeral, stanza0[:EPHEMERAL_BYTES]):
        raise CarriedSignatureError("the file's signer did not seal its header: its first bytes were replaced")


def check_signed(fields: bytes, signature: bytes, header: bytes, body: bytes, lengths: Sequence[int]) -> None:
    """§13.2 step 7: the signature verifies over the prefix fields, header, body, count and lengths, else
    CarriedSignatureError."""
    signer = fields[-SIGNER_BYTES:]
    try:
        nacl.signing.VerifyKey(signer).verify(signed(fields, header, body, lengths), signature)
    except (nacl.exceptions.BadSignatureError, nacl.exceptions.CryptoError, ValueError, TypeError):
        raise CarriedSignatureError("the file's signature does not match its first bytes, header, body or streams' "
                                    "lengths: they were changed on the way") from None
