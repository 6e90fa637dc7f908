"""The signed public keyring: which reviewer keys new reports are sealed to (docs/keys.md)."""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

import nacl.exceptions
import nacl.signing

from intake.clock import today
from intake.crypto.errors import InvalidKey
from intake.crypto.keyfile import SIGNING_KEY_FILE, lock, unlock, write_private
from intake.crypto.keys import Recipient, b64decode, b64encode, generichash
from intake.errors import IntakeError

FORMAT = "intake-keyring-1"
FILENAME = "keyring.json"
SIGNER_PREFIX = "intake-signer-1:"
FINGERPRINT_DOMAIN = b"intake-keyring-fingerprint-v1"
HASH_DOMAIN = b"intake-keyring-hash-v1"


class KeyringError(IntakeError, ValueError):
    """The keyring is missing, unsigned, tampered with or unusable."""


@dataclass(frozen=True)
class KeyEntry:
    """One reviewer key as the keyring lists it."""

    name: str
    recipient: Recipient
    status: str = "active"
    created: str = ""
    retired: str | None = None

    @property
    def key_id(self) -> str:
        """The key id of the recipient."""
        return self.recipient.key_id

    def as_json(self) -> dict[str, object]:
        """The entry as keyring.json holds it."""
        return {"name": self.name, "key_id": self.key_id, "recipient": str(self.recipient),
                "status": self.status, "created": self.created, "retired": self.retired}


@dataclass(frozen=True)
class Keyring:
    """A verified keyring: its keys, the recovery recipient and a serial that grows with each change."""

    keys: tuple[KeyEntry, ...] = ()
    recovery: Recipient | None = None
    serial: int = 0
    signer: str = ""
    extra: dict[str, object] = field(default_factory=dict)
    digest: str = ""  # the hash of the signed file this keyring was read from or written as

    @property
    def date(self) -> str:
        """The day this keyring was signed (YYYY-MM-DD), or "" for a keyring older than that member."""
        return str(self.extra.get("date") or "")

    @property
    def active(self) -> list[KeyEntry]:
        """The active reviewer keys."""
        return [k for k in self.keys if k.status == "active"]

    def recipients(self) -> list[Recipient]:
        """Every recipient a new report is sealed to: the active keys, then the recovery key."""
        found = [k.recipient for k in self.active]
        return found + ([self.recovery] if self.recovery else [])

    @property
    def key_ids(self) -> list[str]:
        """The key ids of `recipients()`, in order."""
        return [r.key_id for r in self.recipients()]

    @property
    def fingerprint(self) -> str:
        """A short digest of the recipients, for reviewers to publish and reporters to compare."""
        listed = "\n".join(sorted(map(str, self.recipients())))
        return grouped(generichash(20, FINGERPRINT_DOMAIN + listed.encode()).hex())

    def check_key_ids(self, key_ids: Sequence[str]) -> None:
        """Refuse a new report unless it is sealed to exactly the current recipients (format.md §4)."""
        known = {k.key_id: k for k in self.keys}
        for kid in key_ids:
            entry = known.get(kid)
            if entry is not None and entry.status != "active":
                raise KeyringError(f"the report is sealed to {entry.name}'s retired key {kid}: "
                                   "reload the keyring and seal it again")
            if entry is None and kid not in self.key_ids:
                raise KeyringError(f"the report is sealed to key {kid}, which is not in the keyring: "
                                   "reload the keyring and seal it again")
        missing = sorted(set(self.key_ids) - set(key_ids))
        if missing:
            raise KeyringError(f"the report is not sealed to every current key (missing {', '.join(missing)}): "
                               "reload the keyring and seal it again")

    def find(self, name: str) -> KeyEntry | None:
        """The active key of that reviewer, else their newest retired one, else None."""
        mine = [k for k in self.keys if k.name == name]
        return next((k for k in mine if k.status == "active"), mine[-1] if mine else None)

    def to_json(self) -> dict[str, object]:
        """Everything the signature covers."""
        return {"format": FORMAT, "serial": self.serial, "signer": self.signer,
                "keys": [k.as_json() for k in self.keys],
                "recovery": str(self.recovery) if self.recovery else None, **self.extra}


def canonical(data: dict[str, object]) -> bytes:
    """The bytes a keyring signature covers: sorted, compact, UTF-8 JSON."""
    return json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def file_hash(data: dict[str, object], signature: bytes) -> str:
    """BLAKE2b-256 of the signed keyring (its members and its signature): what the instance records as in use."""
    return generichash(32, HASH_DOMAIN + canonical({**data, "signature": b64encode(signature)})).hex()


def create_signing_key(path: Path, passphrase: bytes, kdf_profile: str = "moderate") -> str:
    """Write a new admin Ed25519 signing key, passphrase-protected, mode 0600; return its public text."""
    key = nacl.signing.SigningKey.generate()
    public = SIGNER_PREFIX + b64encode(bytes(key.verify_key))
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    write_private(path, "# intake admin signing key: keep it private\n"
                  + lock(SIGNING_KEY_FILE, bytes(key), passphrase, [("public-key", public)], kdf_profile))
    return public


def grouped(hex_text: str) -> str:
    """Hex digits in groups of four, as people read them out by phone: fingerprints and key ids for humans."""
    return " ".join(hex_text[i:i + 4] for i in range(0, len(hex_text), 4))


def no_signing_key(path: Path) -> str:
    """What to do when the admin signing key file is missing: fix the setting, or restore it (never a new one)."""
    return (f"no admin signing key at {path}: set INTAKE_SIGNING_KEY (or INTAKE_INSTANCE) to where it is, or restore "
            "it from your backup; only a brand-new instance runs `intake keys init`")


def read_signer(path: Path) -> str:
    """The public half of the admin signing key, read without its passphrase."""
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except OSError as exc:
        raise KeyringError(no_signing_key(path)) from exc
    for line in lines:
        if line.startswith("public-key: "):
            return line.removeprefix("public-key: ")
    raise KeyringError(f"{path} is not an intake admin signing key")


def unlock_signing_key(path: Path, passphrase: bytes) -> nacl.signing.SigningKey:
    """Unlock the admin signing key with its passphrase."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise KeyringError(no_signing_key(path)) from exc
    fields, seed = unlock(SIGNING_KEY_FILE, text, passphrase)
    key = nacl.signing.SigningKey(seed)
    if SIGNER_PREFIX + b64encode(bytes(key.verify_key)) != fields.get("public-key"):
        raise KeyringError(f"{path} is damaged: its key does not match its public key")
    return key


def load_keyring(keys_dir: Path, signer: str, require_active: bool = True) -> Keyring:
    """Read keys_dir/keyring.json and verify it against the pinned admin signer."""
    path = keys_dir / FILENAME
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        signature = b64decode(data.pop("signature"), 64)
    except FileNotFoundError as exc:
        raise KeyringError(f"no keyring at {path}: set INTAKE_KEYS_DIR to the folder of keyring.json (on a new "
                           "instance, run `intake keys init`, then `intake keys add`)") from exc
    except (OSError, ValueError, KeyError, TypeError, AttributeError) as exc:
        raise KeyringError(f"the keyring {path} is unreadable or unsigned: {exc}") from exc
    if data.get("signer") != signer:
        raise KeyringError(f"the keyring {path} is signed by another admin key than {signer}: restore it from a backup")
    try:
        nacl.signing.VerifyKey(b64decode(signer.removeprefix(SIGNER_PREFIX), 32)).verify(canonical(data), signature)
    except (nacl.exceptions.BadSignatureError, ValueError) as exc:
        raise KeyringError(f"the keyring {path} failed its signature check: it was altered; restore it") from exc
    keyring = replace(_parse(data, path), digest=file_hash(data, signature))
    if require_active and not keyring.active:
        raise KeyringError(f"the keyring {path} has no active key: add one with `intake keys add PUBFILE`")
    return keyring


def _parse(data: dict[str, object], path: Path) -> Keyring:
    if data.get("format") != FORMAT:
        raise KeyringError(f"{path} is not an {FORMAT} file")
    try:
        entries = tuple(KeyEntry(k["name"], Recipient.parse(k["recipient"]), k["status"], k["created"],
                                 k.get("retired"))
                        for k in data["keys"])
        recovery = Recipient.parse(data["recovery"]) if data.get("recovery") else None
    except InvalidKey as exc:
        raise KeyringError(f"the keyring {path} holds an invalid public key: {exc}") from exc
    except (KeyError, TypeError) as exc:
        raise KeyringError(f"the keyring {path} is malformed: {exc}") from exc
    if any(k.status not in ("active", "retired") for k in entries):
        raise KeyringError(f"the keyring {path} has a key whose status is neither active nor retired")
    known = {"format", "serial", "signer", "keys", "recovery"}
    return Keyring(entries, recovery, int(data["serial"]), str(data["signer"]),
                   {k: v for k, v in data.items() if k not in known})


def save_keyring(keys_dir: Path, keyring: Keyring, key: nacl.signing.SigningKey) -> Keyring:
    """Sign and write the keyring with the next serial, atomically; return what was written."""
    signer = SIGNER_PREFIX + b64encode(bytes(key.verify_key))
    keyring = replace(keyring, serial=keyring.serial + 1, signer=signer,
                      extra={**keyring.extra, "date": today().isoformat()})
    data = keyring.to_json()
    signature = key.sign(canonical(data)).signature
    keyring = replace(keyring, digest=file_hash(data, signature))
    data["signature"] = b64encode(signature)
    keys_dir.mkdir(parents=True, exist_ok=True)
    path = keys_dir / FILENAME
    staged = path.with_name(f".{FILENAME}.{os.getpid()}")
    staged.write_text(json.dumps(data, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    os.replace(staged, path)
    return keyring
