"""Threads of cases: the codename salt, the lookup hash that finds a case, and its sealed messages (format.md §12)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import ColumnElement, Connection, Engine, bindparam, func, insert, or_, select, update
from sqlalchemy.exc import IntegrityError

from intake.clock import today
from intake.crypto.envelope import parse_header
from intake.crypto.errors import CryptoError
from intake.storage.cases import StorageError
from intake.storage.db import writing
from intake.storage.schema import case_lookups, cases, codename_salt, message_attachments, messages

MAX_MESSAGES = 500
MAX_THREAD_BYTES = 16 << 20  # the sealed headers and bodies of one thread, all a reporter's read may page through
PAGE_BYTES = 2 << 20  # the sealed bytes one read of a thread loads at most (one message more when it alone is larger)


class ThreadFull(StorageError):
    """The thread holds as many messages or bytes as one case keeps."""


@dataclass(frozen=True)
class Message:
    """A stored message, still sealed: its place in the thread, sender, day, header, body and stream lengths."""

    seq: int
    sender: str
    day: dt.date
    header: bytes
    body: bytes
    unread: bool
    lengths: tuple[int, ...] = ()


def salt(engine: Engine) -> bytes:
    """The instance's codename salt, made once by the migration that created the table (public)."""
    with engine.connect() as conn:
        return conn.execute(select(codename_salt.c.salt).where(codename_salt.c.id == 1)).scalar_one()


def case_by_lookup(engine: Engine, lookup: bytes) -> tuple[int, str, str] | None:
    """The complete case (id, ref, status) whose codename has this lookup, or None."""
    with engine.connect() as conn:
        row = conn.execute(select(cases.c.id, cases.c.ref, cases.c.status)
                           .join(case_lookups, case_lookups.c.case_id == cases.c.id)
                           .where(case_lookups.c.lookup == lookup, cases.c.complete.is_(True))).first()
    return tuple(row) if row else None  # type: ignore[return-value]


def reporter_key_id(engine: Engine, case_id: int) -> str | None:
    """The key id of the case's reporter's stanza (header version 2 or 3, format.md §4.1), which a follow-up's
    stanza 0 must carry (§12.4); None for a case without one."""
    with engine.connect() as conn:
        header = conn.execute(select(cases.c.header).where(cases.c.id == case_id)).scalar_one_or_none()
    try:
        return parse_header(header).reporter if header is not None else None
    except CryptoError:
        return None


def thread(engine: Engine, case_id: int) -> list[Message]:
    """The sealed messages of a case, oldest first."""
    with engine.connect() as conn:
        rows = conn.execute(select(messages.c.seq, messages.c.sender, messages.c.day, messages.c.header,
                                   messages.c.body, messages.c.unread)
                            .where(messages.c.case_id == case_id).order_by(messages.c.seq)).all()
        streams: dict[int, list[int]] = {}
        for seq, length in conn.execute(select(message_attachments.c.seq, message_attachments.c.length)
                                        .where(message_attachments.c.case_id == case_id)
                                        .order_by(message_attachments.c.seq, message_attachments.c.idx)):
            streams.setdefault(seq, []).append(length)
    return [Message(*row, lengths=tuple(streams.get(row.seq, ()))) for row in rows]


def _sealed_size() -> ColumnElement[int]:
    return func.length(messages.c.header) + func.length(messages.c.body)


def make_room(conn: Connection, case_id: int, size: int) -> int:
    """The place of a message of `size` sealed bytes in a complete case's thread, or ThreadFull / StorageError."""
    if conn.execute(select(cases.c.id).where(cases.c.id == case_id, cases.c.complete.is_(True))).first() is None:
        raise StorageError("no such case: it may have been deleted")
    count, last, used = conn.execute(select(func.count(), func.coalesce(func.max(messages.c.seq), 0),
                                            func.coalesce(func.sum(_sealed_size()), 0))
                                     .where(messages.c.case_id == case_id)).one()
    if count >= MAX_MESSAGES or used + size > MAX_THREAD_BYTES:
        raise ThreadFull(f"this thread is full: the most one case keeps is {MAX_MESSAGES} messages and "
                         f"{MAX_THREAD_BYTES >> 20} MiB sealed (it has {count} and {used} bytes); nothing was stored: "
                         "the reporter can send a new report")
    return last + 1


def thread_page(engine: Engine, case_id: int, after: int = 0, before: int | None = None,
                budget: int = PAGE_BYTES) -> tuple[list[Message], bool]:
    """A page of a thread, oldest first, of at most `budget` sealed bytes (at least one message), and whether
    more remain: the messages after place `after`, or the newest before place `before` (when given)."""
    newest_first = before is not None
    with engine.connect() as conn:
        where = [messages.c.case_id == case_id, messages.c.seq > after]
        if newest_first:
            where.append(messages.c.seq < before)
        sizes = conn.execute(select(messages.c.seq, _sealed_size()).where(*where).order_by(
            messages.c.seq.desc() if newest_first else messages.c.seq)).all()
        taken, used = [], 0
        for seq, size in sizes:
            if taken and used + size > budget:
                break
            taken.append(seq)
            used += size
        if not taken:
            return [], False
        low, high = min(taken), max(taken)
        rows = conn.execute(select(messages.c.seq, messages.c.sender, messages.c.day, messages.c.header,
                                   messages.c.body, messages.c.unread)
                            .where(messages.c.case_id == case_id, messages.c.seq.between(low, high))
                            .order_by(messages.c.seq)).all()
        streams: dict[int, list[int]] = {}
        for seq, length in conn.execute(select(message_attachments.c.seq, message_attachments.c.length)
                                        .where(message_attachments.c.case_id == case_id,
                                               message_attachments.c.seq.between(low, high))
                                        .order_by(message_attachments.c.seq, message_attachments.c.idx)):
            streams.setdefault(seq, []).append(length)
    return [Message(*row, lengths=tuple(streams.get(row.seq, ()))) for row in rows], len(taken) < len(sizes)


def has_room(engine: Engine, case_id: int, size: int) -> bool:
    """Whether a message of `size` sealed bytes fits in the case's thread now (checked again when it is stored)."""
    try:
        with engine.connect() as conn:
            make_room(conn, case_id, size)
    except ThreadFull:
        return False
    return True


def append_message(conn: Connection, case_id: int, sender: str, header: bytes, body: bytes) -> int:
    """Append a sealed message to a complete case's thread in `conn`'s transaction; return its place."""
    if sender not in ("reviewer", "reporter"):
        raise StorageError(f"a message is from a reviewer or a reporter, not {sender!r}")
    # PostgreSQL: one message of a case at a time (its row locked; FOR NO KEY UPDATE lets key checks by), so a
    # follow-up delivered while replies are imported, or two at once, never take the same place
    conn.execute(select(cases.c.id).where(cases.c.id == case_id).with_for_update(key_share=True))
    last = make_room(conn, case_id, len(header) + len(body)) - 1
    try:
        conn.execute(insert(messages).values(case_id=case_id, seq=last + 1, sender=sender, day=today(),
                                             header=header, body=body, unread=sender == "reporter"))
    except IntegrityError as exc:
        raise StorageError("the thread changed while the message was stored: send it again") from exc
    return last + 1


def add_message(engine: Engine, case_id: int, sender: str, header: bytes, body: bytes) -> int:
    """Append a sealed message to a complete case's thread (a reporter's one unread); return its place."""
    with writing(engine) as conn:
        return append_message(conn, case_id, sender, header, body)


def add_replies(engine: Engine, replies: Sequence[tuple[int, bytes, bytes]]) -> tuple[int, list[int]]:
    """Store reviewers' replies (case id, header, body) in one transaction, skipping any already in its thread
    (by header or body: a replies file imported again after a rewrap stores nothing twice);
    return how many were stored and the case ids of those not stored because their thread is full (one full
    thread, which its reporter can fill, never keeps the replies to other cases out)."""
    stored, full = 0, []
    with writing(engine) as conn:
        if engine.dialect.name == "postgresql":  # two imports of one file at once: the second waits, stores nothing
            for case_id in sorted({reply[0] for reply in replies}):
                conn.execute(select(cases.c.id).where(cases.c.id == case_id).with_for_update())
        for case_id, header, body in replies:
            there = conn.execute(select(messages.c.seq).where(messages.c.case_id == case_id, or_(
                messages.c.header == header, messages.c.body == body))).first()  # a rewrap changes headers only
            if there is None:
                try:
                    append_message(conn, case_id, "reviewer", header, body)
                except ThreadFull:  # raised before any write
                    full.append(case_id)
                    continue
                stored += 1
    return stored, full


def mark_read(engine: Engine, case_id: int) -> None:
    """Mark every reporter message of a case read."""
    with writing(engine) as conn:
        conn.execute(update(messages).where(messages.c.case_id == case_id, messages.c.unread.is_(True))
                     .values(unread=False))


def cases_with_messages(engine: Engine) -> frozenset[int]:
    """The ids of the cases whose thread holds at least one message."""
    with engine.connect() as conn:
        return frozenset(conn.execute(select(messages.c.case_id).distinct()).scalars())


def unread_refs(engine: Engine) -> set[str]:
    """The references of complete cases with reporter messages not yet read (one query)."""
    with engine.connect() as conn:
        found = select(messages.c.case_id).where(messages.c.unread.is_(True))
        return set(conn.execute(select(cases.c.ref).where(cases.c.id.in_(found), cases.c.complete.is_(True)))
                   .scalars())


def unread_since(engine: Engine, since: dt.date) -> int:
    """How many reporter messages arrived on or after `since` and are not read yet."""
    with engine.connect() as conn:
        return conn.execute(select(func.count()).select_from(messages)
                            .where(messages.c.unread.is_(True), messages.c.day >= since)).scalar_one()


def message_headers(engine: Engine) -> list[tuple[int, int, str, bytes]]:
    """Every stored message as (case id, place, case ref, header), for rewrap."""
    with engine.connect() as conn:
        return [(c, n, ref, header) for c, n, ref, header in conn.execute(
            select(messages.c.case_id, messages.c.seq, cases.c.ref, messages.c.header)
            .join(cases, cases.c.id == messages.c.case_id).order_by(messages.c.case_id, messages.c.seq))]


def messages_by_key(engine: Engine) -> dict[str, int]:
    """How many stored thread messages each reviewer key id can open (their stanzas after the reporter's)."""
    counts: dict[str, int] = {}
    for _case, _seq, _ref, header in message_headers(engine):
        try:
            key_ids = parse_header(header).key_ids[1:]
        except CryptoError:
            continue  # a damaged header opens to no one; rewrap reports it
        for key_id in set(key_ids):
            counts[key_id] = counts.get(key_id, 0) + 1
    return counts


def replace_message_headers(engine: Engine, swaps: Sequence[tuple[int, int, bytes, bytes]]) -> int:
    """Swap many messages' headers (case id, seq, old, new), each only if still old; return how many."""
    if not swaps:
        return 0
    with writing(engine) as conn:
        done = conn.execute(update(messages).where(
            messages.c.case_id == bindparam("c"), messages.c.seq == bindparam("s"),
            messages.c.header == bindparam("old")).values(header=bindparam("new")),
            [{"c": c, "s": s, "old": old, "new": new} for c, s, old, new in swaps])
    return done.rowcount
