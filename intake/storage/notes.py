"""Sealed triage notes of a case, and status changes that store one atomically."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import Engine, func, insert, or_, select, update

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


def import_notes(engine: Engine, rows: list[tuple[int, dt.date, bytes, bytes, str | None, str | None]]):  # noqa: ANN201
    """Store sealed notes and tag entries carried from a bundle (case id, day, header, body, state, state in the
    bundle), in one transaction. A row whose header or body the case already has is skipped, with its state (an old
    replies file imported again after a rewrap changed the headers stores nothing twice). A state is
    set only where the case is still in the state the bundle had (a newer change on the server wins).
    Return (the rows stored, how many were already, (case id, state asked, state kept) for each kept)."""
    added, kept = [], []
    with writing(engine) as conn:
        if engine.dialect.name == "postgresql":  # two imports of one file at once: the second waits, stores nothing
            for case_id in sorted({row[0] for row in rows}):
                conn.execute(select(cases.c.id).where(cases.c.id == case_id).with_for_update())
        for row in rows:
            case_id, day, header, body, state, was = row
            if conn.execute(select(notes.c.id).where(notes.c.case_id == case_id, or_(
                    notes.c.header == header, notes.c.body == body))).first():  # a rewrap changes headers only
                continue
            conn.execute(insert(notes).values(case_id=case_id, created=day, header=header, body=body))
            added.append(row)
            if state is not None:
                conn.execute(update(cases).where(cases.c.id == case_id, cases.c.status == was).values(status=state))
                now = conn.execute(select(cases.c.status).where(cases.c.id == case_id)).scalar_one()
                if now != state:
                    kept.append((case_id, state, now))
    return added, len(rows) - len(added), kept


def add_note(engine: Engine, case_id: int, note: tuple[bytes, bytes], day: dt.date) -> None:
    """Store one sealed note or tag entry (header, body) of `day` on a case."""
    with writing(engine) as conn:
        conn.execute(insert(notes).values(case_id=case_id, created=day, header=note[0], body=note[1]))


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


class NotesMoved(StorageError):
    """Another note of the case was stored since its notes were read: read them again and seal anew."""


def append_note(engine: Engine, case_id: int, header: bytes, body: bytes, day: dt.date, after: int) -> None:
    """Store a sealed note of `day` on a case, only if the case still has exactly `after` notes (else NotesMoved):
    a hash-chained record (the custody record, docs/review.md) never forks under two writers at once."""
    with writing(engine) as conn:
        if engine.dialect.name == "postgresql":
            conn.execute(select(cases.c.id).where(cases.c.id == case_id).with_for_update())
        held = conn.execute(select(func.count()).select_from(notes).where(notes.c.case_id == case_id)).scalar()
        if held != after:
            raise NotesMoved(f"the case gained a note while this one was sealed ({held} notes, not {after})")
        conn.execute(insert(notes).values(case_id=case_id, created=day, header=header, body=body))
