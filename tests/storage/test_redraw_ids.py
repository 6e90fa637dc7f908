"""Migration 0013 redraws the ids PostgreSQL's random() gave parts and streams under the old 0006 and 0012 (red team
rt-streams items 1 and 6): an instance that ran them is repaired, its files still read and its uploads still finish."""

from __future__ import annotations

import os

import pytest
from sqlalchemy import text

from intake.crypto.keys import Identity
from intake.crypto.message import seal_message
from intake.crypto.report import seal_report
from intake.crypto.stream import PART, sealed_length
from intake.storage.admission import Limits
from intake.storage.cases import get_case, iter_parts
from intake.storage.db import connect, upgrade
from intake.storage.followups import admit_follow_up, deliver
from intake.storage.lifecycle import put_part, upload_case
from intake.storage.streams import missing_parts
from tests.support.pgrandom import predicts
from tests.support.storage import migrate_to, store_case, store_follow_up

SEALED = sealed_length(9)
IDS = {"parts": ("pid",), "message_parts": ("pid", "stream"), "attachments": ("stream",),
       "message_attachments": ("stream",)}
OLD_RANDOM = "SELECT floor(random() * 4611686018427387904)::bigint + 1 FROM generate_series(1, :n)"


def _ids(engine) -> dict[tuple[str, str], list[int]]:
    """Every id column's values, by table and column."""
    with engine.connect() as conn:
        return {(table, column): conn.execute(text(f"SELECT {column} FROM {table} WHERE {column} IS NOT NULL "  # noqa: S608
                                                   f"ORDER BY {column}")).scalars().all()
                for table, columns in IDS.items() for column in columns}


def _arrived(engine) -> tuple[list[int], list[int], list[int]]:
    """Reports' part ids, follow-ups' part ids and stream ids (delivered, then carriers'), in one order of arrival."""
    with engine.connect() as conn:
        pids = conn.execute(text("SELECT p.pid FROM parts p JOIN cases c ON c.id = p.case_id "
                                 "ORDER BY c.ref, p.idx, p.part")).scalars().all()
        message_pids = conn.execute(text("SELECT pid FROM message_parts ORDER BY stream, part")).scalars().all()
        delivered = "SELECT stream FROM message_attachments ORDER BY case_id, seq, idx"
        streams = conn.execute(text(delivered)).scalars().all()
        streams += conn.execute(text("SELECT stream FROM attachments WHERE stream IS NOT NULL")).scalars().all()
    return pids, message_pids, streams


def _as_random_made_them(engine) -> list[int]:
    """Give every part and stream an id from random(), as 0006 and 0012 did before their fix, in the order the rows
    arrived; the ids in the order random() made them."""
    pids, message_pids, streams = _arrived(engine)
    with engine.begin() as conn:
        made = conn.execute(text(OLD_RANDOM), {"n": len(pids) + len(message_pids) + len(streams)}).scalars().all()
        new = iter(made)
        for table, column, olds in (("parts", "pid", pids), ("message_parts", "pid", message_pids)):
            conn.execute(text(f"UPDATE {table} SET {column} = :new WHERE {column} = :old"),  # noqa: S608
                         [{"new": next(new), "old": old} for old in olds])
        renamed = [{"new": next(new), "old": old} for old in streams]  # one stream, one id in all three tables
        for table in ("message_parts", "attachments", "message_attachments"):
            conn.execute(text(f"UPDATE {table} SET stream = :new WHERE stream = :old"), renamed)  # noqa: S608
    return made


@pytest.mark.slow
@pytest.mark.postgres
def test_0013_redraws_the_ids_random_made_and_keeps_every_file(pg_url, identities) -> None:
    """Reports' parts, delivered follow-ups' files and a carrier half uploaded, their ids made by random() in arrival
    order (the adversary predicts the third from the first two): after 0013 no id is random()'s (1 mod 1024), none
    is left, every file reads the same bytes and the carrier's upload finishes; 0013 run again changes nothing."""
    engine = connect(pg_url)
    upgrade(engine)
    keys = [i.recipient.key_id for i in identities]
    reports = {}
    for _ in range(3):
        data = [os.urandom(SEALED), os.urandom(SEALED)]
        report = seal_report([i.recipient for i in identities], {"description": "x"})
        reports[store_case(engine, report.header, report.body, "browser", keys, [(SEALED, [d]) for d in data])] = data
    reply = Identity.generate()
    report = seal_report([i.recipient for i in identities], {"description": "x"}, reply_key=str(reply.recipient))
    case_id = get_case(engine, store_case(engine, report.header, report.body, "browser", keys, [])).id

    def message(size: int):
        return seal_message([i.recipient for i in identities], reply.recipient, "reporter", "files",
                            [("a.bin", "application/octet-stream", [os.urandom(size)])])
    delivered = {store_follow_up(engine, case_id, sealed): sealed.streams for sealed in (message(9), message(99))}
    waiting = message(PART + 9)
    token = admit_follow_up(engine, case_id, waiting.header, waiting.body, [len(waiting.streams[0])], "browser",
                            Limits(1 << 30, 1 << 30))
    carrier = upload_case(engine, token)
    put_part(engine, carrier, 0, 0, waiting.streams[0][:PART])
    migrate_to(engine, "0012_message_streams", down=True)
    made = _as_random_made_them(engine)
    assert predicts(made[0], made[1], made) == {made[2]}, "the setup is not what random() made"

    upgrade(engine)
    after = _ids(engine)
    assert all((i - 1) % 1024 for values in after.values() for i in values), "an id random() made is left"
    assert not set(made) & {i for values in after.values() for i in values}
    first, second, *_ = stored = [i for ids in _arrived(engine) for i in ids]
    assert predicts(first, second, stored) == set(), "the first two ids give away the next"
    for ref, data in reports.items():
        assert [b"".join(iter_parts(engine, get_case(engine, ref).id, idx)) for idx in (0, 1)] == data
    for seq, streams in delivered.items():
        assert [b"".join(iter_parts(engine, case_id, 0, seq=seq))] == list(streams)
    assert missing_parts(engine, carrier) == {0: [1]}
    put_part(engine, carrier, 0, 1, waiting.streams[0][PART:])
    seq = deliver(engine, carrier)
    assert b"".join(iter_parts(engine, case_id, 0, seq=seq)) == waiting.streams[0]
    again = _ids(engine)
    migrate_to(engine, "0012_message_streams", down=True)
    upgrade(engine)
    assert _ids(engine) == again, "0013 redrew ids it had made"
    engine.dispose()


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_0013_on_sqlite_redraws_only_marked_ids(engine, identities) -> None:
    """On SQLite (random() a stream cipher the OS seeds) only ids that are 1 mod 1024, as a PostgreSQL backup restored
    there holds, get new ones; the others stay, and the file reads the same."""
    report = seal_report([i.recipient for i in identities], {"description": "x"})
    data = [os.urandom(SEALED), os.urandom(SEALED)]
    ref = store_case(engine, report.header, report.body, "browser", [identities[0].recipient.key_id],
                     [(SEALED, [d]) for d in data])
    migrate_to(engine, "0012_message_streams", down=True)
    with engine.begin() as conn:
        conn.execute(text("UPDATE parts SET pid = 1025 WHERE idx = 0"))
        conn.execute(text("UPDATE parts SET pid = 1026 WHERE idx = 1"))
    upgrade(engine)
    (pid,) = [i for i in _ids(engine)[("parts", "pid")] if i != 1026]
    assert pid % 1024 != 1
    assert [b"".join(iter_parts(engine, get_case(engine, ref).id, idx)) for idx in (0, 1)] == data
