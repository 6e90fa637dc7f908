"""Deleting old cases for good: rows, parts, keys, notes, lookups and threads, then reclaiming the space."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from sqlalchemy import Connection, Engine, delete, insert, select

from intake.clock import today
from intake.storage.cases import new_ref
from intake.storage.db import writing
from intake.storage.schema import (
    anchor_items,
    attachments,
    carried_tombstones,
    carriers,
    case_carried,
    case_keys,
    case_lookups,
    cases,
    message_attachments,
    message_parts,
    messages,
    notes,
    parts,
)
from intake.storage.streams import carried_streams

CHUNK = 500


def old_cases(engine: Engine, older_than_days: int, status: str | None = None) -> list[tuple[int, str, dt.date, str]]:
    """Complete cases received more than `older_than_days` days ago (optionally with that status)."""
    cutoff = today() - dt.timedelta(days=older_than_days)
    query = select(cases.c.id, cases.c.ref, cases.c.received, cases.c.status).where(
        cases.c.complete.is_(True), cases.c.received < cutoff).order_by(cases.c.id)
    if status:
        query = query.where(cases.c.status == status)
    with engine.connect() as conn:
        return [tuple(row) for row in conn.execute(query)]


def delete_cases(engine: Engine, ids: Sequence[int]) -> None:
    """Delete cases with their parts, attachments, key rows, notes, lookups, threads (with their files and the
    follow-ups still uploading), a few hundred at a time."""
    for at in range(0, len(ids), CHUNK):
        chunk = list(ids[at:at + CHUNK])
        with writing(engine) as conn:
            # PostgreSQL: the follow-ups under way are locked first, so a part being stored into one (put_part locks
            # its row) is stored before its parts are deleted, or refused after: none outlives its carrier
            carried = conn.execute(select(cases.c.id).where(cases.c.id.in_(
                select(carriers.c.case_id).where(carriers.c.thread_case.in_(chunk)))).with_for_update()).scalars().all()
            threads = select(message_attachments.c.stream).where(message_attachments.c.case_id.in_(chunk))
            for streams in (carried_streams(carried), threads):  # follow-ups' files: under way, then delivered
                conn.execute(delete(message_parts).where(message_parts.c.stream.in_(streams)))
            conn.execute(delete(parts).where(parts.c.case_id.in_(carried)))
            conn.execute(delete(cases).where(cases.c.id.in_(carried)))
            bury(conn, chunk)
            for table in (parts, attachments, case_keys, notes, case_lookups, case_carried,
                          message_attachments, messages, anchor_items):
                conn.execute(delete(table).where(table.c.case_id.in_(chunk)))
            conn.execute(delete(cases).where(cases.c.id.in_(chunk)))


def bury(conn: Connection, chunk: Sequence[int]) -> None:
    """Keep a tombstone of each carried report of `chunk` (its carried id and a fresh reference, nothing of the
    case), so that its file sent again is a replay, not a new case (format.md §13.3)."""
    gone = conn.execute(select(case_carried.c.carried).where(case_carried.c.case_id.in_(chunk))).scalars().all()
    if gone:
        conn.execute(insert(carried_tombstones), [{"carried": c, "ref": new_ref()} for c in sorted(gone)])


def vacuum(engine: Engine) -> None:
    """Give the freed pages back: SQLite VACUUM (secure_delete already zeroed them) and a WAL checkpoint;
    PostgreSQL VACUUM of the case tables."""
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        if engine.dialect.name == "sqlite":
            conn.exec_driver_sql("VACUUM")
            conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
        else:
            conn.exec_driver_sql("VACUUM cases, attachments, parts, case_keys, notes, case_lookups, case_carried, "
                                "messages, message_attachments, message_parts, carriers")
