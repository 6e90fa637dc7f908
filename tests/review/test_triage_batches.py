"""The list opens cases a batch at a time (crypto/batch.py): hostile rows at a batch's edges hide no other case."""

from __future__ import annotations

import pytest
from sqlalchemy import select, text, update

from intake.storage.schema import cases
from intake.triage.records import BATCH
from tests.support.reviewkit import Reviewer, store

COUNT = 2 * BATCH + 3
EDGES = (0, BATCH - 1, BATCH, 2 * BATCH - 1, 2 * BATCH, COUNT - 1)  # each batch's first and last case


def _flip_last(value: bytes) -> bytes:
    return value[:-1] + bytes([value[-1] ^ 1])


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_hostile_rows_at_the_edges_of_batches(engine, db_url, tmp_path) -> None:
    """A header that is not bytes (SQLite keeps what it is given), empty, altered or another case's body, on each
    batch's first and last case: each is one row that did not open, and every other case of every batch opens."""
    alice = Reviewer.make(tmp_path / "alice")
    refs = [store(engine, [alice.recipient], fields={"description": f"case {i}"}) for i in range(COUNT)]
    with engine.begin() as conn:
        ids = {ref: conn.execute(select(cases.c.id).where(cases.c.ref == ref)).scalar_one() for ref in refs}
        row = conn.execute(select(cases.c.header, cases.c.body).where(cases.c.ref == refs[1])).one()
        bad = dict(zip([refs[i] for i in EDGES], ("header text", "header number", b"", _flip_last(row.header),
                                                  "other body", row.body[:-16]), strict=True))
        for ref, damage in bad.items():
            if damage == "header text":  # SQLite stores a string in a BLOB column as TEXT
                conn.execute(text("UPDATE cases SET header = 'INTK not a header' WHERE id = :id"), {"id": ids[ref]})
            elif damage == "header number":
                conn.execute(text("UPDATE cases SET header = 42 WHERE id = :id"), {"id": ids[ref]})
            elif damage == "other body":
                conn.execute(update(cases).where(cases.c.id == ids[ref]).values(body=row.body))
            elif ref == refs[EDGES[-1]]:
                conn.execute(update(cases).where(cases.c.id == ids[ref]).values(body=damage))
            else:
                conn.execute(update(cases).where(cases.c.id == ids[ref]).values(header=damage))
    where = ("--db", db_url)
    rows = {r["id"]: r for r in alice.json("list", where=where)}
    assert set(rows) == set(refs)
    assert {ref for ref, r in rows.items() if not r["opened"]} == set(bad)
    assert all(rows[ref].get("error") for ref in bad)
    table = alice.run("list", where=where, env={"COLUMNS": "300"})
    assert "Traceback" not in table.stdout + table.stderr
    assert f"{COUNT} cases, {len(bad)} not opened" in table.stderr
