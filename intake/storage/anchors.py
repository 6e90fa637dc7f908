"""The anchors' storage: the sealed items of a day, and each day's anchor (leaves, root, timestamp)."""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Iterator
from dataclasses import dataclass

from sqlalchemy import Engine, delete, func, insert, select, update
from sqlalchemy.exc import IntegrityError

from intake.storage.cases import StorageError, iter_parts
from intake.storage.db import writing
from intake.storage.schema import anchor_items, anchors, attachments, cases, message_attachments, messages

DIGEST = 32
REPORT_SEQ = 0  # a case's own item; its messages keep their seq (1, 2, ...)
CATCH_UP = 31  # days a run goes back for days the timer missed; older ones need `intake anchor --day`


@dataclass(frozen=True)
class Item:
    """One sealed case or message of a day: where it is, and the hashes of its header, body and streams."""

    case_id: int
    seq: int
    header_sha256: bytes
    body_sha256: bytes
    stream_sha256s: tuple[bytes, ...]


@dataclass(frozen=True)
class StoredAnchor:
    """A day's stored anchor."""

    day: dt.date
    partial: bool
    leaves: tuple[bytes, ...]
    root: bytes
    timestamp: bytes | None


def _stream_hashes(engine: Engine, case_id: int, seq: int | None, count: list[int]) -> tuple[bytes, ...]:
    out = []
    for idx in count:
        digest = hashlib.sha256()
        for part in iter_parts(engine, case_id, idx, seq):
            digest.update(part)
        out.append(digest.digest())
    return tuple(out)


def _streams(engine: Engine, case_id: int, seq: int) -> tuple[bytes, ...]:
    with engine.connect() as conn:
        if seq == REPORT_SEQ:
            idxs = conn.execute(select(attachments.c.idx).where(attachments.c.case_id == case_id)
                                .order_by(attachments.c.idx)).scalars().all()
        else:
            idxs = conn.execute(select(message_attachments.c.idx).where(
                message_attachments.c.case_id == case_id, message_attachments.c.seq == seq)
                .order_by(message_attachments.c.idx)).scalars().all()
    return _stream_hashes(engine, case_id, None if seq == REPORT_SEQ else seq, list(idxs))


def _item(engine: Engine, case_id: int, seq: int, header: bytes, body: bytes) -> Item:
    return Item(case_id, seq, hashlib.sha256(header).digest(), hashlib.sha256(body).digest(),
                _streams(engine, case_id, seq))


def day_items(engine: Engine, day: dt.date) -> Iterator[Item]:
    """Every complete case received on `day` and every message stored on `day`, with its hashes."""
    with engine.connect() as conn:
        reports = conn.execute(select(cases.c.id).where(cases.c.complete.is_(True), cases.c.received == day)
                               ).scalars().all()
        notes = conn.execute(select(messages.c.case_id, messages.c.seq).where(messages.c.day == day)).all()
    for case_id in reports:
        with engine.connect() as conn:
            row = conn.execute(select(cases.c.header, cases.c.body).where(cases.c.id == case_id)).one_or_none()
        if row is not None:
            yield _item(engine, case_id, REPORT_SEQ, row.header, row.body)
    for case_id, seq in notes:
        with engine.connect() as conn:
            row = conn.execute(select(messages.c.header, messages.c.body).where(
                messages.c.case_id == case_id, messages.c.seq == seq)).one_or_none()
        if row is not None:
            yield _item(engine, case_id, seq, row.header, row.body)


def get_anchor(engine: Engine, day: dt.date) -> StoredAnchor | None:
    """The anchor stored for `day`, if any."""
    with engine.connect() as conn:
        row = conn.execute(select(anchors).where(anchors.c.day == day)).one_or_none()
    if row is None:
        return None
    leaves = tuple(row.leaves[i:i + DIGEST] for i in range(0, len(row.leaves), DIGEST))
    return StoredAnchor(row.day, row.partial, leaves, row.root, row.timestamp)


def put_anchor(engine: Engine, anchor: StoredAnchor, items: list[Item]) -> StoredAnchor:
    """Store `anchor` for its day with the items it holds, in place of a partial anchor of that day; return the
    anchor the day keeps. A whole anchor is never replaced: when another run stored one meanwhile (two runs at
    once, or a partial run begun before midnight), that one is kept and returned."""
    for _ in range(2):
        try:
            with writing(engine) as conn:
                held = select(anchors.c.partial).where(anchors.c.day == anchor.day)
                if engine.dialect.name == "postgresql":
                    held = held.with_for_update()
                if conn.execute(held).scalar_one_or_none() is False:
                    break
                conn.execute(delete(anchor_items).where(anchor_items.c.day == anchor.day))
                conn.execute(delete(anchors).where(anchors.c.day == anchor.day))
                conn.execute(insert(anchors).values(day=anchor.day, partial=anchor.partial,
                                                    leaves=b"".join(anchor.leaves), root=anchor.root,
                                                    timestamp=anchor.timestamp))
                if items:
                    conn.execute(insert(anchor_items), [{"case_id": i.case_id, "seq": i.seq, "day": anchor.day,
                                                         "header_sha256": i.header_sha256} for i in items])
            return anchor
        except IntegrityError:  # PostgreSQL: another run inserted the day's first anchor meanwhile
            continue
    kept = get_anchor(engine, anchor.day)
    if kept is None or kept.partial:
        raise StorageError(f"the anchor of {anchor.day} kept changing while it was stored: run it again")
    return kept


def days_behind(engine: Engine, last: dt.date, stamping: bool) -> list[dt.date]:
    """The ended days up to `last` a run must anchor: `last`, every day after the newest whole anchor (the timer
    missed a run: the machine was off, the run failed), and, when `stamping`, each whole anchor still unstamped;
    none more than CATCH_UP days before `last`."""
    with engine.connect() as conn:
        newest = conn.execute(select(func.max(anchors.c.day)).where(anchors.c.partial.is_(False))).scalar()
        unstamped = conn.execute(select(anchors.c.day).where(anchors.c.partial.is_(False), anchors.c.day < last,
                                                             anchors.c.timestamp.is_(None))).scalars().all()
    days = {last, *(unstamped if stamping else ())}
    if newest is not None:
        since = max(newest, last - dt.timedelta(days=CATCH_UP))
        days |= {since + dt.timedelta(days=n) for n in range(1, (last - since).days)}
    return sorted(d for d in days if d >= last - dt.timedelta(days=CATCH_UP))


def put_timestamp(engine: Engine, day: dt.date, root: bytes, timestamp: bytes) -> None:
    """Add the timestamp of `root` to a day's stored anchor, only while that anchor has that root."""
    with writing(engine) as conn:
        conn.execute(update(anchors).where(anchors.c.day == day, anchors.c.root == root).values(timestamp=timestamp))


def anchored_item(engine: Engine, case_id: int, seq: int = REPORT_SEQ) -> tuple[dt.date, Item] | None:
    """The day that anchors a case (or one of its messages) and its item: the header hash as anchored, the body
    and streams hashed as stored now."""
    with engine.connect() as conn:
        row = conn.execute(select(anchor_items.c.day, anchor_items.c.header_sha256).where(
            anchor_items.c.case_id == case_id, anchor_items.c.seq == seq)).one_or_none()
        if row is None:
            return None
        table = cases if seq == REPORT_SEQ else messages
        where = [cases.c.id == case_id] if seq == REPORT_SEQ else [messages.c.case_id == case_id,
                                                                   messages.c.seq == seq]
        body = conn.execute(select(table.c.body).where(*where)).scalar_one_or_none()
    if body is None:
        return None
    return row.day, Item(case_id, seq, row.header_sha256, hashlib.sha256(body).digest(),
                         _streams(engine, case_id, seq))
