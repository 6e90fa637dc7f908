"""A follow-up's files stored where they stay (issue 24 item 3, migration 0012), attacked: a carrier's parts are
never shown or counted before delivery, never backed up, never delivered twice or into another thread, never
written after delivery, and never outlive their carrier; existing files and uploads under way survive the
migration both ways."""

from __future__ import annotations

import os
import secrets

import pytest
from sqlalchemy import func, insert, select, text
from sqlalchemy.exc import IntegrityError

from intake.clock import today
from intake.crypto.keys import Identity
from intake.crypto.message import seal_message
from intake.crypto.report import seal_report
from intake.crypto.stream import PART
from intake.operations.backup import backup
from intake.storage import threads
from intake.storage.admission import Limits
from intake.storage.anchors import day_items
from intake.storage.cases import StorageError, count_headers, get_case, iter_parts, part_count
from intake.storage.db import connect, upgrade
from intake.storage.followups import admit_follow_up, deliver
from intake.storage.lifecycle import discard, put_part, upload_case
from intake.storage.retention import delete_cases
from intake.storage.schema import message_attachments, message_parts
from intake.storage.streams import missing_parts
from tests.support.storage import migrate_to, store_case, store_follow_up

LIMITS = Limits(daily_bytes=1 << 30, pending_bytes=1 << 30)


def _case(engine, identities) -> tuple[int, str, Identity]:
    reply = Identity.generate()
    report = seal_report([i.recipient for i in identities], {"description": "x"}, reply_key=str(reply.recipient))
    ref = store_case(engine, report.header, report.body, "browser", [i.recipient.key_id for i in identities], [])
    return get_case(engine, ref).id, ref, reply


def _message(identities, reply, text_="see the files"):
    return seal_message([i.recipient for i in identities], reply.recipient, "reporter", text_,
                        [("a.bin", "application/octet-stream", [os.urandom(2 * PART + 9)]),
                         ("b.txt", "text/plain", [b"b"])])


def _parts(stream: bytes) -> list[bytes]:
    return [stream[n * PART:(n + 1) * PART] for n in range(part_count(len(stream)))]


def _uploaded(engine, case_id, sealed, skip: int | None = None) -> int:
    """A carrier of `sealed` for `case_id` with every part stored (but part `skip` of stream 0), not delivered."""
    token = admit_follow_up(engine, case_id, sealed.header, sealed.body, [len(s) for s in sealed.streams],
                            "browser", LIMITS)
    carrier = upload_case(engine, token)
    for idx, stream in enumerate(sealed.streams):
        for number, data in enumerate(_parts(stream)):
            if (idx, number) != (0, skip):
                put_part(engine, carrier, idx, number, data)
    return carrier


def _count(engine, table) -> int:
    with engine.connect() as conn:
        return conn.execute(select(func.count()).select_from(table)).scalar_one()


def _files(engine, case_id: int, seq: int) -> list[bytes]:
    with engine.connect() as conn:
        idxs = conn.execute(select(message_attachments.c.idx).where(message_attachments.c.case_id == case_id,
                                                                    message_attachments.c.seq == seq)
                            .order_by(message_attachments.c.idx)).scalars().all()
    return [b"".join(iter_parts(engine, case_id, idx, seq=seq)) for idx in idxs]


def test_an_uploaded_carrier_shows_nowhere_until_delivered(engine, identities, tmp_path) -> None:
    """Every reader of threads, counts, the anchor's day and a backup: the carrier's message and parts are absent."""
    case_id, ref, reply = _case(engine, identities)
    shown = _message(identities, reply, "delivered")
    assert store_follow_up(engine, case_id, shown) == 1
    _uploaded(engine, case_id, _message(identities, reply, "waiting"))
    assert [m.seq for m in threads.thread(engine, case_id)] == [1]
    page, more = threads.thread_page(engine, case_id)
    assert ([m.seq for m in page], more) == ([1], False)
    assert threads.unread_refs(engine) == {ref}
    assert threads.unread_since(engine, today()) == 1
    assert threads.cases_with_messages(engine) == {case_id}
    assert [seq for _c, seq, _r, _h in threads.message_headers(engine)] == [1]
    assert count_headers(engine) == 2, "the report and one message"
    assert sorted(item.seq for item in day_items(engine, today())) == [0, 1]
    assert _files(engine, case_id, 2) == []
    assert _count(engine, message_parts) == 2 * 4, "both follow-ups' parts are stored"
    out = tmp_path / "backup.db"
    backup(engine.url.render_as_string(hide_password=False), out)
    copy = connect(f"sqlite:///{out}")
    assert _count(copy, message_parts) == 4, "the backup keeps the delivered follow-up's parts alone"
    assert _files(copy, case_id, 1) == list(shown.streams)
    copy.dispose()


def test_a_stream_is_delivered_once_into_its_own_thread(engine, identities) -> None:
    case_id, _ref, reply = _case(engine, identities)
    other_id, _other_ref, _other_reply = _case(engine, identities)
    sealed = _message(identities, reply)
    carrier = _uploaded(engine, case_id, sealed)
    with pytest.raises(StorageError, match="begun for another case's thread"):
        deliver(engine, carrier, sealed.header, sealed.body, [len(s) for s in sealed.streams], other_id)
    assert threads.thread(engine, other_id) == []
    stored = {tuple(r) for r in _rows(engine)}
    assert deliver(engine, carrier) == 1
    assert {tuple(r) for r in _rows(engine)} == stored, "delivery moved or rewrote a part"
    with pytest.raises(StorageError, match="no follow-up waits"):
        deliver(engine, carrier)
    with pytest.raises(StorageError, match="no upload waits"):  # the upload's token named this carrier
        put_part(engine, carrier, 0, 0, os.urandom(PART))
    assert _files(engine, case_id, 1) == list(sealed.streams), "a part written after delivery"
    with engine.connect() as conn:
        streams = conn.execute(select(message_attachments.c.stream)).scalars().all()
    with pytest.raises(IntegrityError), engine.begin() as conn:  # a forged row naming a delivered stream
        conn.execute(insert(message_attachments).values(case_id=case_id, seq=1, idx=9, length=10,
                                                        stream=streams[0]))
    assert [len(m.lengths) for m in threads.thread(engine, case_id)] == [2]


def _rows(engine):
    with engine.connect() as conn:
        return conn.execute(select(message_parts.c.pid, message_parts.c.stream, message_parts.c.part)).all()


def test_a_carriers_parts_go_with_it(engine, identities) -> None:
    """Discarded (a failed post), or purged with its case: nothing of its parts is left."""
    case_id, _ref, reply = _case(engine, identities)
    kept = store_follow_up(engine, case_id, _message(identities, reply))
    carrier = _uploaded(engine, case_id, _message(identities, reply), skip=1)
    assert missing_parts(engine, carrier) == {0: [1], 1: []}
    discard(engine, carrier)
    assert _count(engine, message_parts) == 4, "the delivered follow-up's parts alone"
    assert kept == 1
    _uploaded(engine, case_id, _message(identities, reply), skip=2)
    delete_cases(engine, [case_id])
    assert _count(engine, message_parts) == 0


def test_migration_0012_keeps_files_and_resumes_uploads(db_url, identities) -> None:
    """A delivered follow-up's files and a carrier's parts stored under 0011 survive 0012, down and up again; the
    carrier's upload then resumes where it stopped and is delivered whole."""
    engine = connect(db_url)
    upgrade(engine)
    case_id, _ref, reply = _case(engine, identities)
    delivered, waiting = _message(identities, reply, "delivered"), _message(identities, reply, "waiting")
    store_follow_up(engine, case_id, delivered)
    migrate_to(engine, "0011_carried_tombstones", down=True)
    with engine.begin() as conn:  # a carrier as 0011 stored it, its parts in `parts`, part 2 of stream 0 to come
        conn.execute(text("INSERT INTO cases (id, ref, received, status, sealed_by, header, body, complete, "
                          "upload_token, idle) VALUES (77, 'CARRIER77', :d, 'new', 'message', :h, :b, false, "
                          ":t, 0)"), {"d": today(), "h": waiting.header, "b": waiting.body,
                                      "t": secrets.token_hex(32)})
        conn.execute(text("INSERT INTO carriers (case_id, thread_case) VALUES (77, :c)"), {"c": case_id})
        for idx, stream in enumerate(waiting.streams):
            conn.execute(text("INSERT INTO attachments (case_id, idx, length) VALUES (77, :i, :n)"),
                         {"i": idx, "n": len(stream)})
            for number, data in enumerate(_parts(stream)):
                if (idx, number) != (0, 2):
                    conn.execute(text("INSERT INTO parts (pid, case_id, idx, part, data) VALUES (:p, 77, :i, :n, "
                                      ":d)"), {"p": secrets.randbits(62) + 1, "i": idx, "n": number, "d": data})
    upgrade(engine)
    assert _files(engine, case_id, 1) == list(delivered.streams)
    assert missing_parts(engine, 77) == {0: [2], 1: []}
    put_part(engine, 77, 0, 2, _parts(waiting.streams[0])[2])
    assert deliver(engine, 77) == 2
    for down in (True, False):
        migrate_to(engine, "0011_carried_tombstones" if down else "head", down=down)
        if not down:
            assert [_files(engine, case_id, seq) for seq in (1, 2)] == [list(delivered.streams),
                                                                       list(waiting.streams)]
    with engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM parts")).scalar_one() == 0, "a carrier's part left behind"
    engine.dispose()
