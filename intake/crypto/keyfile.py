"""Passphrase-protected key files: identities and the admin signing key (docs/format.md §6)."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable
from pathlib import Path

import nacl.bindings as sodium
import nacl.exceptions
import nacl.pwhash.argon2id as argon2id
import nacl.utils

from intake.crypto.errors import DamagedKeyFile, InvalidKey, WrongPassphrase
from intake.crypto.keys import IDENTITY_PREFIX, Identity, b64decode, b64encode

IDENTITY_FILE = "intake-identity-file-1"
SIGNING_KEY_FILE = "intake-signing-key-file-1"
PROFILES = {
    "moderate": (argon2id.OPSLIMIT_MODERATE, argon2id.MEMLIMIT_MODERATE),
    "interactive": (argon2id.OPSLIMIT_INTERACTIVE, argon2id.MEMLIMIT_INTERACTIVE),
}
SALT_BYTES = argon2id.SALTBYTES
NONCE_BYTES = sodium.crypto_aead_xchacha20poly1305_ietf_NPUBBYTES


def kdf_limits(profile: str = "moderate") -> tuple[int, int]:
    """The Argon2id limits for new files: MODERATE, or "interactive" for tests (Settings.kdf_profile)."""
    if profile not in PROFILES:
        raise ValueError(f"the KDF profile must be one of {', '.join(PROFILES)}, not {profile!r}")
    return PROFILES[profile]


def lock(kind: str, secret: bytes, passphrase: bytes, public_lines: list[tuple[str, str]],
         profile: str = "moderate") -> str:
    """Return the text of a key file holding `secret` under `passphrase`."""
    if not passphrase:
        raise ValueError("the passphrase must not be empty")
    ops, mem = kdf_limits(profile)
    salt, nonce = nacl.utils.random(SALT_BYTES), nacl.utils.random(NONCE_BYTES)
    lines = [kind, *(f"{k}: {v}" for k, v in public_lines), f"kdf: argon2id opslimit={ops} memlimit={mem}",
             f"salt: {b64encode(salt)}", f"nonce: {b64encode(nonce)}"]
    key = argon2id.kdf(32, passphrase, salt, opslimit=ops, memlimit=mem)
    sealed = sodium.crypto_aead_xchacha20poly1305_ietf_encrypt(secret, "\n".join(lines).encode(), nonce, key)
    return "\n".join([*lines, f"secret: {b64encode(sealed)}"]) + "\n"


def unlock(kind: str, text: str, passphrase: bytes) -> tuple[dict[str, str], bytes]:
    """Return the public lines and the secret of a key file, or raise a clear error."""
    lines = [line for line in text.splitlines() if line.strip() and not line.startswith("#")]
    if not lines or lines[0] != kind:
        found = lines[0].split(":", 1)[0][:40] if lines else "an empty file"
        raise DamagedKeyFile(f"this is not an {kind} (it is {found!r})")
    try:
        fields = dict(line.split(": ", 1) for line in lines[1:])
        ops, mem = _limits(fields["kdf"])
        salt = b64decode(fields["salt"], SALT_BYTES)
        nonce = b64decode(fields["nonce"], NONCE_BYTES)
        sealed = b64decode(fields["secret"], 32 + 16)
    except (KeyError, ValueError) as exc:
        raise DamagedKeyFile(f"the key file is damaged: {exc}") from exc
    if lines[-1] != f"secret: {fields['secret']}":
        raise DamagedKeyFile("the key file is damaged: the secret line must come last")
    key = argon2id.kdf(32, passphrase, salt, opslimit=ops, memlimit=mem)
    try:
        secret = sodium.crypto_aead_xchacha20poly1305_ietf_decrypt(sealed, "\n".join(lines[:-1]).encode(), nonce, key)
    except nacl.exceptions.CryptoError as exc:
        raise WrongPassphrase("wrong passphrase for this key file: check it and try again") from exc
    return fields, secret


def _limits(text: str) -> tuple[int, int]:
    parts = dict(p.split("=", 1) for p in text.split()[1:])
    ops, mem = int(parts["opslimit"]), int(parts["memlimit"])
    if not text.startswith("argon2id ") or not (argon2id.OPSLIMIT_MIN <= ops <= argon2id.OPSLIMIT_SENSITIVE
                                                and argon2id.MEMLIMIT_MIN <= mem <= argon2id.MEMLIMIT_SENSITIVE):
        raise ValueError("unsupported key derivation settings")
    return ops, mem


def lock_identity(identity: Identity, passphrase: bytes, profile: str = "moderate") -> str:
    """Return the text of a passphrase-protected identity file."""
    return lock(IDENTITY_FILE, identity.secret_key, passphrase,
                [("key-id", identity.key_id), ("recipient", str(identity.recipient))], profile)


def unlock_identity(text: str, passphrase: bytes) -> Identity:
    """Unlock an identity file's text with its passphrase."""
    fields, secret = unlock(IDENTITY_FILE, text, passphrase)
    try:
        identity = Identity(secret)
    except InvalidKey as exc:
        raise DamagedKeyFile("the identity file holds an invalid key") from exc
    if str(identity.recipient) != fields.get("recipient") or identity.key_id != fields.get("key-id"):
        raise DamagedKeyFile("the identity file is damaged: its key does not match its key id")
    return identity


def write_private(path: Path, text: str) -> None:
    """Write `text` to a new file readable by its owner only (mode 0600), refusing to overwrite."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        f.write(text)


def _read_text(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise DamagedKeyFile(f"cannot read identity file {path}: {getattr(exc, 'strerror', None) or exc}") from exc


def read_identity_file(path: Path, passphrase: bytes) -> Identity:
    """Read and unlock an identity file, with errors that name the file."""
    return unlock_identity(_read_text(path), passphrase)


def plain_identity(text: str) -> Identity | None:
    """The identity of an unencrypted recovery sheet (`INTAKE-IDENTITY-1:` line, §2.3), else None."""
    lines = [line.strip() for line in text.splitlines() if line.strip() and not line.startswith("#")]
    if len(lines) != 1 or not lines[0].startswith(IDENTITY_PREFIX):
        return None
    return Identity.parse(lines[0])


def read_identities(paths: Iterable[Path], passphrase: Callable[[], bytes]) -> tuple[list[Identity], list[Path]]:
    """Read identity files and recovery sheets; ask `passphrase()` once, only if a file is encrypted.

    Returns the identities and the paths of the unencrypted sheets, for the caller to warn about.
    """
    identities, plain = [], []
    secret: bytes | None = None
    for path in paths:
        text = _read_text(path)
        identity = plain_identity(text)
        if identity is not None:
            plain.append(path)
        else:
            secret = passphrase() if secret is None else secret
            identity = unlock_identity(text, secret)
        identities.append(identity)
    return identities, plain
