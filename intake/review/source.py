"""Where cases come from: the server's database, or a sealed bundle file read with no network."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path

from intake.bundle.read import BundleCase, BundleError, open_bundle
from intake.crypto.stream import PART
from intake.storage.cases import Case, canonical_ref, get_case, iter_cases, iter_parts
from intake.storage.notes import Note, case_notes
from intake.storage.threads import Message, mark_read, thread, unread_refs


class DatabaseSource:
    """Cases read straight from the database at `url`."""

    read_only = False

    def __init__(self, url: str) -> None:
        from intake.review.errors import FAILED, ReviewError
        from intake.storage.db import connect
        from intake.storage.instance import sqlite_path

        missing = sqlite_path(url)
        if missing is not None and not missing.is_file():  # SQLite would make an empty file: reading creates nothing
            raise ReviewError(f"no database at {missing}", "check --db (or INTAKE_DATABASE_URL): the server's "
                              "database, made by `intake init`", FAILED)
        self.engine = connect(url)

    def cases(self, status: str | None = None, since: dt.date | None = None) -> Iterator[Case]:
        """Every complete case, oldest first."""
        return iter_cases(self.engine, status, since)

    def case(self, ref: str) -> Case | None:
        """One case by reference, or None."""
        return get_case(self.engine, ref)

    def parts(self, case: Case, idx: int) -> Iterator[bytes]:
        """The sealed parts of one attachment, in order."""
        return iter_parts(self.engine, case.id, idx)

    def message_parts(self, case: Case, seq: int, idx: int) -> Iterator[bytes]:
        """The sealed parts of file `idx` of message `seq` of the case's thread, in order."""
        return iter_parts(self.engine, case.id, idx, seq=seq)

    def notes(self, case: Case) -> list[Note]:
        """The sealed notes of a case, oldest first."""
        return case_notes(self.engine, case.id)

    def thread(self, case: Case) -> list[Message]:
        """The sealed messages of a case, oldest first."""
        return thread(self.engine, case.id)

    def unread(self) -> set[str]:
        """The references of cases with reporter messages nobody has shown yet."""
        return unread_refs(self.engine)

    def mark_read(self, case: Case) -> None:
        """Mark a case's reporter messages read (after `show` printed them)."""
        mark_read(self.engine, case.id)

    def close(self) -> None:
        """Close the database's connections."""
        self.engine.dispose()


class BundleSource:
    """Cases read from a bundle file whose checksum was checked when it was opened (docs/bundle.md)."""

    read_only = True

    def __init__(self, path: Path) -> None:
        self.file, self.manifest, self.entries = open_bundle(path)

    def _read(self, span: tuple[int, int]) -> bytes:
        self.file.seek(span[0])
        return self.file.read(span[1])

    def _case(self, index: int) -> Case:
        e = self.entries[index]
        return Case(index, e.ref, e.received, e.status, e.sealed_by, self._read(e.header), self._read(e.body),
                    tuple(length for _, length in e.attachments))

    def cases(self, status: str | None = None, since: dt.date | None = None) -> Iterator[Case]:
        """Every case of the bundle, in its order, optionally by status and received date."""
        for index, entry in enumerate(self.entries):
            if (not status or entry.status == status) and (not since or entry.received >= since):
                yield self._case(index)

    def case(self, ref: str) -> Case | None:
        """One case by reference, or None."""
        ref = canonical_ref(ref)
        return next((self._case(i) for i, e in enumerate(self.entries) if e.ref == ref), None)

    def parts(self, case: Case, idx: int) -> Iterator[bytes]:
        """The sealed parts of one attachment, 1 MiB at a time."""
        return self._stream(self.entries[case.id].attachments[idx])

    def message_parts(self, case: Case, seq: int, idx: int) -> Iterator[bytes]:
        """The sealed parts of file `idx` of message `seq` (its place is unique in a bundle), 1 MiB at a time."""
        message = next(m for m in self.entries[case.id].thread if m.seq == seq)
        return self._stream(message.attachments[idx])

    def _stream(self, span: tuple[int, int]) -> Iterator[bytes]:
        offset, length = span
        while length:
            self.file.seek(offset)
            data = self.file.read(min(PART, length))
            if not data:
                raise BundleError("the bundle file shrank while it was read: copy it again")
            offset, length = offset + len(data), length - len(data)
            yield data

    def notes(self, case: Case) -> list[Note]:
        """The sealed notes of a case, oldest first."""
        entry: BundleCase = self.entries[case.id]
        return [Note(n.created, self._read(n.header), self._read(n.body)) for n in entry.notes]

    def thread(self, case: Case) -> list[Message]:
        """The sealed messages of a case as exported, oldest first (none from version 1, none with files from 2)."""
        entry: BundleCase = self.entries[case.id]
        return [Message(m.seq, m.sender, m.day, self._read(m.header), self._read(m.body), m.unread,
                        tuple(length for _, length in m.attachments)) for m in entry.thread]

    def unread(self) -> set[str]:
        """The references of cases with reporter messages unread when the bundle was made."""
        return {e.ref for e in self.entries if any(m.unread for m in e.thread)}

    def mark_read(self, case: Case) -> None:
        """A bundle is read-only: nothing to mark."""

    def close(self) -> None:
        """Close the bundle file."""
        self.file.close()

    def keyring_floor(self, signer: str) -> tuple[int, str] | None:
        """The (serial, hash) of the newest keyring of `signer` in use when the bundle was made, or None."""
        found = self.manifest.get("keyrings")
        for row in found if isinstance(found, list) else []:
            if isinstance(row, dict) and row.get("signer") == signer and type(row.get("serial")) is int \
                    and isinstance(row.get("hash"), str):
                return row["serial"], row["hash"]
        return None

    @property
    def import_key(self):  # type: ignore[no-untyped-def]
        """The server's import recipient the bundle carries, for replies files (docs/bundle.md)."""
        from intake.bundle.replies import bundle_import_key

        return bundle_import_key(self.manifest)
