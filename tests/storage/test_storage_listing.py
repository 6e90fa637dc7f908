"""Listings walk the cases along an index (migration 0008) instead of sorting every case for each batch: the
order, batches and lengths are as before, and the migration goes up and down on both databases."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import inspect, text

from intake.storage.cases import iter_cases
from intake.storage.db import connect, integrity_ok
from tests.support.storage import migrate_to


def _store(engine, n: int) -> None:
    """n complete cases over three days, some with attachments, and one incomplete case."""
    with engine.begin() as conn:
        for i in range(n):
            conn.execute(text("INSERT INTO cases (id, ref, received, status, sealed_by, header, body, complete, idle) "
                              "VALUES (:i, :r, :d, 'new', 'server', :h, :b, true, 0)"),
                         {"i": 1000 + 37 * i % 997, "r": f"REF{i}", "d": dt.date(2026, 1, 1 + i % 3),
                          "h": b"h%d" % i, "b": b"b"})
            for idx in range(i % 3):
                conn.execute(text("INSERT INTO attachments (case_id, idx, length) VALUES (:i, :x, :n)"),
                             {"i": 1000 + 37 * i % 997, "x": idx, "n": 100 + idx})
        conn.execute(text("INSERT INTO cases (id, ref, received, status, sealed_by, header, body, complete, idle) "
                          "VALUES (5, 'UPLOADING', :d, 'new', 'browser', :h, :b, false, 0)"),
                     {"d": dt.date(2026, 1, 1), "h": b"h", "b": b"b"})


def _index_names(engine) -> set[str]:
    return {ix["name"] for ix in inspect(engine).get_indexes("cases")}


def test_listing_index_up_and_down(db_url) -> None:
    """0008 adds the index and keeps every case; a listing in small batches gives each complete case once, by
    day then id, with its lengths; down to 0007 drops the index alone."""
    engine = connect(db_url)
    migrate_to(engine, "0007_follow_up_files")
    _store(engine, 40)
    expected = None
    for down in (False, True, False):
        migrate_to(engine, "0007_follow_up_files" if down else "head", down=down)
        assert ("ix_cases_listing" in _index_names(engine)) is not down
        listed = [(c.received, c.id, c.lengths) for c in iter_cases(engine, batch=7)]
        assert len(listed) == 40
        assert len({i for _, i, _ in listed}) == 40
        assert listed == sorted(listed)
        assert all(lengths == tuple(100 + x for x in range(len(lengths))) for _, _, lengths in listed)
        assert sum(len(lengths) for _, _, lengths in listed) == sum(i % 3 for i in range(40))
        expected = expected or listed
        assert listed == expected
    assert [c.ref for c in iter_cases(engine, since=dt.date(2026, 1, 3), batch=5)] == \
        [c.ref for c in iter_cases(engine) if c.received >= dt.date(2026, 1, 3)]
    assert integrity_ok(engine)
    engine.dispose()


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_listing_reads_in_index_order(db_url, engine) -> None:
    """SQLite walks the index: no batch of a listing sorts the cases table (it did, once per batch)."""
    with engine.connect() as conn:
        plan = conn.execute(text("EXPLAIN QUERY PLAN SELECT id, header FROM cases WHERE complete = 1 AND "
                                 "(received, id) > ('2026-01-01', 0) ORDER BY received, id LIMIT 1000")).all()
    steps = " ".join(str(row[-1]) for row in plan)
    assert "ix_cases_listing" in steps, steps
    assert "TEMP B-TREE" not in steps, steps
