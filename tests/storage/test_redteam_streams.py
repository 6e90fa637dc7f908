"""Red team rt-streams on a follow-up's files stored where they stay (issue 24 item 3, migration 0012): the order its
stream ids keep, parts written while their carrier goes, and what a bundle takes of them."""

from __future__ import annotations

import os
import threading
import time

import pytest
from sqlalchemy import func, select, text

from intake.bundle.read import read_bundle
from intake.bundle.write import export_sealed
from intake.clock import today
from intake.crypto.message import seal_message
from intake.crypto.report import seal_report
from intake.crypto.stream import PART, sealed_length
from intake.storage import threads
from intake.storage.admission import Limits
from intake.storage.cases import CARRIER, StorageError
from intake.storage.db import connect
from intake.storage.followups import CARRIERS_PER_CASE, admit_follow_up, deliver
from intake.storage.lifecycle import (
    add_stream,
    append_parts,
    discard,
    expire_uploads,
    open_arrival,
    put_part,
    upload_case,
)
from intake.storage.retention import delete_cases
from intake.storage.schema import message_attachments, message_parts, parts
from tests.support.followups import replyable_case
from tests.support.pgrandom import predicts
from tests.support.storage import migrate_to, store_case, store_follow_up

SEALED = sealed_length(9)  # a valid stream's length
LIMITS = Limits(daily_bytes=1 << 30, pending_bytes=1 << 30)


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
        case_id, reply = replyable_case(engine, identities)
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


@pytest.mark.slow
@pytest.mark.postgres
def test_migration_part_ids_keep_no_order(pg_url, identities) -> None:
    """Part ids that 0006 gives the parts stored before it do not predict each other (the same break as 0012's: ids
    from random() in heap order, three reports' parts in the order they arrived)."""
    engine = connect(pg_url)
    migrate_to(engine, "head")
    refs = []
    for _ in range(3):
        report = seal_report([i.recipient for i in identities], {"description": "x"})
        refs.append(store_case(engine, report.header, report.body, "browser",
                               [i.recipient.key_id for i in identities], [(SEALED, [os.urandom(SEALED)])]))
    migrate_to(engine, "0005_threads", down=True)
    migrate_to(engine, "head")
    with engine.connect() as conn:
        ids = dict(conn.execute(text("SELECT c.ref, p.pid FROM parts p JOIN cases c ON c.id = p.case_id")).all())
    engine.dispose()
    first, second, _third = (ids[ref] for ref in refs)
    assert predicts(first, second, ids.values()) == set(), "the first two part ids gave away the third"


ON_POSTGRES = pytest.mark.parametrize("db_url", [pytest.param("postgresql", marks=pytest.mark.postgres)],
                                      indirect=True)


def _blocked(engine, count: int, thread: threading.Thread | None = None) -> None:
    """Wait until `count` other sessions of this database wait for a row lock (or `thread` ended)."""
    for _ in range(200):
        if thread is not None and not thread.is_alive():
            return
        with engine.connect() as conn:
            if conn.execute(text("SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                                 "AND wait_event_type = 'Lock'")).scalar_one() >= count:
                return
        time.sleep(0.05)
    raise AssertionError(f"{count} sessions never waited for a lock")


def _in_thread(work) -> tuple[threading.Thread, list[object]]:
    """Run `work` in a thread; its result (or error) lands in the list."""
    done: list[object] = []

    def run() -> None:
        try:
            done.append(work())
        except Exception as exc:  # noqa: BLE001 - handed to the test
            done.append(exc)
    thread = threading.Thread(target=run)
    thread.start()
    return thread, done


def _count(engine, table) -> int:
    with engine.connect() as conn:
        return conn.execute(select(func.count()).select_from(table)).scalar_one()


@ON_POSTGRES
def test_a_part_stored_during_a_purge_goes_with_it(engine, identities) -> None:
    """A purge deletes a carrier's parts and then the carrier: a part of its upload stored between the two (PostgreSQL
    writes side by side) outlived it, under a stream nothing names, that nothing ever deleted (a disk leak)."""
    case_id, reply = replyable_case(engine, identities)
    store_follow_up(engine, case_id, _message(identities, reply))
    sealed = _message(identities, reply, 2 * PART)
    token = admit_follow_up(engine, case_id, sealed.header, sealed.body, [len(sealed.streams[0])], "browser", LIMITS)
    carrier = upload_case(engine, token)
    put_part(engine, carrier, 0, 0, sealed.streams[0][:PART])
    with engine.connect() as holder, holder.begin():  # holds the purge on the delivered follow-up's parts
        holder.execute(text("SELECT pid FROM message_parts WHERE stream IN (SELECT stream FROM message_attachments) "
                            "FOR UPDATE"))
        purge, _purged = _in_thread(lambda: delete_cases(engine, [case_id]))
        _blocked(engine, 1)
        upload, stored = _in_thread(lambda: put_part(engine, carrier, 0, 1, sealed.streams[0][PART:2 * PART]))
        _blocked(engine, 2, upload)  # stored at once, or waits for the purge
        holder.rollback()
    purge.join(30)
    upload.join(30)
    assert isinstance(stored[0], StorageError), stored  # refused: its carrier went first
    assert _count(engine, message_parts) == 0, "a part outlived its carrier"


@ON_POSTGRES
def test_a_batch_sealed_while_its_carrier_is_discarded_goes_with_it(engine) -> None:
    """The sweep's discard of a carrier sealed on arrival deletes its parts, then the carrier: a batch stored between
    the two outlived it (append_parts did not lock the case as put_part does)."""
    carrier = open_arrival(engine, CARRIER)
    add_stream(engine, carrier, 0)
    append_parts(engine, carrier, 0, 0, [os.urandom(PART)])
    with engine.connect() as holder, holder.begin():  # holds the discard on the carrier's attachment row
        holder.execute(text("SELECT idx FROM attachments WHERE case_id = :c FOR UPDATE"), {"c": carrier})
        gone, _discarded = _in_thread(lambda: discard(engine, carrier))
        _blocked(engine, 1)
        sealing, stored = _in_thread(lambda: append_parts(engine, carrier, 0, 1, [os.urandom(PART)]))
        _blocked(engine, 2, sealing)
        holder.rollback()
    gone.join(30)
    sealing.join(30)
    assert isinstance(stored[0], StorageError), stored  # refused: its carrier went first
    assert _count(engine, message_parts) == 0, "a batch outlived its carrier"


def test_a_bundle_takes_delivered_streams_alone(engine, identities, tmp_path) -> None:
    """`intake export-sealed` with a follow-up delivered and another uploaded whole but not delivered (held): the
    bundle holds the first's files, byte for byte, and nothing of the second's."""
    case_id, reply = replyable_case(engine, identities)
    shown, waiting = _message(identities, reply, PART + 5), _message(identities, reply, PART + 5)
    store_follow_up(engine, case_id, shown)
    token = admit_follow_up(engine, case_id, waiting.header, waiting.body, [len(waiting.streams[0])], "browser",
                            LIMITS)
    carrier = upload_case(engine, token)
    for number in range(2):
        put_part(engine, carrier, 0, number, waiting.streams[0][number * PART:(number + 1) * PART])
    out = tmp_path / "cases.bundle"
    export_sealed(engine, out)
    with out.open("rb") as f:
        _manifest, found = read_bundle(f)
        data = out.read_bytes()
    assert [len(c.thread) for c in found] == [1], "one case, one message"
    (offset, length), = found[0].thread[0].attachments
    assert data[offset:offset + length] == shown.streams[0]
    assert all(waiting.streams[0][at:at + 64] not in data for at in (0, PART)), "an undelivered part was exported"


@ON_POSTGRES
def test_one_codename_holds_two_uploads_however_fast_it_asks(engine, identities) -> None:
    """Follow-ups with files admitted at once for one case (PostgreSQL admits side by side): each counted the case's
    uploads before any had stored its own, so eight at once held eight uploads, not CARRIERS_PER_CASE."""
    case_id, reply = replyable_case(engine, identities)
    sealed = _message(identities, reply, PART)
    start = threading.Barrier(8)

    def admit() -> str | None:
        start.wait()
        return admit_follow_up(engine, case_id, sealed.header, sealed.body, [len(sealed.streams[0])], "browser",
                               LIMITS)
    runs = [_in_thread(admit) for _ in range(8)]
    for thread, _done in runs:
        thread.join(60)
    outcomes = [done[0] for _thread, done in runs]
    assert sum(isinstance(o, str) for o in outcomes) == CARRIERS_PER_CASE, outcomes
    assert all(isinstance(o, str) or getattr(o, "reason", None) == "held" for o in outcomes), outcomes


@ON_POSTGRES
def test_a_follow_up_delivered_while_replies_are_imported_is_stored(engine, identities) -> None:
    """Delivery counted the thread's places before it locked anything: with an import of replies (which locks the
    case) under way, the two deadlocked over the same place, and PostgreSQL cancelled the follow-up (a 503, its files
    all uploaded, its carrier left holding one of the codename's two uploads until the sweep) or the import."""
    case_id, reply = replyable_case(engine, identities)
    sealed = _message(identities, reply)
    token = admit_follow_up(engine, case_id, sealed.header, sealed.body, [len(sealed.streams[0])], "browser", LIMITS)
    carrier = upload_case(engine, token)
    put_part(engine, carrier, 0, 0, sealed.streams[0])
    with engine.connect() as importing, importing.begin():  # threads.add_replies: the case locked, then a reply
        importing.execute(text("SELECT id FROM cases WHERE id = :c FOR UPDATE"), {"c": case_id})
        delivery, place = _in_thread(lambda: deliver(engine, carrier))
        _blocked(engine, 1, delivery)
        importing.execute(text("INSERT INTO messages (case_id, seq, sender, day, header, body, unread) VALUES "
                               "(:c, 1, 'reviewer', CURRENT_DATE, 'h', 'b', false)"), {"c": case_id})
    delivery.join(30)
    assert place == [2]
    assert [m.sender for m in threads.thread(engine, case_id)] == ["reviewer", "reporter"]


def test_migration_0012_moves_a_nojs_carrier_and_the_sweep_takes_it(db_url, identities) -> None:
    """A follow-up sealed on arrival under 0011 (no `carriers` row, its length still 0, two parts in `parts`) when
    0012 runs: its parts move under its new stream id, and the sweep's discard then deletes them all (held)."""
    engine = connect(db_url)
    migrate_to(engine, "0011_carried_tombstones")
    with engine.begin() as conn:
        conn.execute(text("INSERT INTO cases (id, ref, received, status, sealed_by, header, body, complete, idle) "
                          "VALUES (78, 'CARRIER78', :d, 'new', 'message', :e, :e, false, 0)"),
                     {"d": today(), "e": b""})
        conn.execute(text("INSERT INTO attachments (case_id, idx, length) VALUES (78, 0, 0)"))
        for number in range(2):
            conn.execute(text("INSERT INTO parts (pid, case_id, idx, part, data) VALUES (:p, 78, 0, :n, :d)"),
                         {"p": number + 5, "n": number, "d": os.urandom(PART)})
    migrate_to(engine, "head")
    with engine.connect() as conn:
        stream = conn.execute(text("SELECT stream FROM attachments WHERE case_id = 78")).scalar_one()
        moved = conn.execute(select(message_parts.c.part).where(message_parts.c.stream == stream)).scalars().all()
    assert sorted(moved) == [0, 1]
    assert expire_uploads(engine, every=True) == 1
    assert (_count(engine, message_parts), _count(engine, parts)) == (0, 0)
    engine.dispose()
