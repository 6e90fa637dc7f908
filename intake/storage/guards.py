"""The flood guards' state, in the database so that every server process shares it and none tracks anyone.

Spent proof-of-work challenges are kept until they expire; the reports-per-minute budget is one
counter per minute (a sliding window estimated from this minute's and the last minute's counts).
"""

from __future__ import annotations

import datetime as dt
from functools import cache

from sqlalchemy import Connection, Engine, Insert, bindparam, delete, text
from sqlalchemy.dialects import postgresql, sqlite

from intake.storage.db import writing
from intake.storage.schema import report_budget, spent_challenges

# One statement, the same on SQLite and PostgreSQL: count the report in this minute's row if the
# window (this minute's count plus the last minute's, scaled by the share of it still in the
# window) stays under the budget. The upsert is atomic on both: SQLite holds the write lock, and
# PostgreSQL re-checks the WHERE on the row it locked.
_LAST = ("coalesce((SELECT used FROM report_budget WHERE minute = :minute - 1), 0) * CAST(:left_ms AS BIGINT) "
         "/ 60000")
_COUNT = text(f"INSERT INTO report_budget (minute, used) SELECT :minute, 1 WHERE {_LAST} < :per_minute "
              f"ON CONFLICT (minute) DO UPDATE SET used = report_budget.used + 1 "
              f"WHERE report_budget.used + {_LAST} < :per_minute RETURNING used")


@cache
def _spend_statement(dialect: str) -> Insert:
    """INSERT a spent challenge unless it is there, RETURNING it when inserted (built once per dialect)."""
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    return (insert(spent_challenges).values(challenge=bindparam("challenge"), expires=bindparam("expires"))
            .on_conflict_do_nothing().returning(spent_challenges.c.challenge))


def spend(conn: Connection, challenge: str, expires: dt.datetime) -> bool:
    """Mark a challenge spent in this transaction; return False if it had already been spent."""
    statement = _spend_statement(conn.dialect.name)
    return conn.execute(statement, {"challenge": challenge, "expires": expires}).first() is not None


def count_report(conn: Connection, per_minute: int, now: float) -> bool:
    """Count one report against the budget at Unix time `now`; return False (counting nothing) when spent."""
    minute, into = divmod(now, 60.0)
    params = {"minute": int(minute), "left_ms": 60_000 - int(into * 1000), "per_minute": per_minute}
    return conn.execute(_COUNT, params).first() is not None


def take_budget(engine: Engine, per_minute: int, now: float) -> bool:
    """Count one report against the budget in a transaction of its own; return False when it is spent."""
    with writing(engine) as conn:
        return count_report(conn, per_minute, now)


def forget_spent(engine: Engine, now: dt.datetime) -> None:
    """Delete expired challenges and the counters of minutes out of the window."""
    with writing(engine) as conn:
        conn.execute(delete(spent_challenges).where(spent_challenges.c.expires < now))
        minute = int(now.replace(tzinfo=dt.UTC).timestamp() // 60)
        conn.execute(delete(report_budget).where(report_budget.c.minute < minute - 1))
