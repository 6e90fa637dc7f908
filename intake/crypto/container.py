"""Sealed report files: a whole sealed report in one file (docs/format.md §8)."""

from __future__ import annotations

import struct
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import BinaryIO

from intake.crypto.envelope import MAX_ATTACHMENTS, header_length, stanza_count
from intake.crypto.errors import MalformedEnvelope, TruncatedAttachment
from intake.crypto.stream import PART


@dataclass(frozen=True)
class Envelope:
    """The parts of a sealed report file: header, body and where each stream lies."""

    header: bytes
    body: bytes
    streams: tuple[tuple[int, int], ...]


def write_envelope(out: BinaryIO, header: bytes, body: bytes, streams: Iterable[tuple[int, Iterable[bytes]]]) -> None:
    """Write a sealed report file; `streams` gives each stream's length and its bytes."""
    out.write(header + struct.pack(">I", len(body)) + body)
    streams = list(streams)
    out.write(bytes([len(streams)]))
    for length, parts in streams:
        out.write(struct.pack(">Q", length))
        written = 0
        for part in parts:
            written += len(part)
            out.write(part)
        if written != length:
            raise ValueError(f"a stream declared {length} bytes but held {written}")


def _exact(f: BinaryIO, n: int, what: str) -> bytes:
    data = f.read(n)
    if len(data) != n:
        raise MalformedEnvelope(f"the sealed report file ends inside {what}")
    return data


def read_envelope(f: BinaryIO) -> Envelope:
    """Read the framing of a seekable sealed report file (§8), without any key."""
    start = _exact(f, 6, "the header")
    header = start + _exact(f, header_length(stanza_count(start)) - 6, "the header")
    (body_length,) = struct.unpack(">I", _exact(f, 4, "the body length"))
    body = f.read(body_length)
    if len(body) != body_length:
        raise MalformedEnvelope("the sealed report file ends inside the body")
    (count,) = _exact(f, 1, "the attachment count")
    if count > MAX_ATTACHMENTS:
        raise MalformedEnvelope(f"a report carries at most {MAX_ATTACHMENTS} attachments, not {count}")
    streams = []
    here = f.tell()
    total = f.seek(0, 2)
    f.seek(here)
    for _ in range(count):
        raw = f.read(8)
        if len(raw) != 8:
            raise TruncatedAttachment("the sealed report file ends before an attachment")
        (length,) = struct.unpack(">Q", raw)
        offset = f.tell()
        if offset + length > total:
            raise TruncatedAttachment("the sealed report file ends inside an attachment")
        f.seek(offset + length)
        streams.append((offset, length))
    if f.read(1):
        raise MalformedEnvelope("the sealed report file has bytes after its last attachment")
    return Envelope(header, body, tuple(streams))


def stream_parts(f: BinaryIO, offset: int, length: int) -> Iterator[bytes]:
    """Yield one stream of a sealed report file in parts of at most 1 MiB."""
    f.seek(offset)
    left = length
    while left:
        part = f.read(min(PART, left))
        if not part:
            return
        left -= len(part)
        yield part
