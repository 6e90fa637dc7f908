"""The SQLite file keeps no order of arrival once swept (storage/layout.py, docs/web.md "Nothing finer than the day").

The attack of issue 19 finding 6: copy the database file, find where each sealed value sits (the page
of its overflow chain) and compare that order with the order of arrival. Before the sweep it is the
order of arrival (Kendall tau about 1: the test sees the leak); after the sweep that the server runs
every hour, run here by a real `intake expire-uploads` process, it is random.
"""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path

from sqlalchemy import func, select

from intake.crypto.stream import ABYTES, HEADER
from intake.storage.cases import get_case
from intake.storage.db import connect, integrity_ok, upgrade
from intake.storage.retention import delete_cases
from intake.storage.schema import messages, parts
from intake.storage.threads import add_message
from tests.support import run_cli
from tests.support.storage import store_case

ITEMS = 60  # 60 follow-ups across cases and 60 reports with a file: |tau| of a random order is about 0.09 (sd)
MARK = 32


def kendall_tau(order: list[int]) -> float:
    """Kendall's tau between positions 0..n-1 and `order` (distinct values)."""
    n = len(order)
    concordant = sum(1 if order[i] < order[j] else -1 for i in range(n) for j in range(i + 1, n))
    return concordant / (n * (n - 1) / 2)


def page_order(database: Path, marks: list[bytes]) -> list[int]:
    """Where each value sits in a copy of the file: the page of the bytes from the middle of its value."""
    raw = database.read_bytes()
    size = int.from_bytes(raw[16:18], "big") or 65536
    places = [raw.find(mark) for mark in marks]
    assert -1 not in places, "a value is not in the database file (still in the WAL?)"
    return [place // size for place in places]


def _checkpoint(engine) -> None:
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")


def _store(engine, tmp: list[str]) -> tuple[list[bytes], list[bytes]]:
    """Reports with one file each and follow-ups each in its own case, in a known order; some deleted between,
    so that freed pages are used again. Return the marks of the follow-ups and of the files, in order."""
    followed = [store_case(engine, os.urandom(200), os.urandom(1064), "browser", [], []) for _ in range(ITEMS)]
    follow_ups, files = [], []
    for i in range(ITEMS):
        body, data = os.urandom(16424), os.urandom(HEADER + 40_000 + ABYTES)
        add_message(engine, get_case(engine, followed[i]).id, "reporter", os.urandom(300), body)
        tmp.append(store_case(engine, os.urandom(200), os.urandom(1064), "browser", [], [(len(data), [data])]))
        follow_ups.append(body[8000:8000 + MARK])
        files.append(data[20_000:20_000 + MARK])
        if i % 10 == 9:  # a purge between arrivals frees pages that later rows take
            delete_cases(engine, [get_case(engine, tmp.pop(-3)).id])
            files.pop(-3)
    return follow_ups, files


def test_the_sweep_leaves_no_order_of_arrival_in_the_sqlite_file(tmp_path: Path) -> None:
    database = tmp_path / "intake.db"
    url = f"sqlite:///{database}"
    engine = connect(url)
    upgrade(engine)
    follow_ups, files = _store(engine, [])
    _checkpoint(engine)
    before = [kendall_tau(page_order(database, marks)) for marks in (follow_ups, files)]
    assert min(before) > 0.9, f"the test no longer sees the order SQLite keeps: tau {before}"

    (tmp_path / "instance").mkdir(mode=0o700)
    run_cli("intake", "expire-uploads", cwd=tmp_path,
            env={"INTAKE_DATABASE_URL": url, "INTAKE_INSTANCE": str(tmp_path / "instance")})
    wal = Path(f"{database}-wal")
    assert not wal.exists() or wal.stat().st_size == 0
    after = [kendall_tau(page_order(database, marks)) for marks in (follow_ups, files)]
    assert max(abs(t) for t in after) < 0.3, f"the swept file still keeps the order of arrival: tau {after}"
    assert integrity_ok(engine)
    with engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(messages)).scalar_one() == ITEMS
        assert conn.execute(select(func.count()).select_from(parts)).scalar_one() == ITEMS - ITEMS // 10
    engine.dispose()


def test_a_long_read_during_the_sweep_leaves_no_deleted_row_in_the_wal_for_long(tmp_path: Path) -> None:
    """A read under way through the sweep (a reviewer's long export, a slow answer) made its WAL truncation fail
    in silence: the WAL kept every frame of the last hour, deleted cases and order of writes included, until the
    next hour's sweep. Now the sweep says so, and the server's sweeper truncates it at its next look."""
    from intake.web import create_app
    from tests.support.web import make_site

    database = tmp_path / "intake.db"
    site = make_site(tmp_path, f"sqlite:///{database}")
    intake = create_app(site.settings).extensions["intake"]
    engine = intake.engine
    gone = os.urandom(16424)
    ref = store_case(engine, os.urandom(200), gone, "browser", [], [])
    store_case(engine, os.urandom(200), os.urandom(16424), "browser", [], [])
    delete_cases(engine, [get_case(engine, ref).id])  # a purge: secure_delete zeroes the file, not the WAL
    wal = Path(f"{database}-wal")
    mark = gone[8000:8000 + MARK]
    reader = sqlite3.connect(database, isolation_level=None)
    try:
        reader.execute("BEGIN")
        reader.execute("SELECT count(*) FROM cases").fetchone()
        intake.sweep()  # the hourly sweep, while the read goes on
        assert mark in wal.read_bytes(), "the read kept the WAL: the test would prove nothing"
        assert intake.wal_owed
    finally:
        reader.close()
    intake.sweep()  # the sweeper's next look, five minutes later: the hour is swept, the WAL still owed
    assert not intake.wal_owed
    assert wal.stat().st_size == 0
    assert mark not in database.read_bytes()
    reader = sqlite3.connect(database, isolation_level=None)
    try:
        reader.execute("BEGIN")
        reader.execute("SELECT count(*) FROM cases").fetchone()
        told = run_cli("intake", "expire-uploads", cwd=tmp_path, env=site.env)
    finally:
        reader.close()
    assert "the WAL was not truncated" in told.stderr
    engine.dispose()
