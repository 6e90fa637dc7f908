"""A purged carried report stays purged (red team rt-kit, finding a): its file sent again, by either path, is
answered as a replay (the shape of any stored file's answer), stores nothing, and the tombstone left behind holds
the carried id and a fresh reference only: no case id, no time, nothing of the case."""

from __future__ import annotations

import re

from sqlalchemy import inspect, select

from intake.crypto.carried import carried_id, read_carried
from intake.storage.retention import delete_cases
from intake.storage.schema import carried_tombstones, case_carried, cases
from tests.support.carried import api_begin, carried_file, counts, post_sealed
from tests.support.web import rows

RECEIPT = re.compile(r'id="receipt">([^<]+)<')


def purge_all(site) -> None:
    """Delete every complete case as `intake purge` does."""
    with site.engine.connect() as conn:
        ids = conn.execute(select(cases.c.id).where(cases.c.complete.is_(True))).scalars().all()
    delete_cases(site.engine, ids)


def test_a_purged_file_sent_again_is_a_replay(client, site):
    """Purged, then sent again without JavaScript and through the API: 200 'arrived already' with one reference
    each time, never a new case; a file never stored is still taken."""
    data, _ = carried_file(site, files=[("a.jpg", "image/jpeg", b"x" * 5000)])
    first = post_sealed(client, data)
    assert first.status_code == 200
    original = RECEIPT.search(first.get_data(as_text=True)).group(1)
    purge_all(site)
    assert rows(site.engine)["cases"] == 0
    before = counts(site)
    again = [post_sealed(client, data) for _ in range(2)]
    for answer in again:
        text = answer.get_data(as_text=True)
        assert answer.status_code == 200, text[-400:]
        assert "had arrived already" in text
    refs = {RECEIPT.search(a.get_data(as_text=True)).group(1) for a in again}
    api = api_begin(client, data)
    assert api.status_code == 200, api.get_data(as_text=True)
    assert api.get_json()["new"] is False
    refs.add(api.get_json()["ref"])
    assert len(refs) == 1  # one answer, whichever way and however often
    assert original not in refs  # the tombstone keeps nothing of the case, not even its reference
    assert counts(site) == before
    other, _ = carried_file(site)
    assert "had arrived already" not in post_sealed(client, other).get_data(as_text=True)
    assert rows(site.engine)["cases"] == 1


def test_the_tombstone_holds_the_carried_id_and_nothing_else(client, site):
    """Class 6: the tombstone table has two columns, no time and no case id, and no row order (no rowid)."""
    data, _ = carried_file(site)
    assert post_sealed(client, data).status_code == 200
    purge_all(site)
    columns = [c["name"] for c in inspect(site.engine).get_columns("carried_tombstones")]
    assert columns == ["carried", "ref"]
    with site.engine.connect() as conn:
        tomb = conn.execute(select(carried_tombstones)).all()
        assert conn.execute(select(case_carried)).all() == []
    assert [row.carried for row in tomb] == [carried_id(read_carried(data)[0].header.raw)]
    if site.engine.dialect.name == "sqlite":
        with site.engine.connect() as conn:
            sql = conn.exec_driver_sql("SELECT sql FROM sqlite_master WHERE name = 'carried_tombstones'").scalar()
        assert "WITHOUT ROWID" in sql


def test_a_refused_or_unfinished_file_leaves_no_tombstone(client, site):
    """Only a purge buries: a file cut short (its arriving case discarded) is taken whole afterwards."""
    data, _ = carried_file(site, files=[("a.jpg", "image/jpeg", b"x" * 5000)])
    assert post_sealed(client, data[:-50]).status_code == 400
    with site.engine.connect() as conn:
        assert conn.execute(select(carried_tombstones)).all() == []
    answer = post_sealed(client, data)
    assert answer.status_code == 200
    assert "had arrived already" not in answer.get_data(as_text=True)
