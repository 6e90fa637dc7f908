"""The opened body: its fields, its manifest and its reply key, checked against docs/format.md §5.1."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from functools import cached_property
from typing import TypeVar

from intake.crypto import bodyjson
from intake.crypto.keys import Recipient
from intake.crypto.stream import MAX_SIZE

BODY_VERSION = 2
BODY_VERSIONS = (1, BODY_VERSION)
MAX_ATTACHMENTS = 32
_SHA256 = re.compile(r"[0-9a-f]{64}")
_JSON_TYPES: dict[type, str] = {int: "number", str: "string", dict: "object", list: "array"}
T = TypeVar("T")


@dataclass(frozen=True)
class ManifestEntry:
    """One attachment as the manifest describes it (§5.1)."""

    name: str
    type: str
    size: int
    sha256: str
    original_sha256: str | None = None  # the file before any cleaning (§5.1); None: not recorded (older reports)

    def as_json(self) -> dict[str, object]:
        """The entry as the body's JSON holds it."""
        entry: dict[str, object] = {"name": self.name, "type": self.type, "size": self.size, "sha256": self.sha256}
        if self.original_sha256 is not None:
            entry["original_sha256"] = self.original_sha256
        return entry


@dataclass(frozen=True)
class Body:
    """An opened body: the report's fields, the attachment manifest and the reply key."""

    fields: dict[str, str]
    attachments: list[ManifestEntry] = field(default_factory=list)
    reply_key: str | None = None
    version: int = BODY_VERSION
    zawgyi: tuple[str, ...] = ()  # fields the sender found probably typed in Zawgyi (§5.1), a hint

    @cached_property
    def reply(self) -> Recipient | None:
        """The reply key as a recipient, parsed (and its low-order check done) once per body; None without one."""
        return Recipient.parse(self.reply_key) if self.reply_key is not None else None

    @property
    def padded(self) -> bool:
        """Whether the attachment streams carry Padmé padding (body version 2, §7.1)."""
        return self.version >= 2

    def to_json(self) -> bytes:
        """Serialise as the body's JSON (§5.1), any lone surrogate replaced by U+FFFD (rule 4)."""
        data: dict[str, object] = {"version": self.version, "fields": self.fields,
                                   "attachments": [a.as_json() for a in self.attachments], "reply_key": self.reply_key}
        if self.zawgyi:
            data["zawgyi"] = list(self.zawgyi)
        text = json.dumps(data, ensure_ascii=False, separators=(",", ":"))
        return bodyjson.SURROGATE.sub("\ufffd", text).encode()


def parse_body(data: bytes) -> Body:
    """The body of JSON bytes under every rule of §5.1, or ValueError saying which rule failed."""
    return _body_from_json(bodyjson.loads(data))


def _member(data: dict[str, object], name: str, kind: type[T]) -> T:
    """A required member of exactly that JSON type (§5.1 rule 6); bool is not an int."""
    value = data.get(name, ...)
    if type(value) is not kind:
        raise ValueError(f"`{name}` must be a JSON {_JSON_TYPES[kind]}")
    return value


def _body_from_json(data: object) -> Body:
    """The body of §5.1 rule 6, with unknown members dropped (rule 7); ValueError if any rule fails."""
    if type(data) is not dict:
        raise ValueError("the body must be a JSON object")
    version = _member(data, "version", int)
    if version not in BODY_VERSIONS:
        raise ValueError(f"body version {version} is not supported")
    fields: dict[str, str] = _member(data, "fields", dict)
    manifest: list[object] = _member(data, "attachments", list)
    if not set(map(type, fields.values())) <= {str}:  # exactly str, as rule 6 says (no Python frame per value)
        raise ValueError("fields must map names to strings")
    if len(manifest) > MAX_ATTACHMENTS:
        raise ValueError(f"attachments must be a list of at most {MAX_ATTACHMENTS}")
    entries = []
    for item in manifest:
        if type(item) is not dict:
            raise ValueError("an attachment entry must be an object")
        original = _member(item, "original_sha256", str) if "original_sha256" in item else None
        entry = ManifestEntry(_member(item, "name", str), _member(item, "type", str), _member(item, "size", int),
                              _member(item, "sha256", str), original)
        if entry.size > MAX_SIZE or not _SHA256.fullmatch(entry.sha256):
            raise ValueError("an attachment entry's size or sha256 is malformed")
        if original is not None and not _SHA256.fullmatch(original):
            raise ValueError("an attachment entry's original_sha256 is malformed")
        entries.append(entry)
    if "reply_key" not in data:
        raise ValueError("`reply_key` is missing")
    reply = data["reply_key"]
    if reply is not None and type(reply) is not str:
        raise ValueError("`reply_key` must be null or an intake recipient")
    flagged = data.get("zawgyi")
    zawgyi = tuple(n for n in flagged if type(n) is str and n in fields) if type(flagged) is list else ()
    body = Body(fields, entries, reply, version, zawgyi)
    if reply is not None and str(body.reply) != reply:  # parsed here, kept for the stanza check and the thread
        raise ValueError("`reply_key` must be null or an intake recipient")
    return body
