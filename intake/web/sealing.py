"""Sealing a no-JavaScript post on arrival: each uploaded file goes straight into sealed 1 MiB parts.

Werkzeug's multipart parser writes every file to whatever the request's stream factory returns;
here that is a `SealingWriter`, so no plaintext reaches a temporary file and memory holds at most
one 64 KiB chunk and one sealed part per file.
"""

from __future__ import annotations

from typing import IO

from flask import Request
from sqlalchemy import Engine

from intake.crypto.envelope import MAX_ATTACHMENTS, Sealer
from intake.crypto.keys import Recipient
from intake.crypto.stream import PART
from intake.storage.arrivals import add_stream, append_part, begin_arrival


class UploadRefused(Exception):
    """A file the report cannot take; not a ValueError, so Werkzeug does not swallow it."""


class Arrival:
    """One report being sealed as it arrives: its Sealer, its case in storage and its streams."""

    def __init__(self, engine: Engine, recipients: list[Recipient]) -> None:
        self.engine = engine
        self.sealer = Sealer(recipients)
        self.case_id: int | None = None
        self.writers: list[SealingWriter] = []

    def open_file(self, filename: str, content_type: str | None) -> SealingWriter | NoFile:
        """Start sealing the next uploaded file as a new attachment stream."""
        if not filename:
            return NoFile()
        if len(self.writers) >= MAX_ATTACHMENTS:
            raise UploadRefused(f"a report carries at most {MAX_ATTACHMENTS} files")
        if self.case_id is None:
            self.case_id = begin_arrival(self.engine)
        idx = len(self.writers)
        add_stream(self.engine, self.case_id, idx)
        writer = SealingWriter(self, idx, filename, content_type or "application/octet-stream")
        self.writers.append(writer)
        return writer

    @property
    def lengths(self) -> list[int]:
        """The sealed length of every finished stream."""
        return [w.length for w in self.writers]


class SealingWriter:
    """A write-only file that seals what Werkzeug writes and stores it part by part."""

    def __init__(self, arrival: Arrival, idx: int, filename: str, content_type: str) -> None:
        self.arrival, self.idx, self.filename, self.content_type = arrival, idx, filename, content_type
        self.stream = arrival.sealer.attachment()
        self.pending = bytearray(self.stream.start())
        self.parts = 0
        self.length = len(self.pending)
        self.closed = False

    def write(self, data: bytes) -> int:
        """Seal plaintext and store every whole part it completes."""
        for sealed in self.stream.push(bytes(data)):
            self._add(sealed)
        return len(data)

    def seek(self, offset: int, whence: int = 0) -> int:
        """Werkzeug seeks to 0 once a file ends: seal the final chunk and store the last part."""
        if (offset, whence) != (0, 0) or self.closed:
            raise OSError("a sealing writer cannot seek")
        self._add(self.stream.finish())
        self._flush(everything=True)
        self.arrival.sealer.end_attachment(self.filename, self.content_type)
        self.closed = True
        return 0

    def read(self, size: int = -1) -> bytes:
        """Nothing can be read back: the plaintext is gone."""
        return b""

    def close(self) -> None:
        """Nothing to release: the parts are in the database."""

    def _add(self, sealed: bytes) -> None:
        self.pending += sealed
        self.length += len(sealed)
        self._flush()

    def _flush(self, everything: bool = False) -> None:
        while len(self.pending) >= PART or (everything and self.pending):
            part = bytes(self.pending[:PART])
            del self.pending[:PART]
            append_part(self.arrival.engine, self.arrival.case_id, self.idx, self.parts, part)
            self.parts += 1


class NoFile:
    """The empty part a browser sends for a file field left empty."""

    closed = False

    def write(self, data: bytes) -> int:
        """Refuse content: a file without a name is not something a browser sends."""
        if data:
            raise UploadRefused("a file arrived without a name: choose the file again")
        return 0

    def seek(self, offset: int, whence: int = 0) -> int:
        """Nothing to finish."""
        return 0

    def read(self, size: int = -1) -> bytes:
        """Nothing to read."""
        return b""

    def close(self) -> None:
        """Nothing to release."""


class SealingRequest(Request):
    """A request whose uploaded files are sealed as they are parsed, when an Arrival is attached."""

    arrival: Arrival | None = None

    def _get_file_stream(self, total_content_length: int | None, content_type: str | None,
                         filename: str | None = None, content_length: int | None = None) -> IO[bytes]:
        if self.arrival is None:
            raise UploadRefused("this address takes no files")
        return self.arrival.open_file(filename or "", content_type)  # type: ignore[return-value]
