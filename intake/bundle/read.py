"""Sealed bundles: cases as stored, in one checksummed file for air-gapped review (docs/bundle.md)."""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
import os
import re
import struct
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from intake.errors import IntakeError
from intake.storage.cases import STATUSES

MAGIC = b"INTAKE-BUNDLE-1\n"
FORMAT = "intake-bundle-2"
FORMATS = ("intake-bundle-1", FORMAT)  # version 1 has no threads and no import key
TRAILER_MAGIC = b"INTKBNDL"
TRAILER = struct.Struct(">8sQQ32s")
MAX_MANIFEST = 1 << 28
READ_SIZE = 1 << 20
SEALERS = ("browser", "server")
_REF = re.compile(r"[0-9A-Z]{4}-[0-9A-Z]{4}-[0-9A-Z]{4}")


class BundleError(IntakeError, ValueError):
    """The bundle is not an intake bundle, is cut short or was altered: copy it again."""


@dataclass(frozen=True)
class BundleNote:
    """A sealed note as the bundle lists it: its day and where its header and body lie."""

    created: dt.date
    header: tuple[int, int]
    body: tuple[int, int]


@dataclass(frozen=True)
class BundleMessage:
    """A sealed message of a case's thread as the bundle lists it (version 2)."""

    seq: int
    sender: str
    day: dt.date
    unread: bool
    header: tuple[int, int]
    body: tuple[int, int]


@dataclass(frozen=True)
class BundleCase:
    """A case as the bundle lists it: its plain columns and the (offset, length) of each sealed part."""

    ref: str
    received: dt.date
    status: str
    sealed_by: str
    header: tuple[int, int]
    body: tuple[int, int]
    attachments: tuple[tuple[int, int], ...]
    notes: tuple[BundleNote, ...]
    thread: tuple[BundleMessage, ...] = ()


def trailer(manifest_offset: int, manifest_length: int, digest: bytes) -> bytes:
    """The fixed-size trailer that ends every bundle (bundle.md §2)."""
    return TRAILER.pack(TRAILER_MAGIC, manifest_offset, manifest_length, digest)


def read_bundle(f: BinaryIO) -> tuple[dict[str, object], list[BundleCase]]:
    """Check a bundle's framing and SHA-256, then parse its manifest (bundle.md §3); raise BundleError."""
    size = os.fstat(f.fileno()).st_size
    if size < len(MAGIC) + TRAILER.size or f.read(len(MAGIC)) != MAGIC:
        raise BundleError("this file is not an intake bundle (or is cut short before its first bytes)")
    f.seek(size - TRAILER.size)
    magic, offset, length, digest = TRAILER.unpack(f.read(TRAILER.size))
    if magic != TRAILER_MAGIC:
        raise BundleError("the bundle is truncated: its trailer is missing")
    if offset < len(MAGIC) or length > MAX_MANIFEST or offset + length + TRAILER.size != size:
        raise BundleError("the bundle's trailer does not match its size: it was cut or altered")
    f.seek(0)
    sha = hashlib.sha256()
    left = offset + length
    while left:
        data = f.read(min(READ_SIZE, left))
        if not data:
            raise BundleError("the bundle ended while its checksum was checked")
        sha.update(data)
        left -= len(data)
    if not hmac.compare_digest(sha.digest(), digest):
        raise BundleError("the bundle's SHA-256 does not match: it was damaged or altered")
    f.seek(offset)
    try:
        manifest = json.loads(f.read(length).decode("utf-8"))
        return manifest, _cases(manifest, offset)
    except (UnicodeDecodeError, ValueError, TypeError, KeyError) as exc:
        raise BundleError(f"the bundle's manifest is malformed: {exc}") from exc


class _Cursor:
    """Checks that the ranges of the manifest cover the data area in order, with no gap (§3)."""

    def __init__(self, end: int) -> None:
        self.at, self.end = len(MAGIC), end

    def take(self, pair: object) -> tuple[int, int]:
        if not (isinstance(pair, list) and len(pair) == 2 and all(type(n) is int for n in pair)):
            raise ValueError("a range must be [offset, length]")
        offset, length = pair
        if offset != self.at or length < 0 or offset + length > self.end:
            raise ValueError(f"a range at {offset} does not follow the previous one at {self.at}")
        self.at += length
        return offset, length


def _date(text: object) -> dt.date:
    if not isinstance(text, str):
        raise ValueError("a date must be a YYYY-MM-DD string")
    return dt.date.fromisoformat(text)


def _cases(manifest: object, end: int) -> list[BundleCase]:
    if not isinstance(manifest, dict) or manifest.get("format") not in FORMATS or not isinstance(
            manifest["cases"], list):
        raise ValueError(f"it is not an {' or '.join(FORMATS)} manifest")
    cursor, found, refs = _Cursor(end), [], set()
    for item in manifest["cases"]:
        ref, status, sealed_by = item["ref"], item["status"], item["sealed_by"]
        if not (isinstance(ref, str) and _REF.fullmatch(ref)) or ref in refs:
            raise ValueError("a case reference is malformed or repeated")
        if status not in STATUSES or sealed_by not in SEALERS or not isinstance(item["attachments"], list):
            raise ValueError(f"case {ref} has an unknown status, sealer or attachment list")
        refs.add(ref)
        header, body = cursor.take(item["header"]), cursor.take(item["body"])
        streams = tuple(cursor.take(pair) for pair in item["attachments"])
        notes = tuple(BundleNote(_date(n["created"]), cursor.take(n["header"]), cursor.take(n["body"]))
                      for n in item["notes"])
        thread = tuple(_message(m, cursor) for m in item.get("thread", ()))
        found.append(BundleCase(ref, _date(item["received"]), status, sealed_by, header, body, streams, notes,
                                thread))
    if cursor.at != end:
        raise ValueError("the data area holds bytes no case names")
    return found


def _message(item: dict, cursor: _Cursor) -> BundleMessage:
    if item["from"] not in ("reviewer", "reporter") or type(item["seq"]) is not int or type(item["unread"]) is not bool:
        raise ValueError("a thread message has an unknown sender, or a malformed seq or unread")
    return BundleMessage(item["seq"], item["from"], _date(item["day"]), item["unread"], cursor.take(item["header"]),
                         cursor.take(item["body"]))


def open_bundle(path: Path) -> tuple[BinaryIO, dict[str, object], list[BundleCase]]:
    """Open and check a bundle file; return the open file, its manifest and its cases."""
    try:
        f = path.open("rb")
    except OSError as exc:
        raise BundleError(f"cannot read bundle {path}: {exc.strerror or exc}") from exc
    try:
        manifest, cases = read_bundle(f)
    except BaseException:
        f.close()
        raise
    return f, manifest, cases
