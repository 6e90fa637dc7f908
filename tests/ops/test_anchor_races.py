"""The red team's attacks on `intake anchor` (rt-evidence): two runs for one day at once, a partial run begun before
midnight ending after the whole run, a timestamp asked for a root the day no longer has, runs the timer missed."""

from __future__ import annotations

import datetime as dt
import os
import subprocess
from pathlib import Path

import pytest
from sqlalchemy import update

from intake.anchor import day as anchoring
from intake.anchor import timestamp
from intake.clock import today
from intake.storage.anchors import days_behind, get_anchor, put_timestamp
from intake.storage.cases import get_case
from intake.storage.db import upgrade
from intake.storage.retention import delete_cases
from intake.storage.schema import cases
from tests.support import run_cli
from tests.support.storage import store_case
from tests.support.tsa import LocalTSA, local_tsa
from tests.support.web import Site, make_site

YESTERDAY = today() - dt.timedelta(days=1)


@pytest.fixture(scope="module")
def tsa() -> LocalTSA:
    """One local TSA for the module."""
    with local_tsa() as running:
        yield running


def test_a_second_run_at_once_keeps_the_first_whole_anchor(engine, tsa: LocalTSA,
                                                            monkeypatch: pytest.MonkeyPatch) -> None:
    """Two runs for one day (the timer and an admin's `--day`): the second read no anchor before the first stored
    its own. Before, it replaced the whole anchor with another root (a root already printed and audited no longer
    held), and the first run's timestamp could land on the second's root (every package of the day failed verify).
    Now the first whole anchor is kept, stamped over its own root; a stale partial run cannot replace it either."""
    ref = store_case(engine, os.urandom(80), os.urandom(200), "server", ["r0"], [])
    with engine.begin() as conn:
        conn.execute(update(cases).where(cases.c.id == get_case(engine, ref).id).values(received=YESTERDAY))
    first = anchoring.anchor_day(engine, YESTERDAY, today(), None)
    monkeypatch.setattr(anchoring, "get_anchor", lambda *_: None)  # it read before the first run stored
    second = anchoring.anchor_day(engine, YESTERDAY, today(), tsa.url)
    late = anchoring.anchor_day(engine, YESTERDAY, YESTERDAY, None)  # a partial run begun before midnight
    monkeypatch.undo()
    stored = get_anchor(engine, YESTERDAY)
    assert second.root == late.root == first.root == stored.root
    assert second.done_before
    assert second.stamped
    assert not stored.partial
    assert timestamp.stamped_time(stored.timestamp, stored.root).date() > YESTERDAY
    put_timestamp(engine, YESTERDAY, os.urandom(32), b"a stamp of another root")
    assert get_anchor(engine, YESTERDAY).timestamp == stored.timestamp
    assert anchoring.case_proof(engine, get_case(engine, ref).id)["root"] == first.root.hex()


def test_days_a_missed_run_left_are_anchored_by_the_next(tmp_path: Path, tsa: LocalTSA) -> None:
    """The timer missed runs (the machine off for two nights: Persistent=true fires once, for yesterday only) and
    the TSA was down the night before: those days stayed unanchored or unstamped for ever unless an admin noticed.
    Now the default run anchors every day after the newest whole anchor and stamps the whole anchors left unstamped."""
    site = make_site(tmp_path, f"sqlite:///{tmp_path / 'intake.db'}")
    upgrade(site.engine)
    try:
        days = [today() - dt.timedelta(days=n) for n in (4, 3, 2, 1)]
        ids = {}
        for day in days[:3]:
            ref = store_case(site.engine, os.urandom(80), os.urandom(200), "server", ["r0"], [])
            ids[day] = get_case(site.engine, ref).id
            with site.engine.begin() as conn:
                conn.execute(update(cases).where(cases.c.id == ids[day]).values(received=day))
        run(site, "--day", days[0].isoformat())  # the TSA down (unset): stored, unstamped
        done = run(site, tsa_url=tsa.url)
        assert len(done.stdout.split()) == 4
        for day in days:
            stored = get_anchor(site.engine, day)
            assert not stored.partial
            assert timestamp.stamped_time(stored.timestamp, stored.root).date() > day
            assert f"{day}: " in done.stderr
        for day, case_id in ids.items():
            assert anchoring.case_proof(site.engine, case_id)["day"] == day.isoformat()
        again = run(site, tsa_url=tsa.url)
        assert again.stderr.strip() == f"{days[-1]}: already anchored"
    finally:
        site.engine.dispose()


def run(site: Site, *args: str, tsa_url: str = "") -> subprocess.CompletedProcess:
    """The real `intake anchor`."""
    return run_cli("intake", "anchor", *args, cwd=site.settings.instance.parent,
                   env={**site.env, "INTAKE_TSA_URL": tsa_url})


def test_catching_up_goes_back_a_month_at_most(engine) -> None:
    """An admin's `--day` long ago (an unstamped whole anchor 400 days back) does not make the next run ask the TSA
    for 400 days: it catches up the last 31 at most (older days need `--day`)."""
    old = YESTERDAY - dt.timedelta(days=400)
    anchoring.anchor_day(engine, old, today(), None)
    days = days_behind(engine, YESTERDAY, True)
    assert days == [YESTERDAY - dt.timedelta(days=n) for n in range(30, -1, -1)]


def test_a_case_purged_after_its_anchor_leaves_the_others_proved(engine) -> None:
    """A purged case takes its anchor row with it (its digest stays a leaf, like padding); the day's root and the
    other cases' proofs are untouched, and a run again says the day is already anchored."""
    ids = []
    for _ in range(2):
        ref = store_case(engine, os.urandom(80), os.urandom(200), "server", ["r0"], [])
        ids.append(get_case(engine, ref).id)
    with engine.begin() as conn:
        conn.execute(update(cases).where(cases.c.id.in_(ids)).values(received=YESTERDAY))
    first = anchoring.anchor_day(engine, YESTERDAY, today(), None)
    delete_cases(engine, ids[:1])
    assert anchoring.case_proof(engine, ids[0]) is None
    assert anchoring.case_proof(engine, ids[1])["root"] == first.root.hex()
    again = anchoring.anchor_day(engine, YESTERDAY, today(), None)
    assert again.done_before
    assert again.root == first.root
