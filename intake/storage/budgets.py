"""What the flood guards keep in the database, with no time finer than the day (docs/web.md, "Floods").

- `spent_work`: a keyed digest of each spent proof-of-work challenge and the challenge's day, and
  of each no-JS page's form token that sent something (a reload posts it again) and its day,
  keyed by the digest (SQLite WITHOUT ROWID), so neither a time nor an insertion order is kept;
  the days that can no longer be spent are dropped whole.
- `stored_bytes`: the bytes taken today on each path, against a daily budget. The server path (no
  JavaScript) counts sealed bytes in the transaction that stores them (`charge_stored`), so a post
  that declares a size and hangs up costs only what arrived, and a crash leaves the count equal to
  what was written; a declared size is only checked against what is left (`left_today`).
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

from sqlalchemy import Connection, Date, Engine, Insert, bindparam, case, delete, func, or_, select, text, update
from sqlalchemy.dialects import postgresql, sqlite

from intake.clock import today
from intake.storage.db import writing
from intake.storage.schema import attachments, cases, spent_work, stored_bytes, upkeep

EPOCH = dt.date(1970, 1, 1)
SWEEP_SECONDS = 3600
IDLE_SWEEPS = 3

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


def refund(conn: Connection, path: str, day: dt.date, size: int) -> None:
    """Give back `size` bytes counted on `path` on `day` that never arrived (an upload expired or discarded)."""
    conn.execute(update(stored_bytes).where(stored_bytes.c.day == day, stored_bytes.c.path == path).values(
        bytes=case((stored_bytes.c.bytes > size, stored_bytes.c.bytes - size), else_=0)))


def pending_bytes(conn: Connection) -> int:
    """The sealed bytes that uploads still under way have announced (browser uploads declare their lengths)."""
    query = select(func.coalesce(func.sum(attachments.c.length), 0)).join(
        cases, cases.c.id == attachments.c.case_id).where(cases.c.complete.is_(False))
    return int(conn.execute(query).scalar_one())


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

