"""What the flood guards keep in the database, with no time finer than the day (docs/web.md, "Floods").

- `spent_work`: a keyed digest of each spent proof-of-work challenge and the challenge's day, and
  of each no-JS page's form token that sent something (a reload posts it again) and its day,
  keyed by the digest (SQLite WITHOUT ROWID), so neither a time nor an insertion order is kept;
  the days that can no longer be spent are dropped whole.
- `stored_bytes`: the bytes taken today on each path, against a daily budget. Both paths count sealed
  bytes in the transaction that stores them (`charge_stored`: the no-JS path each batch of parts, the
  browser path each new part; each path's header and body as they are stored), so an upload that
  declares a size and never sends it costs only what arrived, there is nothing to refund, and a crash
  leaves the count equal to what was written; a declared size is only checked against what is left
  (`left_today`).
- the pending-bytes cap (no table of its own): each upload under way holds what it has stored and at most
  AHEAD more of what it declared (`pending_bytes`), so a declared size that never arrives holds little.
- `upkeep`: whether the last sweep was in an odd or an even hour (not the hour itself), shared by
  every process so that the first to see the hour change sweeps: it drops old days, and expires
  uploads left idle for IDLE_SWEEPS sweeps (each newly stored part resets a case's count; a part sent
  again does not) and uploads begun before yesterday however they progress (`received`, their day:
  one new part every few hours would otherwise hold a declared size for weeks), then has SQLite
  rebuild its file in random order and truncate its WAL (storage/layout.py), so that neither deleted
  rows nor the order of arrival stay readable there.
"""

from __future__ import annotations

import datetime as dt
from functools import cache

from sqlalchemy import (
    ColumnElement,
    Connection,
    Date,
    Engine,
    Insert,
    bindparam,
    case,
    delete,
    func,
    literal,
    or_,
    select,
    text,
    update,
)
from sqlalchemy.dialects import postgresql, sqlite

from intake.clock import today
from intake.crypto.stream import PART
from intake.storage.db import writing
from intake.storage.schema import attachments, cases, message_parts, parts, spent_work, stored_bytes, upkeep

EPOCH = dt.date(1970, 1, 1)
SWEEP_SECONDS = 3600
IDLE_SWEEPS = 3
AHEAD = 8 << 20  # what an upload under way holds of the pending-bytes cap beyond the parts it has stored


class Refused(Exception):
    """A guard refused the report: `reason` is "replayed", "pending" (too many bytes still uploading), "held" (this
    case's own follow-ups hold their share of the pending bytes) or "daily"."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason

_CHARGE = text(
    "INSERT INTO stored_bytes (day, path, bytes) SELECT :day, :path, :n WHERE :n <= :cap "
    "ON CONFLICT (day, path) DO UPDATE SET bytes = stored_bytes.bytes + :n "
    "WHERE stored_bytes.bytes + :n <= :cap RETURNING bytes").bindparams(bindparam("day", type_=Date))


def day_date(day: int) -> dt.date:
    """The date of a day number (days since 1970-01-01)."""
    return EPOCH + dt.timedelta(days=day)


@cache
def _spend_statement(dialect: str) -> Insert:
    """INSERT a spent digest unless it is there, RETURNING it when inserted (built once per dialect)."""
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    return (insert(spent_work).values(digest=bindparam("digest"), day=bindparam("day"))
            .on_conflict_do_nothing().returning(spent_work.c.digest))


def spend(conn: Connection, digest: bytes, day: int) -> bool:
    """Mark a challenge spent in this transaction; return False if it had been spent before."""
    found = conn.execute(_spend_statement(conn.dialect.name), {"digest": digest, "day": day_date(day)}).first()
    return found is not None


class Resent(Exception):
    """A no-JS page's form token was spent already: what that page sent was stored the first time (a reload)."""


def spend_form(conn: Connection, form: tuple[bytes, int] | None) -> None:
    """Spend a no-JS page's form token (its digest and day, web/tokens.py) in this transaction; Resent if spent."""
    if form is not None and not spend(conn, *form):
        raise Resent()


def form_spent(engine: Engine, form: tuple[bytes, int]) -> bool:
    """Whether a no-JS page's form token was spent already: checked before anything of its post is sealed."""
    with engine.connect() as conn:
        return conn.execute(select(spent_work.c.digest).where(spent_work.c.digest == form[0])).first() is not None


def charge(conn: Connection, path: str, size: int, cap: int) -> bool:
    """Count `size` bytes against today's budget of `path` ("browser" or "server"); False, counting nothing, if over."""
    return conn.execute(_CHARGE, {"day": today(), "path": path, "n": size, "cap": cap}).first() is not None


class DaySpent(Exception):
    """Today's byte budget of a path is spent: what was being stored is refused (docs/web.md, "Floods")."""


def charge_stored(conn: Connection, path: str, size: int, cap: int) -> None:
    """Count `size` bytes stored in `conn`'s transaction against today's budget of `path`; DaySpent if over."""
    if size and not charge(conn, path, size, cap):
        raise DaySpent(path)


def left_today(conn: Connection, path: str, cap: int) -> int:
    """The bytes still free today on `path`: a declared size is checked against it, never spent from it."""
    spent = conn.execute(select(stored_bytes.c.bytes).where(stored_bytes.c.day == today(),
                                                            stored_bytes.c.path == path)).scalar()
    return cap - (spent or 0)


def _stored_parts(case_id: ColumnElement[int]) -> ColumnElement[int]:
    """How many parts an upload has stored: a report's in `parts`, a carrier's under its streams in `message_parts`."""
    reports = select(func.count()).select_from(parts).where(parts.c.case_id == case_id).scalar_subquery()
    streams = select(attachments.c.stream).where(attachments.c.case_id == case_id, attachments.c.stream.is_not(None))
    carried = select(func.count()).select_from(message_parts).where(message_parts.c.stream.in_(streams))
    return reports + carried.scalar_subquery()


def pending_bytes(conn: Connection) -> int:
    """The bytes uploads under way hold of the pending-bytes cap: each what it has stored and at most AHEAD more of
    what it declared (browser uploads declare their lengths), so a declaration that never sends holds AHEAD."""
    declared = (select(attachments.c.case_id, func.sum(attachments.c.length).label("declared"))
                .join(cases, cases.c.id == attachments.c.case_id).where(cases.c.complete.is_(False))
                .group_by(attachments.c.case_id).subquery())
    reach = _stored_parts(declared.c.case_id) * PART + AHEAD
    held = case((reach < declared.c.declared, reach), else_=declared.c.declared)
    return int(conn.execute(select(func.coalesce(func.sum(held), 0))).scalar_one())


def pending_room(conn: Connection, declared: int, cap: int) -> bool:
    """Whether a new upload declaring `declared` stream bytes fits under the pending-bytes cap (it holds at most
    AHEAD of them until its parts arrive)."""
    return pending_bytes(conn) + min(declared, AHEAD) <= cap


def part_room(conn: Connection, case_id: int, cap: int) -> bool:
    """Whether one more part of upload `case_id` fits: a part within what its upload holds always does; beyond, only
    while every upload's hold leaves room for it (a 503 meanwhile: the page sends the part again)."""
    declared = conn.execute(select(func.coalesce(func.sum(attachments.c.length), 0))
                            .where(attachments.c.case_id == case_id)).scalar_one()
    stored = conn.execute(select(_stored_parts(literal(case_id)))).scalar_one()
    more = min(declared, (stored + 1) * PART + AHEAD) - min(declared, stored * PART + AHEAD)
    return more <= 0 or pending_bytes(conn) + more <= cap


def sweep(engine: Engine, now: float, day: int) -> list[int] | None:
    """Sweep once per SWEEP_SECONDS across every process: drop old days, age idle uploads.

    Processes sweep on a clock (web/state.py), so the stored parity says nothing about reports;
    an even number of hours without any server running skips one sweep, which only delays expiry.

    Return the incomplete cases idle for IDLE_SWEEPS sweeps, for the caller to discard (None when
    another process swept this period already).
    """
    parity = int(now // SWEEP_SECONDS) % 2
    with writing(engine) as conn:
        if conn.execute(update(upkeep).where(upkeep.c.name == "sweep", upkeep.c.period != parity)
                        .values(period=parity)).rowcount != 1:
            return None
        conn.execute(delete(spent_work).where(spent_work.c.day < day_date(day - 1)))
        conn.execute(delete(stored_bytes).where(stored_bytes.c.day < day_date(day - 1)))
        return age_uploads(conn)


def age_uploads(conn: Connection, every: bool = False) -> list[int]:
    """Count one more sweep for each incomplete case; return those idle for IDLE_SWEEPS sweeps or begun before
    yesterday (or all, `every`)."""
    conn.execute(update(cases).where(cases.c.complete.is_(False)).values(idle=cases.c.idle + 1))
    query = select(cases.c.id).where(cases.c.complete.is_(False))
    if not every:
        query = query.where(or_(cases.c.idle >= IDLE_SWEEPS, cases.c.received < today() - dt.timedelta(days=1)))
    return list(conn.execute(query).scalars())

