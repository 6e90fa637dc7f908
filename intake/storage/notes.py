"""Sealed triage notes of a case, and status changes that store one atomically."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import Engine, insert, select, update

from intake.clock import today
from intake.storage.cases import STATUSES, StorageError
from intake.storage.db import writing
from intake.storage.schema import cases, notes


@dataclass(frozen=True)
class Note:
    """A stored note, still sealed (docs/format.md header and body, no attachments)."""

    created: dt.date
    header: bytes
    body: bytes


def case_notes(engine: Engine, case_id: int) -> list[Note]:
    """The sealed notes of a case, oldest first."""
    with engine.connect() as conn:
        rows = conn.execute(select(notes.c.created, notes.c.header, notes.c.body)
                            .where(notes.c.case_id == case_id).order_by(notes.c.id)).all()
    return [Note(*row) for row in rows]


def noted_cases(engine: Engine) -> frozenset[int]:
    """The ids of the cases that have at least one note (or tag entry)."""
    with engine.connect() as conn:
        return frozenset(conn.execute(select(notes.c.case_id).distinct()).scalars())


def triage(engine: Engine, ref: str, status: str, note: tuple[bytes, bytes] | None = None,
           day: dt.date | None = None) -> None:
    """Set a complete case's status and store its sealed note (header, body) of `day` (today), in one transaction."""
    if status not in STATUSES:
        raise StorageError(f"unknown status {status!r}: use one of {', '.join(STATUSES)}")
    with writing(engine) as conn:
        case_id = conn.execute(select(cases.c.id).where(cases.c.ref == ref.strip().upper(),
                                                        cases.c.complete.is_(True))).scalar()
        if case_id is None:
            raise StorageError(f"no case {ref}")
        conn.execute(update(cases).where(cases.c.id == case_id).values(status=status))
        if note is not None:
            conn.execute(insert(notes).values(case_id=case_id, created=day or today(), header=note[0], body=note[1]))
