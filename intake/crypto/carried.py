"""Carried files: a sealed report with its keyring serial and codename lookup, signed by the key that sealed its
header's stanza 0, as the offline kit writes it (docs/format.md §13). Read as it arrives, without any key."""

from __future__ import annotations

import struct
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any, BinaryIO

from intake.crypto.envelope import (
    BODY_SIZES,
    KIT_VERSION,
    MAX_ATTACHMENTS,
    Header,
    header_length,
    parse_header,
    stanza_count,
)
from intake.crypto.errors import CarriedSignatureError, MalformedEnvelope, TruncatedAttachment, UnsupportedVersion
from intake.crypto.keys import generichash
from intake.crypto.kitsign import SIGNATURE_BYTES, SIGNER_BYTES, CarriedSigner, check_sealer, check_signed
from intake.crypto.stream import plain_size

MAGIC = b"INTKFILE"
VERSION = 2  # version 1 (an unsigned prefix, made by the kit before §13.1 signed it) is refused: get a new kit
LOOKUP_BYTES = 32
FIELDS = len(MAGIC), len(MAGIC) + 1 + 8 + LOOKUP_BYTES + SIGNER_BYTES  # what the signature covers of the prefix
PREFIX = FIELDS[1] + SIGNATURE_BYTES  # 145 bytes before the sealed report file (§13.1)
CARRIED_DOMAIN = b"intake-carried-v1"
OLD_KIT = ("this file was made by an older kit, whose files anyone who carries them could change: get a new kit, "
           "seal the report again with it and send the new file")


def carried_id(header: bytes) -> bytes:
    """The carried id of a report: H(32, "intake-carried-v1" || header) (§13.3), kept to store a file once."""
    return generichash(32, CARRIED_DOMAIN + header)


def carried_prefix(serial: int, lookup: bytes, signer: CarriedSigner, header: bytes, body: bytes,
                   lengths: Sequence[int]) -> bytes:
    """The 145 bytes a carried file starts with (§13.1): magic, version, serial, lookup, signer, signature."""
    if len(lookup) != LOOKUP_BYTES or not 0 <= serial < 1 << 64:
        raise ValueError("a carried file needs a 32-byte lookup and a serial of 8 bytes")
    fields = MAGIC + bytes([VERSION]) + struct.pack(">Q", serial) + lookup + signer.public
    return fields + signer.sign(fields[len(MAGIC):], header, body, lengths)


def write_carried(out: BinaryIO, serial: int, lookup: bytes, signer: CarriedSigner, header: bytes, body: bytes,
                  streams: Iterable[tuple[int, Iterable[bytes]]]) -> None:
    """Write a carried file: the signed prefix, then the sealed report file of §8 (its header sealed by `signer`)."""
    from intake.crypto.container import write_envelope

    streams = list(streams)
    out.write(carried_prefix(serial, lookup, signer, header, body, [n for n, _ in streams]))
    write_envelope(out, header, body, streams)


def check_sealed_by(fields: bytes, header: Header) -> None:
    """§13.2 step 6: a version 3 header whose stanza 0 the signer of the prefix `fields` (version .. signer) sealed;
    else CarriedSignatureError."""
    if header.version != KIT_VERSION:
        raise CarriedSignatureError(f"a carried file's header is version {KIT_VERSION}, not {header.version}")
    check_sealer(fields[-SIGNER_BYTES:], header.stanzas[0][1])


def check_carried(fields: bytes, signature: bytes, header: Header, body: bytes, lengths: Sequence[int]) -> None:
    """§13.2 steps 6 and 7 at once (the API, which has the lengths at its begin)."""
    check_sealed_by(fields, header)
    check_signed(fields, signature, header.raw, body, lengths)


@dataclass(frozen=True)
class CarriedHead:
    """What a carried file says before its streams: keyring serial, lookup, header, body and stream count, and its
    signer and signature (checked)."""

    serial: int
    lookup: bytes
    header: Header
    body: bytes
    count: int
    signer: bytes
    signature: bytes


@dataclass
class CarriedParser:
    """Reads a carried file as it arrives (§13.2). `feed` yields ("head", CarriedHead) once, then for each
    stream ("stream", index, length) and its bytes as ("data", index, bytes); `finish` checks the end.

    `available` is the most bytes the whole file can have (a request's declared length): a length that
    declares more than can still arrive is refused at once, before any of it is read.
    """

    available: int | None = None
    head: CarriedHead | None = None
    lengths: list[int] = field(default_factory=list)
    _buf: bytearray = field(default_factory=bytearray)
    _seen: int = 0  # bytes consumed so far
    _left: int = 0  # bytes of the current stream still to come
    _step: str = "prefix"
    _fields: dict[str, object] = field(default_factory=dict)

    @property
    def left(self) -> int:
        """The bytes of the current stream still to come (0 between streams)."""
        return self._left

    def _room(self, declared: int, what: str) -> None:
        if self.available is not None and self._seen + declared > self.available:
            raise TruncatedAttachment(f"the file declares {declared} bytes of {what}, more than it can hold")

    def _take(self, data: memoryview, at: int, need: int) -> tuple[bytes | None, int]:
        """Gather `need` bytes into the buffer; return them once whole, and the new position in `data`."""
        take = min(need - len(self._buf), len(data) - at)
        self._buf += data[at:at + take]
        if len(self._buf) < need:
            return None, at + take
        whole = bytes(self._buf)
        self._buf.clear()
        self._seen += need
        return whole, at + take

    def feed(self, chunk: bytes) -> Iterator[tuple[Any, ...]]:
        """Parse the next bytes of the file; raise CryptoError (format.md §10) at the first failure."""
        data, at = memoryview(chunk), 0
        while at < len(data):
            if self._step == "stream":
                take = min(self._left, len(data) - at)
                self._left -= take
                self._seen += take
                yield ("data", len(self.lengths) - 1, bytes(data[at:at + take]))
                at += take
                if self._left == 0:
                    self._step = "length" if len(self.lengths) < self._count() else "end"
                continue
            if self._step == "end":
                raise MalformedEnvelope("the carried file has bytes after its last attachment")
            need = self._need()
            got, at = self._take(data, at, need)
            if got is not None:
                yield from self._parsed(got)

    def _count(self) -> int:
        return self.head.count if self.head else 0

    def _need(self) -> int:
        step = self._step
        if step == "prefix":
            return PREFIX + 6
        if step == "header":
            return header_length(stanza_count(self._fields["start"])) - 6  # type: ignore[arg-type]
        return {"body_length": 4, "body": self._fields.get("body_length", 0), "count": 1, "length": 8}[step]  # type: ignore[return-value]

    def _parsed(self, got: bytes) -> Iterator[tuple[Any, ...]]:
        step = self._step
        if step == "prefix":
            if got[:len(MAGIC)] != MAGIC:
                raise MalformedEnvelope("not a carried file: it does not start with INTKFILE (format.md §13)")
            if got[len(MAGIC)] == 1:
                raise UnsupportedVersion(OLD_KIT)
            if got[len(MAGIC)] != VERSION:
                raise UnsupportedVersion(f"carried file version {got[len(MAGIC)]} is not supported")
            (serial,) = struct.unpack(">Q", got[9:17])
            self._fields.update(serial=serial, lookup=got[17:17 + LOOKUP_BYTES], fields=got[len(MAGIC):FIELDS[1]],
                                signature=got[FIELDS[1]:PREFIX], start=got[PREFIX:])
            stanza_count(got[PREFIX:])
            self._step = "header"
        elif step == "header":
            self._fields["header"] = parse_header(self._fields["start"] + got)  # type: ignore[operator]
            self._step = "body_length"
        elif step == "body_length":
            (length,) = struct.unpack(">I", got)
            if length not in BODY_SIZES:
                raise MalformedEnvelope(f"a sealed body cannot be {length} bytes long (format.md §5)")
            self._room(length, "body")
            self._fields["body_length"] = length
            self._step = "body"
        elif step == "body":
            self._fields["body"] = got
            check_sealed_by(self._fields["fields"], self._fields["header"])  # type: ignore[arg-type]
            self._step = "count"
        elif step == "count":
            if got[0] > MAX_ATTACHMENTS:
                raise MalformedEnvelope(f"a report carries at most {MAX_ATTACHMENTS} attachments, not {got[0]}")
            f = self._fields
            self.head = CarriedHead(f["serial"], f["lookup"], f["header"], f["body"], got[0],  # type: ignore[arg-type]
                                    f["fields"][-SIGNER_BYTES:], f["signature"])  # type: ignore[index, arg-type]
            self._step = "length" if got[0] else "end"
            if not got[0]:
                self._signed()
            yield ("head", self.head)
        elif step == "length":
            (length,) = struct.unpack(">Q", got)
            self._room(length, "an attachment")
            if plain_size(length) is None:
                raise MalformedEnvelope(f"attachment {len(self.lengths)} cannot be a sealed stream of {length} "
                                        "bytes (format.md §7)")
            self.lengths.append(length)
            if len(self.lengths) == self._count():
                self._signed()
            self._left = length
            self._step = "stream"
            yield ("stream", len(self.lengths) - 1, length)

    def _signed(self) -> None:
        """§13.2 step 7, once the last stream length is known (before its bytes are read)."""
        f = self._fields
        check_signed(f["fields"], f["signature"], f["header"].raw, f["body"], self.lengths)  # type: ignore[arg-type, attr-defined]

    def finish(self) -> CarriedHead:
        """Check that the file ended where its framing says; return its head."""
        if self._step == "stream":
            raise TruncatedAttachment("the carried file ends inside an attachment")
        if self._step == "length":
            raise TruncatedAttachment("the carried file ends before an attachment")
        if self._step != "end" or self.head is None:
            raise MalformedEnvelope("the carried file ends inside its head (format.md §13.2)")
        return self.head


def read_carried(data: bytes) -> tuple[CarriedHead, list[bytes]]:
    """Read a whole carried file in memory (tests, tools): its head and its sealed streams."""
    parser = CarriedParser(len(data))
    streams: list[bytearray] = []
    for event in parser.feed(data):
        if event[0] == "stream":
            streams.append(bytearray())
        elif event[0] == "data":
            streams[event[1]] += event[2]
    return parser.finish(), [bytes(s) for s in streams]
