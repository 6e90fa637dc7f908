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
FORMAT = "intake-bundle-3"
FORMATS = ("intake-bundle-1", "intake-bundle-2", FORMAT)  # 1: no threads, no import key; 2: no message files
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
    """A sealed message of a case's thread as the bundle lists it (version 2; its files' streams from version 3)."""

    seq: int
    sender: str
    day: dt.date
    unread: bool
    header: tuple[int, int]
    body: tuple[int, int]
    attachments: tuple[tuple[int, int], ...] = ()


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
    """Checks that the ranges of the manifest cover the data area in order, with no gap and no overlap (§3)."""

    def __init__(self, end: int) -> None:
        self.at, self.end = len(MAGIC), end

    def take(self, pair: object, what: str) -> tuple[int, int]:
        """The next range, `what` it holds named in the error if it is not exactly where the previous one ended."""
        if not (isinstance(pair, list) and len(pair) == 2 and all(type(n) is int for n in pair)):
            raise ValueError(f"the range of {what} is not [offset, length]")
        offset, length = pair
        if offset < len(MAGIC) or length < 0 or offset + length > self.end:
            raise ValueError(f"{what} lies outside the data area (bytes {len(MAGIC)} to {self.end}): {pair}")
        if offset != self.at:
            how = "overlaps the previous range" if offset < self.at else "leaves a gap after the previous range"
            raise ValueError(f"{what} {how}, which ends at {self.at}: {pair}")
        self.at += length
        return offset, length

    def sealed(self, item: dict, what: str) -> tuple[tuple[int, int], tuple[int, int]]:
        """The ranges of a sealed header and body, in this order."""
        return self.take(item["header"], f"{what}'s header"), self.take(item["body"], f"{what}'s body")

    def streams(self, pairs: list, what: str) -> tuple[tuple[int, int], ...]:
        """The ranges of attachment streams, in index order (`what` 1, `what` 2...)."""
        return tuple(self.take(pair, f"{what} {i + 1}") for i, pair in enumerate(pairs))


def _date(text: object) -> dt.date:
    if not isinstance(text, str):
        raise ValueError("a date must be a YYYY-MM-DD string")
    return dt.date.fromisoformat(text)


def _cases(manifest: object, end: int) -> list[BundleCase]:
    if not isinstance(manifest, dict) or manifest.get("format") not in FORMATS or not isinstance(
            manifest["cases"], list):
        raise ValueError(f"it is not an {' or '.join(FORMATS)} manifest")
    cursor, found, refs = _Cursor(end), [], set()
    files = manifest["format"] == FORMAT
    for item in manifest["cases"]:
        ref, status, sealed_by = item["ref"], item["status"], item["sealed_by"]
        if not (isinstance(ref, str) and _REF.fullmatch(ref)) or ref in refs:
            raise ValueError("a case reference is malformed or repeated")
        if status not in STATUSES or sealed_by not in SEALERS or not isinstance(item["attachments"], list):
            raise ValueError(f"case {ref} has an unknown status, sealer or attachment list")
        refs.add(ref)
        header, body = cursor.sealed(item, f"case {ref}")
        streams = cursor.streams(item["attachments"], f"case {ref}'s attachment")
        notes = tuple(BundleNote(_date(n["created"]), *cursor.sealed(n, f"case {ref}'s note {i + 1}"))
                      for i, n in enumerate(item["notes"]))
        thread = tuple(_message(m, cursor, f"case {ref}'s message", files) for m in item.get("thread", ()))
        if any(b.seq <= a.seq for a, b in zip(thread, thread[1:], strict=False)):
            raise ValueError(f"case {ref}'s thread is not in the order of its messages' seq, each once")
        found.append(BundleCase(ref, _date(item["received"]), status, sealed_by, header, body, streams, notes,
                                thread))
    if cursor.at != end:
        raise ValueError("the data area holds bytes no case names")
    return found


def _message(item: dict, cursor: _Cursor, what: str, files: bool) -> BundleMessage:
    if item["from"] not in ("reviewer", "reporter") or type(item["seq"]) is not int or type(item["unread"]) is not bool:
        raise ValueError("a thread message has an unknown sender, or a malformed seq or unread")
    what = f"{what} {item['seq']}"
    if files != isinstance(item.get("attachments"), list):
        raise ValueError(f"{what} must list its files' streams in a version 3 bundle, and only there")
    header, body = cursor.sealed(item, what)
    streams = cursor.streams(item.get("attachments", []), f"{what}'s file")
    return BundleMessage(item["seq"], item["from"], _date(item["day"]), item["unread"], header, body, streams)


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
