"""The sealed report: header, body and the keys derived from K (docs/format.md §3-§5)."""

from __future__ import annotations

import hashlib
import hmac
import struct
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace

import nacl.bindings as sodium
import nacl.exceptions
import nacl.utils

from intake.crypto.body import MAX_ATTACHMENTS as MAX_ATTACHMENTS
from intake.crypto.body import Body as Body
from intake.crypto.body import ManifestEntry as ManifestEntry
from intake.crypto.body import parse_body as parse_body
from intake.crypto.errors import (
    CryptoError,
    DamagedBody,
    HeaderMacError,
    MalformedHeader,
    NoMatchingIdentity,
    UnsupportedVersion,
)
from intake.crypto.keys import Identity, Recipient, generichash
from intake.crypto.kitsign import CarriedSigner
from intake.crypto.stream import StreamSealer

MAGIC = b"INTK"
VERSION = 1  # the header of §4; also the version byte of the body's additional data, whatever the header's
REPORTER_VERSION = 2  # a header whose stanza 0 is the reporter's stanza (§4.1)
KIT_VERSION = 3  # the same, written by the offline kit: stanza 0 sealed by the carried file's signer (§4.1, §13.1)
REPORTER_VERSIONS = (REPORTER_VERSION, KIT_VERSION)
KEY_BYTES = 32
KEY_ID_BYTES = 16
SEALED_KEY_BYTES = KEY_BYTES + sodium.crypto_box_SEALBYTES
STANZA_BYTES = KEY_ID_BYTES + SEALED_KEY_BYTES
MAC_BYTES = 32
MAX_STANZAS = 16
BODY_AD = MAGIC + bytes([VERSION])
NONCE_BYTES = sodium.crypto_aead_xchacha20poly1305_ietf_NPUBBYTES
AEAD_BYTES = sodium.crypto_aead_xchacha20poly1305_ietf_ABYTES
MIN_PADDED, MAX_PADDED = 1 << 10, 1 << 20
BODY_SIZES = frozenset(NONCE_BYTES + AEAD_BYTES + (1 << k) for k in range(10, 21))
KDF_CONTEXT = b"intake01"
MAC_KEY_ID, BODY_KEY_ID, ATTACHMENT_KEY_BASE = 1, 2, 16
_PERSON = KDF_CONTEXT + bytes(8)


def derive(report_key: bytes, subkey_id: int) -> bytes:
    """Return crypto_kdf_derive_from_key(32, subkey_id, "intake01", K) (§3)."""
    salt = struct.pack("<Q", subkey_id) + bytes(8)
    return hashlib.blake2b(digest_size=32, key=report_key, salt=salt, person=_PERSON).digest()


def header_length(stanzas: int) -> int:
    """The exact length of a header with that many stanzas (§4)."""
    return 6 + STANZA_BYTES * stanzas + MAC_BYTES


@dataclass(frozen=True)
class Header:
    """A parsed header: its stanzas as (key id hex, sealed K) and its MAC."""

    raw: bytes
    stanzas: tuple[tuple[str, bytes], ...]
    mac: bytes

    @property
    def key_ids(self) -> list[str]:
        """The key ids of the recipients, in header order."""
        return [kid for kid, _ in self.stanzas]

    @property
    def version(self) -> int:
        """The header's version byte: 1, or 2 or 3 when stanza 0 is the reporter's (§4.1)."""
        return self.raw[4]

    @property
    def reporter(self) -> str | None:
        """The key id of the reporter's stanza (stanza 0 of a version 2 or 3 header), else None."""
        return self.stanzas[0][0] if self.version in REPORTER_VERSIONS else None

    @property
    def reviewer_key_ids(self) -> list[str]:
        """The key ids of every stanza but the reporter's: those the keyring must account for."""
        return self.key_ids[1:] if self.reporter else self.key_ids


def stanza_count(prefix: bytes) -> int:
    """Check the first 6 bytes of a header and return its stanza count (§4 steps 1-3)."""
    if len(prefix) < 6 or prefix[:4] != MAGIC:
        raise MalformedHeader("not an intake header: the magic bytes are missing")
    if prefix[4] not in (VERSION, *REPORTER_VERSIONS):
        raise UnsupportedVersion(f"format version {prefix[4]} is not supported: upgrade intake")
    count = prefix[5]
    if not 1 <= count <= MAX_STANZAS:
        raise MalformedHeader(f"a header must have 1 to {MAX_STANZAS} stanzas, not {count}")
    if prefix[4] in REPORTER_VERSIONS and count < 2:
        raise MalformedHeader(f"a version {prefix[4]} header has the reporter's stanza and at least one reviewer's")
    return count


def parse_header(raw: bytes) -> Header:
    """Check a header's structure, without any key (§4 steps 1-4)."""
    count = stanza_count(raw)
    if len(raw) != header_length(count):
        raise MalformedHeader(f"a header with {count} stanzas must be {header_length(count)} bytes, not {len(raw)}")
    stanzas = []
    for i in range(count):
        at = 6 + i * STANZA_BYTES
        stanzas.append((raw[at:at + KEY_ID_BYTES].hex(), raw[at + KEY_ID_BYTES:at + STANZA_BYTES]))
    if len({kid for kid, _ in stanzas}) != count:
        raise MalformedHeader("two stanzas of the header name the same key id")
    return Header(raw, tuple(stanzas), raw[-MAC_BYTES:])


def _mac(report_key: bytes, signed: bytes) -> bytes:
    return generichash(MAC_BYTES, signed, derive(report_key, MAC_KEY_ID))


def _stanza(report_key: bytes, recipient: Recipient) -> bytes:
    return bytes.fromhex(recipient.key_id) + sodium.crypto_box_seal(report_key, recipient.public_key)


def _signed(report_key: bytes, version: int, stanzas: Sequence[bytes]) -> bytes:
    """Magic, version, count and stanzas, then the MAC under mac_key (§4)."""
    signed = MAGIC + bytes([version, len(stanzas)]) + b"".join(stanzas)
    return signed + _mac(report_key, signed)


def _check_recipients(recipients: Sequence[Recipient], reporter: str | None) -> None:
    room = MAX_STANZAS - (reporter is not None)
    if not 1 <= len(recipients) <= room:
        raise ValueError(f"a report needs 1 to {room} reviewer recipients, not {len(recipients)}")
    ids = [r.key_id for r in recipients]
    if len(set(ids)) != len(ids):
        raise ValueError("the same recipient is listed twice")
    if reporter in ids:
        raise ValueError("the reporter's reply key is a reviewer's key: refuse it")


def seal_header(report_key: bytes, recipients: Sequence[Recipient], reporter: Recipient | None = None,
                signer: CarriedSigner | None = None) -> bytes:
    """Write a header sealing K to each recipient (§4); with `reporter`, a version 2 header whose stanza 0 seals K
    to the reporter's reply recipient (§4.1), or with a carried file's `signer` too, a version 3 header whose
    stanza 0 that signer seals (§13.1)."""
    _check_recipients(recipients, reporter.key_id if reporter else None)
    stanzas = [_stanza(report_key, r) for r in recipients]
    if reporter is None:
        if signer is not None:
            raise ValueError("a carried file's header needs the reporter's stanza: the keyring leaves no room")
        return _signed(report_key, VERSION, stanzas)
    if signer is None:
        return _signed(report_key, REPORTER_VERSION, [_stanza(report_key, reporter), *stanzas])
    first = bytes.fromhex(reporter.key_id) + signer.seal(report_key, reporter.public_key)
    return _signed(report_key, KIT_VERSION, [first, *stanzas])


@dataclass(frozen=True, repr=False)
class Opened:
    """The report key K of an opened header, and which identity opened it."""

    report_key: bytes
    key_id: str
    header: Header


def open_header(raw: bytes, identities: Iterable[Identity]) -> Opened:
    """Recover K from a header with one of `identities`, then check its MAC (§4 steps 5-7)."""
    return check_header(*recover_key(raw, {identity.key_id: identity for identity in identities}))


def recover_key(raw: bytes, mine: dict[str, Identity]) -> tuple[Header, str, bytes]:
    """Parse a header and recover K from the first stanza an identity of `mine` (by key id) opens (§4 steps 1-6)."""
    header = parse_header(raw)
    tried = False
    for kid, sealed in header.stanzas:
        identity = mine.get(kid)
        if identity is None:
            continue
        tried = True
        try:
            report_key = sodium.crypto_box_seal_open(sealed, identity.recipient.public_key, identity.secret_key)
        except nacl.exceptions.CryptoError:
            continue
        if len(report_key) == KEY_BYTES:
            return header, kid, report_key
    if tried:
        raise HeaderMacError("the header failed authentication: a stanza for your key is damaged")
    raise NoMatchingIdentity("this report is not sealed to any of your keys")


def check_header(header: Header, key_id: str, report_key: bytes) -> Opened:
    """Check the header's MAC under the K that `key_id`'s stanza gave (§4 step 7)."""
    if not hmac.compare_digest(_mac(report_key, header.raw[:-MAC_BYTES]), header.mac):
        raise HeaderMacError("the header failed authentication: it was altered or damaged")
    return Opened(report_key, key_id, header)


def rewrap_header(opened: Opened, recipients: Sequence[Recipient]) -> bytes:
    """A new header for the same K, sealed to exactly `recipients`; a version 2 or 3 header keeps its reporter's stanza
    byte for byte, in first place (§4.1)."""
    header = opened.header
    if header.reporter is None:
        return seal_header(opened.report_key, recipients)
    _check_recipients(recipients, header.reporter)
    stanzas = [header.raw[6:6 + STANZA_BYTES], *(_stanza(opened.report_key, r) for r in recipients)]
    return _signed(opened.report_key, header.version, stanzas)


def padded_size(json_length: int) -> int:
    """The padded plaintext size P for a JSON of that length (§5)."""
    need = max(4 + json_length, MIN_PADDED)
    size = 1 << (need - 1).bit_length()
    if size > MAX_PADDED:
        raise ValueError("the report is too long: shorten the description")
    return size


def seal_padded(key: bytes, data: bytes, nonce: bytes | None = None) -> bytes:
    """Pad a JSON as §5 says and encrypt it under `key` (a report's or a message's body key)."""
    padded = struct.pack(">I", len(data)) + data
    padded += bytes(padded_size(len(data)) - len(padded))
    nonce = nonce or nacl.utils.random(NONCE_BYTES)
    return nonce + sodium.crypto_aead_xchacha20poly1305_ietf_encrypt(padded, BODY_AD, nonce, key)


def open_padded(key: bytes, sealed: bytes, what: str = "report") -> bytes:
    """Decrypt a padded body under `key` and return its JSON bytes, or DamagedBody (§5)."""
    if len(sealed) not in BODY_SIZES:
        raise DamagedBody(f"a sealed body cannot be {len(sealed)} bytes long")
    try:
        padded = sodium.crypto_aead_xchacha20poly1305_ietf_decrypt(sealed[NONCE_BYTES:], BODY_AD,
                                                                    sealed[:NONCE_BYTES], key)
    except nacl.exceptions.CryptoError as exc:
        raise DamagedBody(f"the {what} body failed authentication") from exc
    (length,) = struct.unpack(">I", padded[:4])
    if length > len(padded) - 4 or padded.count(0, 4 + length) != len(padded) - 4 - length:
        raise DamagedBody(f"the {what} body's padding is wrong")
    return padded[4:4 + length]


def seal_body(report_key: bytes, body: Body, nonce: bytes | None = None) -> bytes:
    """Pad and encrypt the body under body_key (§5)."""
    return seal_padded(derive(report_key, BODY_KEY_ID), body.to_json(), nonce)


def open_body(report_key: bytes, sealed: bytes, attachments: int | None = None) -> Body:
    """Decrypt, unpad and check a body (§5); `attachments` is how many streams the report carries."""
    return read_body(open_padded(derive(report_key, BODY_KEY_ID), sealed), attachments)


def read_body(data: bytes, attachments: int | None = None) -> Body:
    """Parse and check a decrypted body's JSON (§5.1); `attachments` is how many streams the report carries."""
    try:
        body = parse_body(data)
    except (ValueError, CryptoError) as exc:
        raise DamagedBody(f"the report body is not valid: {str(exc)[:200]}") from None
    if attachments is not None and attachments != len(body.attachments):
        raise DamagedBody(f"the manifest lists {len(body.attachments)} attachments, the report has {attachments}")
    return body


class Sealer:
    """Seals one report under a fresh K: attachments as they arrive, then the body, then the header."""

    def __init__(self, recipients: Sequence[Recipient], report_key: bytes | None = None) -> None:
        self.recipients = list(recipients)
        self.report_key = report_key or nacl.utils.random(KEY_BYTES)
        self.manifest: list[ManifestEntry] = []
        self._open: StreamSealer | None = None

    def attachment(self, padded: bool = True) -> StreamSealer:
        """Start the next attachment stream, Padmé-padded unless told (§7.1); finish it with `end_attachment`."""
        if self._open is not None:
            raise ValueError("finish the previous attachment first")
        if len(self.manifest) >= MAX_ATTACHMENTS:
            raise ValueError(f"a report may carry at most {MAX_ATTACHMENTS} attachments")
        self._open = StreamSealer(attachment_key(self.report_key, len(self.manifest)), padded=padded)
        return self._open

    def end_attachment(self, name: str, media_type: str) -> ManifestEntry:
        """Record the finished attachment in the manifest."""
        sealer, self._open = self._open, None
        if sealer is None or not sealer.finished:
            raise ValueError("no finished attachment to record")
        entry = ManifestEntry(name, media_type, sealer.size, sealer.sha256)
        self.manifest.append(entry)
        return entry

    def body(self, fields: dict[str, str], reply_key: str | None = None, zawgyi: Sequence[str] = (),
             originals: Sequence[str | None] | None = None) -> bytes:
        """Seal the body, with the manifest of every attachment sealed so far; each entry's `original_sha256` (§5.1)
        is `originals[i]` when given (None: not known), else its `sha256` (the file was sealed as it arrived)."""
        if originals is not None and len(originals) != len(self.manifest):
            raise ValueError("one original SHA-256 per attachment")
        chosen = originals if originals is not None else [e.sha256 for e in self.manifest]
        manifest = [replace(e, original_sha256=o) for e, o in zip(self.manifest, chosen, strict=True)]
        return seal_body(self.report_key, Body(dict(fields), manifest, reply_key, zawgyi=tuple(zawgyi)))

    def header(self, reporter: Recipient | None = None, signer: CarriedSigner | None = None) -> bytes:
        """Seal K to the recipients, and to the reporter's reply recipient when given (§4.1; by a carried file's
        `signer`: §13.1)."""
        return seal_header(self.report_key, self.recipients, reporter, signer)


def attachment_key(report_key: bytes, index: int) -> bytes:
    """The stream key of attachment `index` (§3)."""
    if not 0 <= index < MAX_ATTACHMENTS:
        raise ValueError("attachment index out of range")
    return derive(report_key, ATTACHMENT_KEY_BASE + index)
