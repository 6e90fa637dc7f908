"""Reading sealed cases, and swapping their headers (rewrap); lifecycle.py stores them."""

from __future__ import annotations

import datetime as dt
import secrets
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

from sqlalchemy import Engine, Row, Table, bindparam, delete, func, insert, select, tuple_, update

from intake.crypto.stream import PART
from intake.errors import IntakeError
from intake.storage.db import writing
from intake.storage.schema import (
    attachments,
    case_keys,
    cases,
    message_attachments,
    message_parts,
    messages,
    notes,
    parts,
)

REF_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
STATUSES = ("new", "in review", "needs follow-up", "closed", "spam")
CARRIER = "message"  # sealed_by of a carrier: a follow-up's files on their way in (storage/followups.py)


class StorageError(IntakeError, ValueError):
    """A case could not be stored as asked."""


def state_named(text: str) -> str | None:
    """The stored state a typed one names, or None: hyphens, underscores or spaces between its words, any case
    (`in-review`, `in_review` and `In Review` all name "in review")."""
    def key(state: str) -> str:
        return " ".join(state.replace("_", " ").replace("-", " ").lower().split())

    return next((state for state in STATUSES if key(state) == key(text)), None)


@dataclass(frozen=True)
class Case:
    """A stored case, still sealed; attachment parts are read one at a time."""

    id: int
    ref: str
    received: dt.date
    status: str
    sealed_by: str
    header: bytes
    body: bytes
    lengths: tuple[int, ...]


def new_ref() -> str:
    """A random public case reference: 12 characters of Crockford base32 (60 bits)."""
    bits = secrets.randbits(60)
    raw = "".join(REF_ALPHABET[(bits >> (5 * i)) & 31] for i in range(12))
    return "-".join(raw[i:i + 4] for i in range(0, 12, 4))


def canonical_ref(text: str) -> str:
    """A reference as typed (any case, with or without dashes or spaces; O for 0, I or L for 1, as Crockford
    base32 reads them) in its stored form `ABCD-EFGH-JKMN`; other text comes back upper-cased."""
    raw = "".join(c for c in text.upper() if c not in "- \t").translate(str.maketrans("OIL", "011"))
    if len(raw) == 12 and all(c in REF_ALPHABET for c in raw):
        return "-".join(raw[i:i + 4] for i in range(0, 12, 4))
    return text.strip().upper()


def part_count(length: int) -> int:
    """How many 1 MiB parts a stream of `length` bytes is stored in (format.md §7)."""
    return max(1, -(-length // PART))


_LISTED = (cases.c.id, cases.c.ref, cases.c.received, cases.c.status, cases.c.sealed_by, cases.c.header, cases.c.body)


def _case(conn, row: Row) -> Case:
    lengths = conn.execute(select(attachments.c.length).where(attachments.c.case_id == row.id)
                           .order_by(attachments.c.idx)).scalars().all()
    return Case(row.id, row.ref, row.received, row.status, row.sealed_by, row.header, row.body, tuple(lengths))


def iter_cases(engine: Engine, status: str | None = None, since: dt.date | None = None,
               batch: int = 1000) -> Iterator[Case]:
    """Yield every complete case, oldest day first (random order within a day), optionally by status and received date.

    Cases are read `batch` at a time along the listing index (migration 0008), with the attachment
    lengths of the same range in one more query, so memory stays bounded, no batch sorts the table,
    and no connection is held while the caller works on a case.
    """
    query = select(*_LISTED).where(cases.c.complete.is_(True)).order_by(cases.c.received, cases.c.id).limit(batch)
    if status:
        query = query.where(cases.c.status == status)
    if since:
        query = query.where(cases.c.received >= since)
    place = tuple_(cases.c.received, cases.c.id)
    after = (dt.date.min, 0)
    while True:
        with engine.connect() as conn:
            rows = conn.execute(query.where(place > after)).all()
            if not rows:
                return
            last = (rows[-1].received, rows[-1].id)
            lengths: dict[int, list[int]] = {}
            found = (select(attachments.c.case_id, attachments.c.length)
                     .join(cases, cases.c.id == attachments.c.case_id)
                     .where(cases.c.complete.is_(True), place > after, place <= last)
                     .order_by(attachments.c.case_id, attachments.c.idx))
            for case_id, length in conn.execute(found):
                lengths.setdefault(case_id, []).append(length)
        for row in rows:
            yield Case(*row, tuple(lengths.get(row[0], ())))
        after = last


def get_case(engine: Engine, ref: str) -> Case | None:
    """Return the complete case with that reference, or None."""
    with engine.connect() as conn:
        row = conn.execute(select(cases).where(cases.c.ref == canonical_ref(ref), cases.c.complete.is_(True))).first()
        return _case(conn, row) if row else None


def iter_parts(engine: Engine, case_id: int, idx: int, seq: int | None = None) -> Iterator[bytes]:
    """Yield the stored parts of a case's attachment (or of message `seq`'s) in order, one query each,
    so memory stays at one part."""
    table, stream = parts, [parts.c.case_id == case_id, parts.c.idx == idx]
    with engine.connect() as conn:
        if seq is not None:  # a follow-up's file: its parts are keyed by its stream's id (storage/followups.py)
            table, stream = message_parts, [message_parts.c.stream == conn.execute(
                select(message_attachments.c.stream).where(message_attachments.c.case_id == case_id,
                                                           message_attachments.c.seq == seq,
                                                           message_attachments.c.idx == idx)).scalar()]
        numbers = conn.execute(select(table.c.part).where(*stream).order_by(table.c.part)).scalars().all()
    for number in numbers:
        with engine.connect() as conn:
            yield conn.execute(select(table.c.data).where(*stream, table.c.part == number)).scalar_one()


def _swap(conn, table: Table, swaps: Sequence[tuple[int, bytes, bytes]]) -> list[int]:
    """Swap each row's header only where it is still the old one (one batched statement); return the ids swapped."""
    if not swaps:
        return []
    conn.execute(update(table).where(table.c.id == bindparam("row_id"), table.c.header == bindparam("old"))
                 .values(header=bindparam("new")), [{"row_id": i, "old": old, "new": new} for i, old, new in swaps])
    now = dict(conn.execute(select(table.c.id, table.c.header).where(table.c.id.in_([i for i, _, _ in swaps]))).all())
    return [i for i, _, new in swaps if now.get(i) == new]


def replace_headers(engine: Engine, swaps: Sequence[tuple[int, bytes, bytes]], key_ids: Sequence[str]) -> int:
    """Swap many cases' headers (id, old, new) and their case_keys in one transaction; return how many."""
    with writing(engine) as conn:
        done = _swap(conn, cases, swaps)
        if done:
            conn.execute(delete(case_keys).where(case_keys.c.case_id.in_(done)))
            conn.execute(insert(case_keys), [{"case_id": c, "key_id": k} for c in done for k in key_ids])
    return len(done)


def replace_note_headers(engine: Engine, swaps: Sequence[tuple[int, bytes, bytes]]) -> int:
    """Swap many notes' headers (id, old, new) in one transaction, each only if still old; return how many."""
    with writing(engine) as conn:
        return len(_swap(conn, notes, swaps))


def header_pages(engine: Engine, of_notes: bool, size: int) -> Iterator[list[tuple[int, str, bytes]]]:
    """Yield every stored case (or note) as pages of (id, label, header), in id order, one query a page."""
    table = notes if of_notes else cases
    query = select(table.c.id, cases.c.ref, table.c.header)
    if of_notes:
        query = query.join(cases, cases.c.id == notes.c.case_id)
    else:  # a carrier holds a message header (stanza 0 is the reporter's), and a case sealed on arrival has no
        # header until it completes: both are checked against the keyring as they commit
        query = query.where(cases.c.sealed_by != CARRIER, func.length(cases.c.header) > 0)
    last = 0
    while True:
        with engine.connect() as conn:
            rows = conn.execute(query.where(table.c.id > last).order_by(table.c.id).limit(size)).all()
        if not rows:
            return
        yield [(i, f"note {i} of case {ref}" if of_notes else ref, header) for i, ref, header in rows]
        last = rows[-1][0]


def count_headers(engine: Engine) -> int:
    """How many cases (complete or not, carriers aside), notes and thread messages are stored."""
    with engine.connect() as conn:
        carriers = conn.execute(select(func.count()).where(cases.c.sealed_by == CARRIER)).scalar_one()
        return sum(conn.execute(select(func.count()).select_from(t)).scalar_one()
                   for t in (cases, notes, messages)) - carriers


def count_by_key(engine: Engine) -> dict[str, int]:
    """How many stored cases each key id can open, from the case_keys rows."""
    with engine.connect() as conn:
        rows = conn.execute(select(case_keys.c.key_id, func.count()).group_by(case_keys.c.key_id)).all()
    return {key_id: count for key_id, count in rows}
