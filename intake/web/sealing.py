"""Sealing a no-JavaScript post on arrival: each uploaded file goes straight into sealed 1 MiB parts.

Werkzeug's multipart parser writes every file to whatever the request's stream factory returns;
here that is a `SealingWriter`, so no plaintext reaches a temporary file. The body is read
1 MiB at a time; memory holds at most that buffer, one 64 KiB chunk and two batches of BATCH sealed
parts: one being sealed, one being stored by a background thread in one transaction.
"""

from __future__ import annotations

import io
from concurrent.futures import Future, ThreadPoolExecutor
from typing import IO, Any

from flask import Request
from flask_babel import gettext as _
from sqlalchemy import Engine
from werkzeug.formparser import FormDataParser

from intake.crypto.envelope import MAX_ATTACHMENTS, Sealer
from intake.crypto.keys import Recipient
from intake.crypto.stream import PART
from intake.storage.cases import CARRIER
from intake.storage.lifecycle import add_stream, append_parts, open_arrival
from intake.web.ahead import Ahead, leading_fields

BATCH = 4
MAX_NAME_BYTES = 255  # a file name in the sealed manifest, as most file systems allow
MAX_EXT_BYTES = 16
MAX_TYPE_CHARS = 127
DEFAULT_TYPE = "application/octet-stream"


class UploadRefused(Exception):
    """A file the report cannot take; not a ValueError, so Werkzeug does not swallow it."""


class Arrival:
    """One report (or follow-up, whose files go unpadded into a carrier) being sealed as it arrives:
    its Sealer, its case in storage and its streams; with `daily`, each batch of parts is counted on the
    server path's daily budget in the transaction that stores it."""

    def __init__(self, engine: Engine, recipients: list[Recipient], follow_up: bool = False,
                 daily: int | None = None) -> None:
        self.engine, self.daily = engine, daily
        self.sealer = Sealer(recipients)
        self.follow_up = follow_up
        self.case_id: int | None = None
        self.writers: list[SealingWriter] = []
        self._storing = ThreadPoolExecutor(max_workers=1, thread_name_prefix="intake-store")
        self._stored: Future[None] | None = None

    def open_file(self, filename: str, content_type: str | None) -> SealingWriter | NoFile:
        """Start sealing the next uploaded file as a new attachment stream."""
        if not filename:
            return NoFile()
        if len(self.writers) >= MAX_ATTACHMENTS:
            raise UploadRefused(_("A report carries at most %(n)s files: send the others in a second report.",
                                  n=MAX_ATTACHMENTS))
        if self.case_id is None:
            self.case_id = open_arrival(self.engine, CARRIER if self.follow_up else "server")
        idx = len(self.writers)
        add_stream(self.engine, self.case_id, idx)
        writer = SealingWriter(self, idx, stored_name(filename), stored_type(content_type))
        self.writers.append(writer)
        return writer

    def store(self, idx: int, first: int, batch: list[bytes]) -> None:
        """Store a batch of sealed parts in the background while the next one is sealed (one at a time)."""
        self.wait()
        self._stored = self._storing.submit(append_parts, self.engine, self.case_id, idx, first, batch, self.daily)

    def wait(self) -> None:
        """Wait until every batch handed over is stored, raising a storage error here."""
        stored, self._stored = self._stored, None
        if stored is not None:
            stored.result()

    def close(self) -> None:
        """Let the last batch end (stored or failed) before the case is completed or discarded."""
        self._storing.shutdown(wait=True)

    @property
    def lengths(self) -> list[int]:
        """The sealed length of every finished stream."""
        return [w.length for w in self.writers]


def stored_name(filename: str) -> str:
    """The name the manifest keeps: valid UTF-8, at most MAX_NAME_BYTES, its extension kept (the file is never lost)."""
    text = filename.encode("utf-8", "replace").decode("utf-8")
    if len(text.encode()) <= MAX_NAME_BYTES:
        return text
    stem, dot, ext = text.rpartition(".")
    if not dot or len(ext.encode()) > MAX_EXT_BYTES:
        stem, ext = text, ""
    room = MAX_NAME_BYTES - (len(ext.encode()) + 1 if ext else 0)
    stem = stem.encode()[:room].decode("utf-8", "ignore")
    return f"{stem}.{ext}" if ext else stem


def stored_type(content_type: str | None) -> str:
    """The media type the manifest keeps: the browser's if short printable ASCII, else application/octet-stream."""
    if not content_type or len(content_type) > MAX_TYPE_CHARS or not content_type.isascii() \
            or not content_type.isprintable():
        return DEFAULT_TYPE
    return content_type


class SealingWriter:
    """A write-only file that seals what Werkzeug writes and stores it part by part."""

    def __init__(self, arrival: Arrival, idx: int, filename: str, content_type: str) -> None:
        self.arrival, self.idx, self.filename, self.content_type = arrival, idx, filename, content_type
        self.stream = arrival.sealer.attachment(padded=not arrival.follow_up)  # format.md §12.4
        self.pending = bytearray(self.stream.start())
        self.batch: list[bytes] = []
        self.parts = 0
        self.length = len(self.pending)
        self.closed = False

    def write(self, data: bytes) -> int:
        """Seal plaintext and store every whole part it completes."""
        for sealed in self.stream.push(bytes(data)):
            self._add(sealed)
        return len(data)

    def seek(self, offset: int, whence: int = 0) -> int:
        """Werkzeug seeks to 0 once a file ends: seal the final chunk, store the last parts and wait for them."""
        if (offset, whence) != (0, 0) or self.closed:
            raise OSError("a sealing writer cannot seek")
        self._add(self.stream.finish())
        self._flush(everything=True)
        self.arrival.wait()
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
            self.batch.append(bytes(self.pending[:PART]))
            del self.pending[:PART]
        if self.batch and (everything or len(self.batch) >= BATCH):
            self.arrival.store(self.idx, self.parts, self.batch)
            self.parts += len(self.batch)
            self.batch = []


class NoFile:
    """The empty part a browser sends for a file field left empty."""

    closed = False

    def write(self, data: bytes) -> int:
        """Refuse content: a file without a name is not something a browser sends."""
        if data:
            raise UploadRefused(_("A file arrived without a name: choose the file again."))
        return 0

    def seek(self, offset: int, whence: int = 0) -> int:
        """Nothing to finish."""
        return 0

    def read(self, size: int = -1) -> bytes:
        """Nothing to read."""
        return b""

    def close(self) -> None:
        """Nothing to release."""


class WideFormParser(FormDataParser):
    """Werkzeug's form parser over a body read 1 MiB at a time (it asks for 64 KiB).

    Under gunicorn each 64 KiB read copied the whole 1 MiB its reader had received ahead (bench:
    a quarter of a large upload's time went there); a 1 MiB buffer makes every read one copy.
    """

    def parse(self, stream: IO[bytes], mimetype: str, content_length: int | None,
              options: dict[str, str] | None = None) -> tuple[IO[bytes], Any, Any]:
        """Parse as Werkzeug does, through a 1 MiB read buffer for multipart bodies."""
        if mimetype == "multipart/form-data":
            stream = io.BufferedReader(stream, PART)  # type: ignore[arg-type]
        return super().parse(stream, mimetype, content_length, options)


class SealingRequest(Request):
    """A request whose uploaded files are sealed as they are parsed, when an Arrival is attached."""

    arrival: Arrival | None = None
    form_data_parser_class = WideFormParser
    _ahead: bytes | None = None

    def read_ahead(self, limit: int) -> dict[str, str]:
        """The multipart text fields before the first file (web/ahead.py); the form parser reads them again."""
        boundary = self.mimetype_params.get("boundary", "").encode("latin-1", "replace")
        if not boundary or self._ahead is not None:
            return {}
        fields, self._ahead = leading_fields(self.stream, boundary, limit)
        return fields

    def _get_stream_for_parsing(self) -> IO[bytes]:
        if self._ahead is not None:
            return Ahead(self._ahead, self.stream)  # type: ignore[return-value]
        return super()._get_stream_for_parsing()

    def _get_file_stream(self, total_content_length: int | None, content_type: str | None,
                         filename: str | None = None, content_length: int | None = None) -> IO[bytes]:
        if self.arrival is None:
            raise UploadRefused(_("This address takes no files."))
        return self.arrival.open_file(filename or "", content_type)  # type: ignore[return-value]
