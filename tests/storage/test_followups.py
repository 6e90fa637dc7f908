"""Follow-ups' files in storage: delivered whole in one transaction or not at all, swept when abandoned, purged
with their case, and migrated up and down (storage/followups.py, migration 0007)."""

from __future__ import annotations

import os

import pytest
from sqlalchemy import func, select

from intake.crypto.errors import CryptoError
from intake.crypto.message import seal_message
from intake.crypto.stream import PART
from intake.storage import threads
from intake.storage.admission import Limits, Refused
from intake.storage.budgets import IDLE_SWEEPS
from intake.storage.cases import StorageError
from intake.storage.followups import admit_follow_up, deliver
from intake.storage.lifecycle import expire_uploads, put_part, upload_case
from intake.storage.retention import delete_cases
from intake.storage.schema import attachments, carriers, cases, message_attachments, message_parts, messages, parts
from tests.support.followups import replyable_case
from tests.support.storage import store_follow_up

LIMITS = Limits(daily_bytes=1 << 30, pending_bytes=1 << 30)


def _message(identities, reply, size=2 * PART + 9):
    return seal_message([i.recipient for i in identities], reply.recipient, "reporter", "see the files",
                        [("a.bin", "application/octet-stream", [os.urandom(size)]), ("b.txt", "text/plain", [b"b"])])


def _counts(engine) -> list[int]:
    with engine.connect() as conn:
        return [conn.execute(select(func.count()).select_from(t)).scalar_one()
                for t in (cases, carriers, attachments, parts, messages, message_attachments, message_parts)]


def _part_rows(engine) -> set[tuple[int, int, int]]:
    """Every stored part of a follow-up's file: its random id, its stream's id and its number."""
    with engine.connect() as conn:
        return set(conn.execute(select(message_parts.c.pid, message_parts.c.stream, message_parts.c.part)).all())


def _begin(engine, case_id, sealed) -> int:
    token = admit_follow_up(engine, case_id, sealed.header, sealed.body, [len(s) for s in sealed.streams],
                            "browser", LIMITS)
    return upload_case(engine, token)


def test_delivered_whole_or_not_at_all(engine, identities) -> None:
    case_id, reply = replyable_case(engine, identities)
    sealed = _message(identities, reply)
    carrier = _begin(engine, case_id, sealed)
    stream = sealed.streams[0]
    put_part(engine, carrier, 0, 0, stream[:PART])
    put_part(engine, carrier, 1, 0, sealed.streams[1])
    with pytest.raises(StorageError, match="stream 0 is not stored whole"):
        deliver(engine, carrier)
    assert _counts(engine) == [2, 1, 2, 0, 0, 0, 2]
    for number in (1, 2):
        put_part(engine, carrier, 0, number, stream[number * PART:(number + 1) * PART])
    uploaded = _part_rows(engine)
    assert deliver(engine, carrier) == 1
    assert _counts(engine) == [1, 0, 0, 0, 1, 2, 4]
    assert _part_rows(engine) == uploaded, "delivery moved or rewrote a part"
    with pytest.raises(StorageError, match="no follow-up waits"):
        deliver(engine, carrier)


def test_a_full_thread_keeps_the_carrier_and_stores_nothing(engine, identities, monkeypatch) -> None:
    case_id, reply = replyable_case(engine, identities)
    carrier = _begin(engine, case_id, sealed := _message(identities, reply, size=10))
    for idx, stream in enumerate(sealed.streams):
        put_part(engine, carrier, idx, 0, stream)
    monkeypatch.setattr(threads, "MAX_MESSAGES", 0)
    with pytest.raises(StorageError, match="the most one case keeps"):
        deliver(engine, carrier)
    assert _counts(engine) == [2, 1, 2, 0, 0, 0, 2]


def test_budgets_refuse_before_anything_is_stored(engine, identities) -> None:
    """A replayed proof of work, the pending bytes, the day's bytes, a case gone: refused, nothing kept."""
    case_id, reply = replyable_case(engine, identities)
    sealed = _message(identities, reply)
    lengths = [len(s) for s in sealed.streams]
    with pytest.raises(Refused, match="pending"):
        admit_follow_up(engine, case_id, sealed.header, sealed.body, lengths, "browser", Limits(1 << 30, PART))
    with pytest.raises(Refused, match="daily"):
        admit_follow_up(engine, case_id, sealed.header, sealed.body, lengths, "browser", Limits(PART, 1 << 30))
    token = admit_follow_up(engine, case_id, sealed.header, sealed.body, lengths, "browser", LIMITS, bytes(16), 20000)
    with pytest.raises(Refused, match="replayed"):
        admit_follow_up(engine, case_id, sealed.header, sealed.body, lengths, "browser", LIMITS, bytes(16), 20000)
    expire_uploads(engine, every=True)
    assert token is not None
    with pytest.raises(StorageError, match="no such case"):
        admit_follow_up(engine, case_id + 1, sealed.header, sealed.body, lengths, "browser", LIMITS)
    assert _counts(engine) == [1, 0, 0, 0, 0, 0, 0]


def test_abandoned_carriers_are_swept(engine, identities) -> None:
    case_id, reply = replyable_case(engine, identities)
    carrier = _begin(engine, case_id, _message(identities, reply))
    put_part(engine, carrier, 1, 0, _message(identities, reply).streams[1])
    for _ in range(IDLE_SWEEPS - 1):
        assert expire_uploads(engine) == 0
    assert expire_uploads(engine) == 1
    assert _counts(engine) == [1, 0, 0, 0, 0, 0, 0]


def test_purge_takes_threads_files_and_carriers(engine, identities) -> None:
    case_id, reply = replyable_case(engine, identities)
    other_id, other_reply = replyable_case(engine, identities)
    store_follow_up(engine, case_id, _message(identities, reply))
    store_follow_up(engine, other_id, _message(identities, other_reply, size=5))
    _begin(engine, case_id, _message(identities, reply))
    delete_cases(engine, [case_id])
    assert _counts(engine) == [1, 0, 0, 0, 1, 2, 2]
    assert [m.lengths for m in threads.thread(engine, other_id)] == [(24 + 5 + 17, 24 + 1 + 17)]


def test_migration_0007_down_and_up(db_url, identities) -> None:
    from intake.storage.db import connect, upgrade
    from tests.support.storage import migrate_to

    engine = connect(db_url)
    upgrade(engine)
    case_id, reply = replyable_case(engine, identities)
    store_follow_up(engine, case_id, _message(identities, reply, size=5))
    _begin(engine, case_id, _message(identities, reply, size=5))
    migrate_to(engine, "0006_part_ids", down=True)
    with engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(cases)).scalar_one() == 1, "carriers dropped"
        assert conn.execute(select(func.count()).select_from(messages)).scalar_one() == 1
    upgrade(engine)
    assert _counts(engine) == [1, 0, 0, 0, 1, 0, 0]
    engine.dispose()


def test_rewrap_leaves_carriers_and_reseals_delivered_files(engine, identities) -> None:
    from intake.crypto.message import open_message
    from intake.keys.rewrap import rewrap

    case_id, reply = replyable_case(engine, identities)
    store_follow_up(engine, case_id, _message(identities, reply, size=5))
    carrier = _begin(engine, case_id, _message(identities, reply, size=5))
    with engine.connect() as conn:
        held = conn.execute(select(cases.c.header).where(cases.c.id == carrier)).scalar_one()
    kept = identities[1:]
    outcome = rewrap(engine, identities[:1], [i.recipient for i in kept], jobs=1)
    assert outcome.failed == []
    assert outcome.rewrapped == 2, "the report and the delivered follow-up"
    with engine.connect() as conn:
        assert conn.execute(select(cases.c.header).where(cases.c.id == carrier)).scalar_one() == held
    stored = threads.thread(engine, case_id)[0]
    with pytest.raises(CryptoError, match="not sealed to any of your keys"):
        open_message(stored.header, stored.body, 2, identities[:1], reply.recipient, "reporter")
    assert open_message(stored.header, stored.body, 2, kept, reply.recipient, "reporter").body.text == "see the files"
