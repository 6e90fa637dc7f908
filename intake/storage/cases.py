"""Storing and reading sealed cases: whole cases, uploads in parts, and rewrapped headers."""

from __future__ import annotations

import datetime as dt
import secrets
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass

from sqlalchemy import Connection, Engine, Row, Table, and_, bindparam, delete, func, insert, select, tuple_, update

from intake.crypto.stream import PART, plain_size
from intake.storage.budgets import age_uploads, truncate_wal
from intake.storage.db import writing
from intake.storage.schema import attachments, case_keys, cases, notes, parts

REF_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
STATUSES = ("new", "in review", "needs follow-up", "closed", "spam")
ID_SPACE = (1 << 31) - 1


class StorageError(ValueError):
    """A case could not be stored as asked."""


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


def today() -> dt.date:
    """The received date stored for a case: the UTC day, nothing finer."""
    return dt.datetime.now(dt.timezone.utc).date()


def new_ref() -> str:
    """A random public case reference: 12 characters of Crockford base32 (60 bits)."""
    bits = secrets.randbits(60)
    raw = "".join(REF_ALPHABET[(bits >> (5 * i)) & 31] for i in range(12))
    return "-".join(raw[i:i + 4] for i in range(0, 12, 4))


def new_id(conn: Connection) -> int:
    """A random case id not in use: ids in arrival order would keep the order of arrival (docs/web.md, "Floods")."""
    while True:
        case_id = secrets.randbelow(ID_SPACE) + 1
        if conn.execute(select(cases.c.id).where(cases.c.id == case_id)).first() is None:
            return case_id


def part_count(length: int) -> int:
    """How many 1 MiB parts a stream of `length` bytes is stored in (format.md §7)."""
    return max(1, -(-length // PART))


def insert_case(conn: Connection, header: bytes, body: bytes, sealed_by: str, key_ids: Sequence[str],
                lengths: Sequence[int], complete: bool) -> tuple[int, str, str | None]:
    """Insert a case with its attachment and key rows in `conn`'s transaction; return its id, ref and upload token."""
    for length in lengths:
        if plain_size(length) is None:
            raise StorageError(f"an attachment of {length} sealed bytes is not a valid stream")
    token = None if complete else secrets.token_hex(32)
    ref = new_ref()
    case_id = new_id(conn)
    conn.execute(insert(cases), {
        "id": case_id, "ref": ref, "received": today(), "status": "new", "sealed_by": sealed_by, "header": header,
        "body": body, "complete": complete, "upload_token": token, "idle": 0})
    if lengths:
        conn.execute(insert(attachments), [{"case_id": case_id, "idx": i, "length": n} for i, n in enumerate(lengths)])
    conn.execute(insert(case_keys), [{"case_id": case_id, "key_id": k} for k in key_ids])
    return case_id, ref, token


def begin_case(engine: Engine, header: bytes, body: bytes, sealed_by: str, key_ids: Sequence[str],
               lengths: Sequence[int]) -> tuple[int, str, str | None]:
    """Store an incomplete case, invisible until `complete_case`; return its id, ref and upload token."""
    with writing(engine) as conn:
        return insert_case(conn, header, body, sealed_by, key_ids, lengths, complete=False)


def put_part(engine: Engine, case_id: int, idx: int, part: int, data: bytes) -> None:
    """Store one part of an attachment of an incomplete case (idempotent for the same bytes)."""
    with writing(engine) as conn:
        length = conn.execute(select(attachments.c.length).join(cases, cases.c.id == attachments.c.case_id).where(
            attachments.c.case_id == case_id, attachments.c.idx == idx, cases.c.complete.is_(False))).scalar()
        if length is None:
            raise StorageError("no upload waits for that attachment")
        _check_part(length, part, data)
        conn.execute(update(cases).where(cases.c.id == case_id, cases.c.idle != 0).values(idle=0))
        key = and_(parts.c.case_id == case_id, parts.c.idx == idx, parts.c.part == part)
        if conn.execute(select(func.count()).select_from(parts).where(key)).scalar():
            conn.execute(update(parts).where(key).values(data=data))
        else:
            conn.execute(insert(parts).values(case_id=case_id, idx=idx, part=part, data=data))


def _check_part(length: int, part: int, data: bytes) -> None:
    """Every part but the last is exactly 1 MiB, the last holds the rest (format.md §7)."""
    expected = max(min(PART, length - part * PART), 0)
    if not 0 <= part < part_count(length) or len(data) != expected:
        raise StorageError(f"part {part} of this attachment must be {expected} bytes, not {len(data)}")


def missing_parts(engine: Engine, case_id: int) -> dict[int, list[int]]:
    """For each attachment of a case, the part numbers not stored yet."""
    with engine.connect() as conn:
        lengths = dict(conn.execute(select(attachments.c.idx, attachments.c.length).where(attachments.c.case_id == case_id)).all())
        have = set(conn.execute(select(parts.c.idx, parts.c.part).where(parts.c.case_id == case_id)).all())
    return {idx: [p for p in range(part_count(n)) if (idx, p) not in have] for idx, n in sorted(lengths.items())}


def complete_case(engine: Engine, case_id: int) -> str:
    """Make an incomplete case visible once every part is stored; return its ref."""
    if any(missing_parts(engine, case_id).values()):
        raise StorageError("the upload is not complete: send the missing parts first")
    with writing(engine) as conn:
        done = conn.execute(update(cases).where(cases.c.id == case_id, cases.c.complete.is_(False)).values(
            complete=True, upload_token=None, idle=0, received=today()))
        if done.rowcount != 1:
            raise StorageError("no upload waits with that id")
        return conn.execute(select(cases.c.ref).where(cases.c.id == case_id)).scalar_one()


def store_case(engine: Engine, header: bytes, body: bytes, sealed_by: str, key_ids: Sequence[str],
               streams: Sequence[tuple[int, Iterable[bytes]]]) -> str:
    """Store a whole case in one transaction, streams given as (length, parts of 1 MiB); return its ref.

    The parts must be at hand: a slow upload goes through begin_case, put_part and complete_case
    instead, so that no transaction stays open while a reporter's connection trickles.
    """
    with writing(engine) as conn:
        case_id, ref, _ = insert_case(conn, header, body, sealed_by, key_ids, [n for n, _ in streams], complete=True)
        for idx, (length, chunks) in enumerate(streams):
            count = 0
            for number, data in enumerate(chunks):
                _check_part(length, number, data)
                conn.execute(insert(parts).values(case_id=case_id, idx=idx, part=number, data=data))
                count += 1
            if count != part_count(length):
                raise StorageError(f"attachment {idx} needs {part_count(length)} parts, not {count}")
    return ref


def discard(engine: Engine, case_id: int) -> None:
    """Delete an incomplete case and everything stored for it."""
    with writing(engine) as conn:
        conn.execute(delete(parts).where(parts.c.case_id == case_id))
        conn.execute(delete(cases).where(cases.c.id == case_id, cases.c.complete.is_(False)))


def expire_uploads(engine: Engine, every: bool = False) -> int:
    """Sweep now (storage/budgets.py): expire uploads idle for IDLE_SWEEPS sweeps, or `every` incomplete one.

    `every` is for a server that is stopped (after a crash): it would also cut uploads under way.
    """
    with writing(engine) as conn:
        stale = age_uploads(conn, every)
    for case_id in stale:
        discard(engine, case_id)
    truncate_wal(engine)
    return len(stale)


def _case(conn, row: Row) -> Case:
    lengths = conn.execute(select(attachments.c.length).where(attachments.c.case_id == row.id).order_by(attachments.c.idx)).scalars().all()
    return Case(row.id, row.ref, row.received, row.status, row.sealed_by, row.header, row.body, tuple(lengths))


def iter_cases(engine: Engine, status: str | None = None, since: dt.date | None = None,
               batch: int = 500) -> Iterator[Case]:
    """Yield every complete case, oldest day first (random order within a day), optionally by status and received date.

    Cases are read `batch` at a time (with their attachment lengths in one more query), so memory
    stays bounded and no connection is held while the caller works on a case.
    """
    query = select(cases).where(cases.c.complete.is_(True)).order_by(cases.c.received, cases.c.id).limit(batch)
    if status:
        query = query.where(cases.c.status == status)
    if since:
        query = query.where(cases.c.received >= since)
    after = (dt.date.min, 0)
    while True:
        with engine.connect() as conn:
            rows = conn.execute(query.where(tuple_(cases.c.received, cases.c.id) > after)).all()
            if not rows:
                return
            lengths: dict[int, list[int]] = {row.id: [] for row in rows}
            found = select(attachments.c.case_id, attachments.c.length).where(
                attachments.c.case_id.in_(list(lengths))).order_by(attachments.c.case_id, attachments.c.idx)
            for case_id, length in conn.execute(found):
                lengths[case_id].append(length)
        for row in rows:
            yield Case(row.id, row.ref, row.received, row.status, row.sealed_by, row.header, row.body,
                       tuple(lengths[row.id]))
        after = (rows[-1].received, rows[-1].id)


def get_case(engine: Engine, ref: str) -> Case | None:
    """Return the complete case with that reference, or None."""
    with engine.connect() as conn:
        row = conn.execute(select(cases).where(cases.c.ref == ref.strip().upper(), cases.c.complete.is_(True))).first()
        return _case(conn, row) if row else None


def iter_parts(engine: Engine, case_id: int, idx: int) -> Iterator[bytes]:
    """Yield an attachment's stored parts in order, one query each, so memory stays at one part."""
    with engine.connect() as conn:
        numbers = conn.execute(select(parts.c.part).where(parts.c.case_id == case_id, parts.c.idx == idx).order_by(parts.c.part)).scalars().all()
    for number in numbers:
        with engine.connect() as conn:
            yield conn.execute(select(parts.c.data).where(parts.c.case_id == case_id, parts.c.idx == idx, parts.c.part == number)).scalar_one()


def replace_header(engine: Engine, case_id: int, old: bytes, new: bytes, key_ids: Sequence[str]) -> bool:
    """Atomically swap a case's header (rewrap) if it is still `old`; return whether it was swapped."""
    return replace_headers(engine, [(case_id, old, new)], key_ids) == 1


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
    last = 0
    while True:
        with engine.connect() as conn:
            rows = conn.execute(query.where(table.c.id > last).order_by(table.c.id).limit(size)).all()
        if not rows:
            return
        yield [(i, f"note {i} of case {ref}" if of_notes else ref, header) for i, ref, header in rows]
        last = rows[-1][0]


def count_headers(engine: Engine) -> int:
    """How many cases and notes are stored, complete or not."""
    with engine.connect() as conn:
        return sum(conn.execute(select(func.count()).select_from(t)).scalar_one() for t in (cases, notes))


def set_status(engine: Engine, ref: str, status: str) -> None:
    """Set a complete case's triage status."""
    if status not in STATUSES:
        raise StorageError(f"unknown status {status!r}: use one of {', '.join(STATUSES)}")
    with writing(engine) as conn:
        done = conn.execute(update(cases).where(cases.c.ref == ref.strip().upper(), cases.c.complete.is_(True)).values(status=status))
        if done.rowcount != 1:
            raise StorageError(f"no case {ref}")


def count_by_key(engine: Engine) -> dict[str, int]:
    """How many stored cases each key id can open, from the case_keys rows."""
    with engine.connect() as conn:
        rows = conn.execute(select(case_keys.c.key_id, func.count()).group_by(case_keys.c.key_id)).all()
    return {key_id: count for key_id, count in rows}
