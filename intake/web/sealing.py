"""Sealing a no-JavaScript post on arrival: each uploaded file goes straight into sealed 1 MiB parts.

Werkzeug's multipart parser writes every file to whatever the request's stream factory returns;
here that is a `SealingWriter`, so no plaintext reaches a temporary file. Three threads share the
work, each handing its blocks to the next: the request's thread reads the body (1 MiB at a
time), parses it and gathers what Werkzeug writes (64 KiB at a time) into blocks of BLOCK bytes; a
sealing thread hashes and seals each block and cuts it into parts; a storing thread stores each
batch of BATCH parts in one transaction. Up to AHEAD blocks, and AHEAD batches, wait for their
thread. Hashing, sealing and SQLite release the GIL, so on two cores they run beside the parsing.
Memory holds at most the read buffer, one block being gathered and AHEAD handed over, one part
being filled and 1 + AHEAD batches: one filling, the others waiting or being stored (about 17 MiB).
"""

from __future__ import annotations

import io
from collections import deque
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import IO, Any

from flask import Request
from flask_babel import gettext as _
from sqlalchemy import Engine
from werkzeug.exceptions import ClientDisconnected
from werkzeug.formparser import FormDataParser

from intake.crypto.envelope import MAX_ATTACHMENTS, Sealer
from intake.crypto.keys import Recipient
from intake.crypto.stream import PART
from intake.storage.cases import CARRIER
from intake.storage.lifecycle import add_stream, append_parts, open_arrival
from intake.web.ahead import Ahead, leading_fields
from intake.web.body import SocketBody

BATCH = 4
AHEAD = 2  # blocks waiting for the sealing thread, and batches for the storing one: a thread preempted
# for a moment on two cores does not stop the one before it
BLOCK = PART  # plaintext gathered before it is handed to the sealing thread: one handoff a MiB, not 16
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
        self._sealing = ThreadPoolExecutor(max_workers=1, thread_name_prefix="intake-seal")
        self._storing = ThreadPoolExecutor(max_workers=1, thread_name_prefix="intake-store")
        self._sealed: deque[Future[None]] = deque()
        self._stored: deque[Future[None]] = deque()

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

    def seal(self, work: Callable[[bytes], None], data: bytes) -> None:
        """Seal a parsed block in the sealing thread while the next ones are read (at most AHEAD waiting)."""
        settle(self._sealed, AHEAD - 1)
        self._sealed.append(self._sealing.submit(work, data))

    def sealed(self) -> None:
        """Wait until every block handed over is sealed, raising its error (a storage error too) here."""
        settle(self._sealed)

    def store(self, idx: int, first: int, batch: list[bytearray]) -> None:
        """Store a batch of sealed parts in the background while the next ones are sealed (at most AHEAD waiting)."""
        settle(self._stored, AHEAD - 1)
        self._stored.append(self._storing.submit(append_parts, self.engine, self.case_id, idx, first, batch,
                                                 self.daily))

    def wait(self) -> None:
        """Wait until every batch handed over is stored, raising a storage error here."""
        settle(self._stored)

    def close(self) -> None:
        """Let the last block and batch end (sealed and stored, or failed) before the case is completed or
        discarded."""
        self._sealing.shutdown(wait=True)
        self._storing.shutdown(wait=True)

    @property
    def lengths(self) -> list[int]:
        """The sealed length of every finished stream."""
        return [w.length for w in self.writers]


def settle(futures: deque[Future[None]], keep: int = 0) -> None:
    """Wait for the oldest of `futures` until `keep` are left, raising the first error once those are done."""
    error: Exception | None = None
    while len(futures) > keep:
        try:
            futures.popleft().result()
        except Exception as exc:  # noqa: BLE001 - the others are still waited for; this one is raised after
            error = error or exc
    if error is not None:
        raise error


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
        self.part, self.filled = bytearray(PART), 0
        self.gathered: list[bytes] = []
        self.gathered_bytes = 0
        self.batch: list[bytearray] = []
        self.parts = self.length = 0
        self.closed = False
        self._add(self.stream.start())

    def write(self, data: bytes) -> int:
        """Gather plaintext; hand each BLOCK to the sealing thread, which stores every whole part it completes."""
        self.gathered.append(data if isinstance(data, bytes) else bytes(data))
        self.gathered_bytes += len(data)
        if self.gathered_bytes >= BLOCK:
            self._hand_over()
        return len(data)

    def _hand_over(self) -> None:
        if self.gathered:
            self.arrival.seal(self._seal, b"".join(self.gathered))
            self.gathered, self.gathered_bytes = [], 0

    def seek(self, offset: int, whence: int = 0) -> int:
        """Werkzeug seeks to 0 once a file ends: seal the final chunk, store the last parts and wait for them."""
        if (offset, whence) != (0, 0) or self.closed:
            raise OSError("a sealing writer cannot seek")
        self._hand_over()
        self.arrival.sealed()
        self._add(self.stream.finish())
        if self.filled:
            self.batch.append(self.part[:self.filled])
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

    def _seal(self, data: bytes) -> None:
        for sealed in self.stream.push(data):
            self._add(sealed)

    def _add(self, sealed: bytes) -> None:
        """Copy sealed bytes into the part being filled (the one copy they take); a full part joins the batch."""
        self.length += len(sealed)
        with memoryview(sealed) as view:
            while view:
                take = min(len(view), PART - self.filled)
                self.part[self.filled:self.filled + take] = view[:take]
                self.filled += take
                view = view[take:]
                if self.filled == PART:
                    self.batch.append(self.part)
                    self.part, self.filled = bytearray(PART), 0
                    self._flush()

    def _flush(self, everything: bool = False) -> None:
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


class WholeBody(io.RawIOBase):
    """The rest of a body read from the socket (web/body.py); a client that stops before its declared length, or
    too slowly, gets Werkzeug's 400, as through Werkzeug's own body stream."""

    def __init__(self, body: SocketBody) -> None:
        super().__init__()
        self.body = body

    def readable(self) -> bool:
        """It is read, never written."""
        return True

    def readinto(self, buffer) -> int:  # type: ignore[no-untyped-def]
        """Read the next bytes into `buffer`; ClientDisconnected when the connection ends early."""
        try:
            n = self.body.readinto(buffer)
        except (OSError, ValueError) as exc:  # a slow client's deadline (web/slow.py), a reset
            raise ClientDisconnected() from exc
        if not n and self.body.left:
            raise ClientDisconnected()
        return n


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
            rest = self.environ["wsgi.input"]
            if isinstance(rest, SocketBody):  # intake serve: the parser's buffer is filled from the socket
                return Ahead(self._ahead, WholeBody(rest))  # type: ignore[return-value]
            return Ahead(self._ahead, self.stream)  # type: ignore[return-value]
        return super()._get_stream_for_parsing()

    def _get_file_stream(self, total_content_length: int | None, content_type: str | None,
                         filename: str | None = None, content_length: int | None = None) -> IO[bytes]:
        if self.arrival is None:
            raise UploadRefused(_("This address takes no files."))
        return self.arrival.open_file(filename or "", content_type)  # type: ignore[return-value]
