"""Group commit (intake/storage/batches.py) on SQLite and PostgreSQL: shared commits, each job all or nothing."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
from sqlalchemy import event, func, insert, select
from sqlalchemy.exc import IntegrityError

from intake.storage.batches import GroupCommit
from intake.storage.schema import upkeep

SCRATCH = upkeep.c.name != "sweep"  # the rows these tests write, beside the sweep's own


def _count(engine) -> int:  # noqa: ANN001
    with engine.connect() as conn:
        return conn.execute(select(func.count()).select_from(upkeep).where(SCRATCH)).scalar_one()


def test_jobs_share_commits_and_fail_alone(engine):
    """Forty jobs, some failing after a write (an error, a duplicate key): the others stored, the failed ones not."""
    commits = GroupCommit(engine)
    started = threading.Barrier(8)
    seen: list[int] = []
    event.listen(engine, "commit", lambda conn: seen.append(1))

    def job(n: int) -> int:
        def work(conn) -> int:  # noqa: ANN001
            conn.execute(insert(upkeep).values(name=str(n), period=n))
            if n % 5 == 0:
                raise ValueError(f"job {n} refused")
            if n % 7 == 3:
                conn.execute(insert(upkeep).values(name=str(n), period=n))
            return n

        if n < 8:
            started.wait()
        try:
            return commits.run(work)
        except ValueError as exc:
            return -1 if str(exc) == f"job {n} refused" else -3
        except IntegrityError:
            return -2

    with ThreadPoolExecutor(8) as pool:
        results = list(pool.map(job, range(40)))
    failed = {n: -1 for n in range(40) if n % 5 == 0} | {n: -2 for n in range(40) if n % 7 == 3 and n % 5}
    assert results == [failed.get(n, n) for n in range(40)]
    assert len(seen) < 32, "threads waiting together should share commits"
    with engine.connect() as conn:
        stored = sorted(conn.execute(select(upkeep.c.period).where(SCRATCH)).scalars())
    assert stored == [n for n in range(40) if n not in failed]


@pytest.mark.parametrize("stage", ["begin", "commit"])
def test_failed_transaction_is_raised_and_stores_nothing(engine, stage: str):
    """When the shared transaction cannot begin or commit, the job's thread gets that error, and nothing is stored."""
    commits = GroupCommit(engine)

    def refuse(conn) -> None:  # noqa: ANN001
        raise OSError("disk full")

    event.listen(engine, stage, refuse)
    with pytest.raises(OSError, match="disk full"):
        commits.run(lambda conn: conn.execute(insert(upkeep).values(name="1", period=1)))
    event.remove(engine, stage, refuse)
    assert _count(engine) == 0
    commits.run(lambda conn: conn.execute(insert(upkeep).values(name="2", period=2)))
    with engine.connect() as conn:
        assert conn.execute(select(upkeep.c.period).where(SCRATCH)).scalars().all() == [2]
