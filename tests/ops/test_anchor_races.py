"""The red team's attacks on `intake anchor` (rt-evidence): two runs for one day at once, a partial run begun before
midnight ending after the whole run, a timestamp asked for a root the day no longer has."""

from __future__ import annotations

import datetime as dt
import os

import pytest
from sqlalchemy import update

from intake.anchor import day as anchoring
from intake.anchor import timestamp
from intake.clock import today
from intake.storage.anchors import get_anchor, put_timestamp
from intake.storage.cases import get_case
from intake.storage.schema import cases
from tests.support.storage import store_case
from tests.support.tsa import LocalTSA, local_tsa

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
