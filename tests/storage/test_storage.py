"""Storage on a real SQLite file and a real PostgreSQL database: cases, parts, visibility."""

from __future__ import annotations

import datetime as dt
import os
import subprocess
import sys

import pytest
from sqlalchemy import func, select, text

from intake.crypto.report import open_report, seal_report
from intake.crypto.stream import PART
from intake.storage import cases as store
from intake.storage import lifecycle, streams
from intake.storage.budgets import IDLE_SWEEPS
from intake.storage.db import MIGRATIONS, connect, integrity_ok, migrations_head, upgrade
from intake.storage.schema import case_keys, parts
from tests.support.storage import begin_case, migrate_to, replace_header, set_status, store_case


def sealed(identities, files=()):
    """A sealed report to the three identities."""
    return seal_report([i.recipient for i in identities], {"description": "storage test"},
                       [(f"f{n}", "application/octet-stream", [data]) for n, data in enumerate(files)])


def split(stream: bytes) -> list[bytes]:
    """A stream cut into 1 MiB parts (format.md §7)."""
    return [stream[i:i + PART] for i in range(0, len(stream), PART)] or [b""]


def test_store_and_read_back(engine, identities) -> None:
    """A stored case comes back byte for byte, with its parts in order, and opens."""
    data = os.urandom(2 * PART + 123)
    report = sealed(identities, [data, b""])
    ref = store_case(engine, report.header, report.body, "server", [i.key_id for i in identities],
                           [(len(s), split(s)) for s in report.streams])
    case = store.get_case(engine, ref)
    assert case.header == report.header
    assert case.body == report.body
    assert case.sealed_by == "server"
    assert case.status == "new"
    assert case.received == dt.datetime.now(dt.UTC).date()
    assert case.lengths == tuple(len(s) for s in report.streams)
    assert b"".join(store.iter_parts(engine, case.id, 0)) == report.streams[0]
    opened = open_report(case.header, case.body, 2, [identities[1]])
    assert b"".join(opened.attachment(0, store.iter_parts(engine, case.id, 0), case.lengths[0])) == data
    assert [c.ref for c in store.iter_cases(engine)] == [ref]
    assert store.get_case(engine, ref.lower()) == case
    with engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(parts).where(parts.c.case_id == case.id)).scalar() == 4
        assert set(conn.execute(select(case_keys.c.key_id)).scalars()) == {i.key_id for i in identities}


def test_refs_are_random_and_reveal_nothing(engine, identities) -> None:
    """References are 12 random base32 characters, unrelated to content or order."""
    report = sealed(identities)
    refs = [store_case(engine, report.header, report.body, "browser", [identities[0].key_id], [])
            for _ in range(5)]
    assert len(set(refs)) == 5
    for ref in refs:
        assert len(ref) == 14
        assert ref.count("-") == 2
        assert set(ref.replace("-", "")) <= set(store.REF_ALPHABET)


def test_incomplete_case_is_invisible_until_complete(engine, identities) -> None:
    """An upload is not a case until every part is stored and it is completed atomically."""
    report = sealed(identities, [os.urandom(PART + 10)])
    stream = report.streams[0]
    case_id, ref, token = begin_case(engine, report.header, report.body, "browser",
                                           [identities[0].key_id], [len(stream)])
    assert len(token) == 64
    assert list(store.iter_cases(engine)) == []
    assert store.get_case(engine, ref) is None
    lifecycle.put_part(engine, case_id, 0, 1, stream[PART:])
    assert streams.missing_parts(engine, case_id) == {0: [0]}
    with pytest.raises(store.StorageError, match="not complete"):
        lifecycle.complete_case(engine, case_id)
    lifecycle.put_part(engine, case_id, 0, 0, stream[:PART])
    lifecycle.put_part(engine, case_id, 0, 0, stream[:PART])
    assert lifecycle.complete_case(engine, case_id) == ref
    assert store.get_case(engine, ref).lengths == (len(stream),)
    with pytest.raises(store.StorageError, match="no upload waits"):
        lifecycle.put_part(engine, case_id, 0, 0, stream[:PART])


@pytest.mark.parametrize(("part", "cut", "message"), [(0, 1, "must be"), (2, 0, "must be"), (-1, 0, "must be")])
def test_wrong_part_sizes_refused(engine, identities, part: int, cut: int, message: str) -> None:
    """Every part but the last is exactly 1 MiB, the last the rest; nothing else is stored."""
    report = sealed(identities, [os.urandom(PART + 10)])
    stream = report.streams[0]
    case_id, _, _ = begin_case(engine, report.header, report.body, "browser", ["00" * 16], [len(stream)])
    with pytest.raises(store.StorageError, match=message):
        lifecycle.put_part(engine, case_id, 0, part, stream[:PART - cut] if part == 0 else b"x")
    assert streams.missing_parts(engine, case_id) == {0: [0, 1]}


def test_invalid_stream_length_refused(engine, identities) -> None:
    """A declared attachment length no file size gives is refused before anything is stored."""
    report = sealed(identities)
    with pytest.raises(store.StorageError, match="not a valid stream"):
        begin_case(engine, report.header, report.body, "browser", ["00" * 16], [24 + 65553])
    with engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM cases")).scalar() == 0


def test_failed_store_leaves_nothing(engine, identities) -> None:
    """A store that fails midway discards the incomplete case and its parts."""
    report = sealed(identities, [os.urandom(PART + 10)])
    stream = report.streams[0]
    with pytest.raises(store.StorageError):
        store_case(engine, report.header, report.body, "server", ["00" * 16],
                         [(len(stream), [stream[:PART], stream[PART:] + b"extra"])])
    with engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM cases")).scalar() == 0
        assert conn.execute(text("SELECT count(*) FROM parts")).scalar() == 0


def test_expired_uploads_are_deleted(engine, identities) -> None:
    """Abandoned uploads expire with their parts; complete cases never do."""
    report = sealed(identities, [b"abc"])
    kept = store_case(engine, report.header, report.body, "server", ["00" * 16],
                            [(len(report.streams[0]), [report.streams[0]])])
    case_id, _, _ = begin_case(engine, report.header, report.body, "browser", ["00" * 16],
                                     [len(report.streams[0])])
    lifecycle.put_part(engine, case_id, 0, 0, report.streams[0])
    assert [lifecycle.expire_uploads(engine) for _ in range(IDLE_SWEEPS)] == [0] * (IDLE_SWEEPS - 1) + [1]
    with engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM parts")).scalar() == 1
    assert [c.ref for c in store.iter_cases(engine)] == [kept]


def test_an_upload_completed_as_the_sweep_expires_it_keeps_its_files(engine, identities, monkeypatch) -> None:
    """Red team round 3: the sweep picks the uploads to expire in one transaction and discards each in another; a
    reporter completing in between got a receipt, then the discard deleted the completed case's file parts."""
    report = sealed(identities, [b"the video"])
    case_id, ref, _ = begin_case(engine, report.header, report.body, "browser", ["00" * 16],
                                 [len(report.streams[0])])
    lifecycle.put_part(engine, case_id, 0, 0, report.streams[0])
    real_discard = lifecycle.discard

    def completed_first(eng, stale_id) -> None:
        assert lifecycle.complete_case(eng, stale_id) == ref  # the receipt, between the sweep's two steps
        real_discard(eng, stale_id)

    monkeypatch.setattr(lifecycle, "discard", completed_first)
    assert lifecycle.expire_uploads(engine, every=True) == 1
    case = store.get_case(engine, ref)
    assert case is not None
    assert b"".join(store.iter_parts(engine, case.id, 0)) == report.streams[0]
    assert open_report(case.header, case.body, 1, [identities[0]]).body.fields["description"] == "storage test"


@pytest.mark.parametrize("db_url", ["postgresql"], indirect=True)
def test_a_part_arriving_as_its_upload_expires_is_a_storage_error(engine, identities, monkeypatch) -> None:
    """Red team round 3: the sweep expires an upload begun before yesterday even while it progresses; on PostgreSQL
    a part looked up just before the discard committed failed on the foreign key (an IntegrityError: a 500). Now
    the part's lookup locks the case's row: a discard begun meanwhile waits for the part, then takes it with the
    rest; a part that comes after the discard finds no upload."""
    import threading

    report = sealed(identities, [b"the video"])
    case_id, _, _ = begin_case(engine, report.header, report.body, "browser", ["00" * 16], [len(report.streams[0])])
    real_check = lifecycle.check_part
    sweep = threading.Thread(target=lifecycle.discard, args=(engine, case_id))

    def discarded_meanwhile(length: int, part: int, data: bytes) -> None:
        real_check(length, part, data)
        sweep.start()
        sweep.join(1)
        assert sweep.is_alive(), "the discard did not wait for the part being stored"

    monkeypatch.setattr(lifecycle, "check_part", discarded_meanwhile)
    lifecycle.put_part(engine, case_id, 0, 0, report.streams[0])
    sweep.join(30)
    assert not sweep.is_alive()
    with engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(parts)).scalar_one() == 0
    monkeypatch.setattr(lifecycle, "check_part", real_check)
    with pytest.raises(store.StorageError, match="no upload waits"):
        lifecycle.put_part(engine, case_id, 0, 0, report.streams[0])


def test_replace_header_is_compare_and_swap(engine, identities) -> None:
    """A rewrap swaps the header only if it is unchanged, and updates the case's key ids."""
    report = sealed(identities)
    ref = store_case(engine, report.header, report.body, "server", [identities[0].key_id], [])
    case = store.get_case(engine, ref)
    assert replace_header(engine, case.id, report.header, b"new", [identities[1].key_id])
    assert not replace_header(engine, case.id, report.header, b"newer", [identities[2].key_id])
    with engine.connect() as conn:
        assert list(conn.execute(select(case_keys.c.key_id)).scalars()) == [identities[1].key_id]


def test_status_and_filters(engine, identities) -> None:
    """Statuses are checked; listing filters by status and date."""
    report = sealed(identities)
    ref = store_case(engine, report.header, report.body, "server", ["00" * 16], [])
    set_status(engine, ref, "in review")
    assert [c.ref for c in store.iter_cases(engine, status="in review")] == [ref]
    assert list(store.iter_cases(engine, status="new")) == []
    assert list(store.iter_cases(engine, since=dt.date.today() + dt.timedelta(days=2))) == []
    with pytest.raises(store.StorageError, match="unknown status"):
        set_status(engine, ref, "deleted")
    with pytest.raises(store.StorageError, match="no case"):
        set_status(engine, "XXXX-XXXX-XXXX", "closed")


def test_sqlite_settings(tmp_path) -> None:
    """SQLite runs with WAL, secure_delete and foreign keys on; upgrade is idempotent."""
    engine = connect(f"sqlite:///{tmp_path / 'a.db'}")
    upgrade(engine)
    upgrade(engine)
    with engine.connect() as conn:
        assert conn.execute(text("PRAGMA journal_mode")).scalar() == "wal"
        assert conn.execute(text("PRAGMA secure_delete")).scalar() == 1
        assert conn.execute(text("PRAGMA foreign_keys")).scalar() == 1
    assert integrity_ok(engine)
    engine.dispose()


def test_upgrade_at_the_head_costs_one_query(db_url) -> None:
    """The head read from the migration files is alembic's; a database behind it is migrated, and one at it is left
    alone without importing alembic (every command opens its database through upgrade)."""
    from alembic.config import Config
    from alembic.script import ScriptDirectory

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    head = ScriptDirectory.from_config(config).get_current_head()
    assert migrations_head() == head
    engine = connect(db_url)
    migrate_to(engine, "0007_follow_up_files")
    upgrade(engine)
    with engine.connect() as conn:
        assert conn.execute(text("SELECT version_num FROM alembic_version")).scalars().all() == [head]
    engine.dispose()
    probe = ("import sys; from intake.storage.db import connect, upgrade; upgrade(connect(sys.argv[1])); "
             "assert not [m for m in sys.modules if m.startswith('alembic')], 'alembic imported'")
    subprocess.run([sys.executable, "-c", probe, db_url], check=True, timeout=120)


def test_unsupported_database_url() -> None:
    """Only SQLite and PostgreSQL URLs are accepted, with a clear message."""
    with pytest.raises(ValueError, match="sqlite:/// or postgresql"):
        connect("mysql://localhost/x")


def test_part_ids_random_and_kept_by_migration(db_url, identities) -> None:
    """Parts stored under schema 0005 keep their bytes through 0006 (and back), and every part, old or new, gets
    a random id: no key, visible or hidden (SQLite's rowid), counts up in the order parts arrived."""
    engine = connect(db_url)
    migrate_to(engine, "0005_threads")
    report = sealed(identities, [os.urandom(2 * PART + 5)])
    old = split(report.streams[0])
    with engine.begin() as conn:
        conn.execute(text("INSERT INTO cases (id, ref, received, status, sealed_by, header, body, complete, idle) "
                          "VALUES (7, 'OLDREF', :d, 'new', 'server', :h, :b, true, 0)"),
                     {"d": dt.date.today(), "h": report.header, "b": report.body})
        conn.execute(text("INSERT INTO attachments (case_id, idx, length) VALUES (7, 0, :n)"),
                     {"n": len(report.streams[0])})
        for number, data in enumerate(old):
            conn.execute(text("INSERT INTO parts (case_id, idx, part, data) VALUES (7, 0, :p, :d)"),
                         {"p": number, "d": data})
        conn.execute(text("INSERT INTO messages (case_id, seq, sender, day, header, body, unread) "
                          "VALUES (7, 1, 'reporter', :d, :h, :b, true)"),
                     {"d": dt.date.today(), "h": b"h", "b": b"b"})
    for down in (False, True, False):
        migrate_to(engine, "0005_threads" if down else "head", down=down)
        assert b"".join(store.iter_parts(engine, 7, 0)) == report.streams[0]
    new = [sealed(identities, [os.urandom(PART + 1)]) for _ in range(3)]
    for report in new:
        store_case(engine, report.header, report.body, "server", [], [(len(report.streams[0]),
                                                                       split(report.streams[0]))])
    with engine.connect() as conn:
        ids = conn.execute(select(parts.c.pid)).scalars().all()
        assert len(ids) == len(set(ids)) == 3 + 3 * 2
        assert all(pid > 1 << 32 for pid in ids), "part ids are not random"
        assert conn.execute(text("SELECT count(*) FROM messages")).scalar() == 1
        if db_url.startswith("sqlite"):
            assert conn.execute(text("SELECT count(*) FROM parts WHERE rowid != pid")).scalar() == 0
            with pytest.raises(Exception, match="no such column: rowid"):
                conn.execute(text("SELECT rowid FROM messages"))
    assert integrity_ok(engine)
    engine.dispose()
