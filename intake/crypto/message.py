"""Messages of a case's thread: replies and follow-ups sealed like reports (docs/format.md §12.4)."""

from __future__ import annotations

import base64
import hmac
import json
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field

import nacl.bindings as sodium

from intake.crypto.envelope import (
    MAC_BYTES,
    MAC_KEY_ID,
    MAX_ATTACHMENTS,
    MAX_STANZAS,
    STANZA_BYTES,
    ManifestEntry,
    Opened,
    Sealer,
    derive,
    open_header,
    open_padded,
    parse_header,
    seal_header,
    seal_padded,
)
from intake.crypto.errors import DamagedBody, MalformedHeader, ThreadMacError, WrongSender, WrongThread
from intake.crypto.keys import Identity, Recipient, generichash
from intake.crypto.report import SealedReport, open_attachment, seal_files

__all__ = ["WrongSender", "WrongThread", "ThreadMacError"]

MESSAGE_BODY_KEY_ID = 3
THREAD_INPUT_ID = 4
MESSAGE_VERSION = 2
THREAD_DOMAIN = b"intake-thread-v1"
SENDERS = ("reviewer", "reporter")
_MEMBERS = {1: {"version", "from", "text", "attachments"}, 2: {"version", "from", "text", "attachments", "thread"}}


def thread_mac(report_key: bytes, reply: Recipient) -> str:
    """The message's thread MAC in base64url: H(32, KDF(4, K), key = H(32, "intake-thread-v1" || reply_pk)) (§12.4)."""
    thread_key = generichash(32, THREAD_DOMAIN + reply.public_key)
    mac = generichash(32, derive(report_key, THREAD_INPUT_ID), thread_key)
    return base64.urlsafe_b64encode(mac).decode("ascii").rstrip("=")


@dataclass(frozen=True)
class MessageBody:
    """An opened message: who sent it, its text, the manifest of its attachments and (version 2) its thread MAC."""

    sender: str
    text: str
    attachments: list[ManifestEntry] = field(default_factory=list)
    version: int = MESSAGE_VERSION
    thread: str | None = None

    def to_json(self) -> bytes:
        """Serialise as a message body's JSON (§12.4)."""
        data: dict[str, object] = {"version": self.version, "from": self.sender, "text": self.text,
                                   "attachments": [a.as_json() for a in self.attachments]}
        if self.version >= 2:
            data["thread"] = self.thread
        return json.dumps(data, ensure_ascii=False, separators=(",", ":")).encode()


def _refuse_constant(name: str) -> None:
    raise ValueError(f"{name} is not JSON")


def parse_message_json(data: bytes, attachments: int) -> MessageBody:
    """Check a message body's JSON against §12.4, exactly; raise DamagedBody otherwise."""
    try:
        value = json.loads(data.decode("utf-8"), parse_constant=_refuse_constant)
    except (UnicodeDecodeError, ValueError, RecursionError) as exc:
        raise DamagedBody("the message body is not UTF-8 JSON, or nests too deep") from exc
    if not isinstance(value, dict) or "version" not in value:
        raise DamagedBody("a message body is an object with a version")
    version = value["version"]
    if not _integer(version) or version not in _MEMBERS:
        raise DamagedBody("the message body is not version 1 or 2")
    version = int(version)
    if set(value) != _MEMBERS[version]:
        raise DamagedBody(f"a version {version} message body has exactly the members {sorted(_MEMBERS[version])}")
    sender, text, manifest = value["from"], value["text"], value["attachments"]
    thread = value.get("thread")
    if version == 2 and not (isinstance(thread, str) and _b64url_32(thread)):
        raise DamagedBody("the message's thread MAC is not 32 bytes in base64url")
    if sender not in SENDERS or not _text(text) or not isinstance(manifest, list):
        raise DamagedBody("the message body's from, text or attachments has the wrong type")
    if len(manifest) > MAX_ATTACHMENTS or len(manifest) != attachments:
        raise DamagedBody(f"the manifest lists {len(manifest)} attachments, the message has {attachments}")
    entries = [_entry(item) for item in manifest]
    if not text and not entries:
        raise DamagedBody("the message is empty")
    return MessageBody(sender, text, entries, version, thread)


def _b64url_32(text: str) -> bool:
    """43 characters of canonical base64url without padding: 32 bytes."""
    if len(text) != 43 or not set(text) <= set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"):
        return False
    return base64.urlsafe_b64encode(base64.urlsafe_b64decode(text + "=")).decode().rstrip("=") == text


def _entry(item: object) -> ManifestEntry:
    """One manifest entry, checked as §5.1 says."""
    if not isinstance(item, dict) or set(item) != {"name", "type", "size", "sha256"}:
        raise DamagedBody("an attachment entry is malformed")
    name, media_type, size, sha = item["name"], item["type"], item["size"], item["sha256"]
    if not (_text(name) and _text(media_type) and _integer(size) and size >= 0
            and isinstance(sha, str) and len(sha) == 64 and set(sha) <= set("0123456789abcdef")):
        raise DamagedBody("an attachment entry is malformed")
    return ManifestEntry(name, media_type, int(size), sha)


def _text(value: object) -> bool:
    """A string of Unicode scalar values: JSON's escapes can write a lone surrogate, which is refused."""
    if not isinstance(value, str):
        return False
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _integer(value: object) -> bool:
    """A JSON number whose value is an integer (1.0 is 1, as in JavaScript), not a boolean."""
    return type(value) is int or (type(value) is float and value.is_integer())


def seal_message_header(report_key: bytes, reply: Recipient, reviewers: Sequence[Recipient]) -> bytes:
    """A message header: stanza 0 to the reply recipient, then one per reviewer recipient (§12.4)."""
    if len(reviewers) > MAX_STANZAS - 1:
        raise ValueError(f"a message can be sealed to at most {MAX_STANZAS - 1} reviewer keys")
    if reply.key_id in {r.key_id for r in reviewers}:
        raise ValueError("the case's reply key is a reviewer's key: the report is hostile, do not reply to it")
    return seal_header(report_key, [reply, *reviewers])


def seal_message(reviewers: Sequence[Recipient], reply: Recipient, sender: str, text: str,
                 files: Iterable[tuple[str, str, Iterable[bytes]]] = (),
                 report_key: bytes | None = None) -> SealedReport:
    """Seal a message and its files (name, media type, chunks) to the reporter and the reviewers."""
    sealer = Sealer(reviewers, report_key)
    streams = seal_files(sealer, files, padded=False)  # §12: message attachments are not padded (yet)
    header, body = seal_message_around(sealer, reply, sender, text)
    return SealedReport(header, body, streams)


def seal_message_around(sealer: Sealer, reply: Recipient, sender: str, text: str) -> tuple[bytes, bytes]:
    """The header and body of a message whose streams `sealer` has sealed (unpadded, §12.4)."""
    if sender not in SENDERS:
        raise ValueError(f"a message is from one of {SENDERS}, not {sender!r}")
    key = sealer.report_key
    body = MessageBody(sender, text, list(sealer.manifest), MESSAGE_VERSION, thread_mac(key, reply))
    if not text and not body.attachments:
        raise ValueError("a message needs a text or an attachment")
    return (seal_message_header(key, reply, sealer.recipients),
            seal_padded(derive(key, MESSAGE_BODY_KEY_ID), body.to_json()))


@dataclass(frozen=True, repr=False)
class OpenedMessage:
    """An opened message header and body; attachments are opened one at a time."""

    opened: Opened
    body: MessageBody
    reply: Recipient

    @property
    def bound(self) -> bool:
        """Whether the message is known to come from someone who knows the reply recipient (§12.4): a version 2
        message's thread MAC was checked, or the reporter opened stanza 0. A version 1 message opened by a
        reviewer is not: anyone who can write the store could have sealed it to the public keyring."""
        return self.body.version >= 2 or self.opened.key_id == self.reply.key_id

    def attachment(self, index: int, parts: Iterable[bytes], length: int | None = None) -> Iterator[bytes]:
        """Open attachment `index` from its sealed parts, checking size and SHA-256 at the end."""
        return open_attachment(self.opened.report_key, index, self.body.attachments[index], parts, length,
                               padded=False)


def check_thread(header: bytes, reply: Recipient) -> None:
    """§12.4 steps 1-2: at least 2 stanzas, and stanza 0 sealed to this thread's reply recipient."""
    parsed = parse_header(header)
    if len(parsed.stanzas) < 2:
        raise MalformedHeader("a message header has the reporter's stanza and at least one reviewer's")
    if parsed.version != 1:
        raise MalformedHeader("a message header is version 1: its stanza 0 is the reporter's by §12.4")
    if parsed.stanzas[0][0] != reply.key_id:
        raise WrongThread("this message belongs to another case's thread: it was moved or the case is another one")


def open_message(header: bytes, body: bytes, attachments: int, identities: Sequence[Identity],
                 reply: Recipient, sender: str) -> OpenedMessage:
    """Open a message of the thread whose reply recipient is `reply`, recorded as sent by `sender` (§12.4)."""
    check_thread(header, reply)
    opened = open_header(header, identities)
    data = open_padded(derive(opened.report_key, MESSAGE_BODY_KEY_ID), body, "message")
    message = parse_message_json(data, attachments)
    if message.version >= 2 and not hmac.compare_digest(str(message.thread), thread_mac(opened.report_key, reply)):
        raise ThreadMacError("the message is not bound to this thread: someone who can write the store forged it, "
                             "or moved it from another thread; do not act on it")
    if message.sender != sender:
        raise WrongSender(WrongSender.__doc__)
    return OpenedMessage(opened, message, reply)


def rewrap_message_header(header: bytes, identities: Sequence[Identity], reviewers: Sequence[Recipient]) -> bytes:
    """A new header for the same K: stanza 0 kept byte for byte, new reviewer stanzas, new MAC (§12.4)."""
    parsed = parse_header(header)
    if len(parsed.stanzas) < 2 or parsed.version != 1:
        raise MalformedHeader("a message header is version 1, with the reporter's stanza and at least one reviewer's")
    reporter = header[6:6 + STANZA_BYTES]
    ids = [r.key_id for r in reviewers]
    if not 1 <= len(ids) <= MAX_STANZAS - 1 or len(set(ids)) != len(ids) or parsed.stanzas[0][0] in ids:
        raise ValueError("rewrap a message to 1 to 15 distinct reviewer keys, none of them the reporter's")
    opened = open_header(header, identities)
    stanzas = [reporter] + [bytes.fromhex(r.key_id) + sodium.crypto_box_seal(opened.report_key, r.public_key)
                            for r in reviewers]
    signed = header[:5] + bytes([len(stanzas)]) + b"".join(stanzas)
    return signed + generichash(MAC_BYTES, signed, derive(opened.report_key, MAC_KEY_ID))
