"""Where cases come from: the server's database, or a sealed bundle file read with no network."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path

from intake.bundle.read import BundleCase, BundleError, open_bundle
from intake.crypto.stream import PART
from intake.storage.cases import Case, get_case, iter_cases, iter_parts
from intake.storage.notes import Note, case_notes


class DatabaseSource:
    """Cases read straight from the database at `url`."""

    read_only = False

    def __init__(self, url: str) -> None:
        from intake.storage.db import connect

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

    def notes(self, case: Case) -> list[Note]:
        """The sealed notes of a case, oldest first."""
        return case_notes(self.engine, case.id)


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
        ref = ref.strip().upper()
        return next((self._case(i) for i, e in enumerate(self.entries) if e.ref == ref), None)

    def parts(self, case: Case, idx: int) -> Iterator[bytes]:
        """The sealed parts of one attachment, 1 MiB at a time."""
        offset, length = self.entries[case.id].attachments[idx]
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
