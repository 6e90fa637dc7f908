"""Red team rt-streams on a follow-up's files stored where they stay (issue 24 item 3, migration 0012): the order its
stream ids keep, parts written while their carrier goes, and what a bundle takes of them."""

from __future__ import annotations

import os

import pytest
from sqlalchemy import select

from intake.crypto.keys import Identity
from intake.crypto.message import seal_message
from intake.crypto.report import seal_report
from intake.storage.admission import Limits
from intake.storage.cases import get_case
from intake.storage.db import connect
from intake.storage.schema import message_attachments
from tests.support.pgrandom import predicts
from tests.support.storage import migrate_to, store_case, store_follow_up

LIMITS = Limits(daily_bytes=1 << 30, pending_bytes=1 << 30)


def _case(engine, identities) -> tuple[int, Identity]:
    reply = Identity.generate()
    report = seal_report([i.recipient for i in identities], {"description": "x"}, reply_key=str(reply.recipient))
    ref = store_case(engine, report.header, report.body, "browser", [i.recipient.key_id for i in identities], [])
    return get_case(engine, ref).id, reply


def _message(identities, reply, size: int = 9):
    return seal_message([i.recipient for i in identities], reply.recipient, "reporter", "files",
                        [("a.bin", "application/octet-stream", [os.urandom(size)])])


@pytest.mark.slow
@pytest.mark.postgres
def test_migration_ids_keep_no_order(pg_url, identities) -> None:
    """Stream ids that 0012 gives follow-ups delivered before it do not predict each other: from PostgreSQL's random()
    (xoroshiro128**) in the table's physical order, the first two delivered gave away the third (and so the order in
    which every follow-up with files arrived, in every backup)."""
    engine = connect(pg_url)
    migrate_to(engine, "head")
    delivered = []
    for _ in range(3):  # three cases' follow-ups, in this order
        case_id, reply = _case(engine, identities)
        store_follow_up(engine, case_id, _message(identities, reply))
        delivered.append(case_id)
    migrate_to(engine, "0011_carried_tombstones", down=True)
    migrate_to(engine, "head")
    with engine.connect() as conn:
        ids = dict(conn.execute(select(message_attachments.c.case_id, message_attachments.c.stream)).all())
    engine.dispose()
    first, second, _third = (ids[case_id] for case_id in delivered)
    assert predicts(first, second, ids.values()) == set(), "the first two stream ids gave away the third"
    assert {(i - 1) % 1024 for i in ids.values()} != {0}, "ids made of random()'s 52 bits"
