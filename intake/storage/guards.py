"""The flood guards' state, in the database so that every server process shares it and none tracks anyone.

Spent proof-of-work challenges are kept until they expire; the reports-per-minute budget is one
counter per minute (a sliding window estimated from this minute's and the last minute's counts).
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Connection, Engine, Table, delete, select, update
from sqlalchemy.dialects import postgresql, sqlite

from intake.storage.schema import report_budget, spent_challenges


def _insert_new(conn: Connection, table: Table, **values: object) -> bool:
    """Insert a row unless its key exists; return whether it was inserted."""
    dialect = postgresql if conn.dialect.name == "postgresql" else sqlite
    key = table.primary_key.columns[0]
    return conn.execute(dialect.insert(table).values(**values).on_conflict_do_nothing().returning(key)).first() is not None


def spend_challenge(engine: Engine, challenge: str, expires: dt.datetime) -> bool:
    """Mark a challenge spent; return False if some process had already spent it."""
    with engine.begin() as conn:
        return _insert_new(conn, spent_challenges, challenge=challenge, expires=expires)


def take_budget(engine: Engine, per_minute: int, now: float) -> bool:
    """Count one report against the budget at Unix time `now`; return False (counting nothing) when spent.

    The window's count is this minute's plus the last minute's scaled by the part of it still in
    the window. The row is written before the last minute is read, so that SQLite's write lock is
    taken first and the conditional update is atomic on both databases.
    """
    minute, into = divmod(now, 60.0)
    with engine.begin() as conn:
        _insert_new(conn, report_budget, minute=int(minute), used=0)
        last = conn.execute(select(report_budget.c.used).where(report_budget.c.minute == int(minute) - 1)).scalar()
        allowed = per_minute - int((last or 0) * (1 - into / 60.0))
        return conn.execute(update(report_budget).where(report_budget.c.minute == int(minute),
                                                        report_budget.c.used < allowed)
                            .values(used=report_budget.c.used + 1)).rowcount == 1


def forget_spent(engine: Engine, now: dt.datetime) -> None:
    """Delete expired challenges and the counters of minutes out of the window."""
    with engine.begin() as conn:
        conn.execute(delete(spent_challenges).where(spent_challenges.c.expires < now))
        minute = int(now.replace(tzinfo=dt.UTC).timestamp() // 60)
        conn.execute(delete(report_budget).where(report_budget.c.minute < minute - 1))
