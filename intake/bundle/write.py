"""`intake export-sealed`: write the stored cases, still sealed, into one bundle file (docs/bundle.md)."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from sqlalchemy import Engine

from intake.bundle.read import FORMAT, MAGIC, trailer
from intake.crypto.keys import Recipient
from intake.storage.cases import iter_cases, iter_parts
from intake.storage.keyring_state import in_use
from intake.storage.notes import case_notes
from intake.storage.threads import Message, thread


@dataclass(frozen=True)
class Exported:
    """What a bundle holds: its path, the case references, its size and the SHA-256 of the whole file."""

    path: Path
    refs: tuple[str, ...]
    size: int
    sha256: str


class _Writer:
    """Writes to the bundle file while hashing, and knows its offset."""

    def __init__(self, f: BinaryIO) -> None:
        self.f, self.sha, self.at = f, hashlib.sha256(), 0

    def write(self, data: bytes) -> None:
        self.f.write(data)
        self.sha.update(data)
        self.at += len(data)

    def put(self, data: bytes) -> list[int]:
        """Write one blob; return its [offset, length] for the manifest."""
        start = self.at
        self.write(data)
        return [start, len(data)]


def export_sealed(engine: Engine, out: Path, since: dt.date | None = None,
                  import_key: Recipient | None = None) -> Exported:
    """Stream every complete case (received on or after `since`), its notes and thread into a new bundle file."""
    fd = os.open(out, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600)
    try:
        with os.fdopen(fd, "wb") as f:
            refs, digest, size = _write(_Writer(f), engine, since, import_key)
            f.flush()
            os.fsync(f.fileno())
    except BaseException:
        out.unlink(missing_ok=True)
        raise
    return Exported(out, refs, size, digest)


def _write(w: _Writer, engine: Engine, since: dt.date | None,
           import_key: Recipient | None) -> tuple[tuple[str, ...], str, int]:
    w.write(MAGIC)
    cases = []
    for case in iter_cases(engine, since=since):
        entry = {"ref": case.ref, "received": case.received.isoformat(), "status": case.status,
                 "sealed_by": case.sealed_by, "header": w.put(case.header), "body": w.put(case.body)}
        entry["attachments"] = [_stream(w, engine, case.id, idx, length) for idx, length in enumerate(case.lengths)]
        entry["notes"] = [{"created": n.created.isoformat(), "header": w.put(n.header), "body": w.put(n.body)}
                          for n in case_notes(engine, case.id)]
        entry["thread"] = [_message(w, engine, case.id, m) for m in thread(engine, case.id)]
        cases.append(entry)
    manifest = json.dumps({"format": FORMAT, "created": dt.datetime.now(dt.UTC).date().isoformat(),
                           "since": since.isoformat() if since else None,
                           "import_key": str(import_key) if import_key else None,
                           "keyrings": in_use(engine), "cases": cases},
                          separators=(",", ":")).encode()
    offset = w.at
    w.write(manifest)
    w.write(trailer(offset, len(manifest), w.sha.digest()))
    return tuple(c["ref"] for c in cases), w.sha.hexdigest(), w.at


def _message(w: _Writer, engine: Engine, case_id: int, m: Message) -> dict[str, object]:
    """A message's plain columns, then its header, body and files' streams written in this order (bundle.md §3)."""
    return {"seq": m.seq, "from": m.sender, "day": m.day.isoformat(), "unread": m.unread,
            "header": w.put(m.header), "body": w.put(m.body),
            "attachments": [_stream(w, engine, case_id, idx, length, m.seq) for idx, length in enumerate(m.lengths)]}


def _stream(w: _Writer, engine: Engine, case_id: int, idx: int, length: int, seq: int | None = None) -> list[int]:
    start = w.at
    for part in iter_parts(engine, case_id, idx, seq=seq):
        w.write(part)
    if w.at - start != length:
        what = f"attachment {idx}" if seq is None else f"file {idx} of message {seq}"
        raise ValueError(f"{what} of case {case_id} holds {w.at - start} bytes, not {length}: check the database")
    return [start, length]
