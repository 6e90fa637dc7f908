"""Group commit: small write jobs of many threads run in one transaction and share its commit (and its fsync).

The first thread to find no batch running becomes the leader: once it holds the write lock
(db.writing), it takes every job waiting by then, runs each in a savepoint of one transaction (a
job that raises undoes only its own writes), commits once, and hands each thread its result. The
others wait, and one of them leads the next batch. A thread returns only after the commit that
holds its job, or with the error that stopped it (a failed commit fails every job of its batch),
so a receipt still means the report is on disk.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Generic, TypeVar

from sqlalchemy import Connection, Engine

from intake.storage.db import writing

T = TypeVar("T")


class _Job(Generic[T]):
    """One thread's work, and what came of it."""

    def __init__(self, work: Callable[[Connection], T]) -> None:
        self.work = work
        self.result: T | None = None
        self.error: BaseException | None = None
        self.done = False


class GroupCommit:
    """Runs jobs on one engine in shared write transactions, one batch at a time in this process."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._waiting: list[_Job] = []
        self._leading = False
        self._changed = threading.Condition()

    def run(self, work: Callable[[Connection], T]) -> T:
        """Run `work(conn)` in a savepoint of a shared transaction; return its result once committed, or raise."""
        job: _Job[T] = _Job(work)
        with self._changed:
            self._waiting.append(job)
            while self._leading and not job.done:
                self._changed.wait()
            lead = not job.done
            if lead:
                self._leading = True
        if lead:
            try:
                self._commit()
            finally:
                with self._changed:
                    self._leading = False
                    self._changed.notify_all()
        if job.error is not None:
            raise job.error
        return job.result  # type: ignore[return-value]

    def _commit(self) -> None:
        """Take every job waiting once the write lock is ours, run each in its savepoint, commit them together."""
        batch: list[_Job] = []
        try:
            with writing(self.engine) as conn:
                with self._changed:
                    batch, self._waiting = self._waiting, []
                for job in batch:  # plain SAVEPOINT statements, the same on both databases, cost less than begin_nested
                    conn.exec_driver_sql("SAVEPOINT job")
                    try:
                        job.result = job.work(conn)
                    except Exception as exc:  # noqa: BLE001 - raised in the job's own thread
                        job.error = exc
                        conn.exec_driver_sql("ROLLBACK TO SAVEPOINT job")
                    conn.exec_driver_sql("RELEASE SAVEPOINT job")
        except BaseException as exc:
            if not batch:
                with self._changed:
                    batch, self._waiting = self._waiting, []
            for job in batch:
                job.error = job.error or exc
        finally:
            for job in batch:
                job.done = True
