"""`intake purge`: old cases go for good, with their parts, keys and notes; a dry run deletes nothing."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from sqlalchemy import func, select, update

from intake.crypto.report import seal_report
from intake.storage.schema import attachments, case_keys, cases, notes, parts
from tests.support.keytools import Instance, Prepared, add_note
from tests.support.storage import store_case


def counts(engine) -> dict[str, int]:
    """Rows in each table a case owns."""
    with engine.connect() as conn:
        return {t.name: conn.execute(select(func.count()).select_from(t)).scalar_one()
                for t in (cases, attachments, parts, case_keys, notes)}


def age(engine, ref: str, days: int, status: str = "new") -> None:
    """Make a case look `days` old, with a status."""
    received = dt.datetime.now(dt.UTC).date() - dt.timedelta(days=days)
    with engine.begin() as conn:
        conn.execute(update(cases).where(cases.c.ref == ref).values(received=received, status=status))


def make(tmp_path: Path, db_url: str, prepared: Prepared) -> Instance:
    """An instance with alice's key, three old cases (one closed, one with a file) and two new ones."""
    instance, _ = prepared.setup(tmp_path, db_url, "alice")
    recipients = instance.keyring().recipients()
    report = seal_report(recipients, {"incident_type": "face"}, [("photo.jpg", "image/jpeg", [b"\xff" * 5000])])
    with_file = store_case(instance.engine, report.header, report.body, "browser", [r.key_id for r in recipients],
                           [(len(report.streams[0]), [report.streams[0]])])
    refs = [with_file, *instance.store(4)]
    add_note(instance.engine, with_file, recipients)
    age(instance.engine, refs[0], 100, "closed")
    age(instance.engine, refs[1], 100)
    age(instance.engine, refs[2], 40)
    instance.refs, instance.body = refs, report.body
    return instance


@pytest.fixture
def inst(tmp_path: Path, db_url: str, prepared: Prepared):
    """That instance on SQLite, then on PostgreSQL."""
    instance = make(tmp_path, db_url, prepared)
    yield instance
    instance.engine.dispose()


def test_dry_run_lists_and_deletes_nothing(inst: Instance) -> None:
    before = counts(inst.engine)
    result = inst.run("purge", "--older-than", "30", "--dry-run")
    assert sorted(line.split()[0] for line in result.stdout.splitlines()) == sorted(inst.refs[:3])
    assert "dry run: would delete 3 cases received more than 30 days ago" in result.stderr
    assert counts(inst.engine) == before
    assert "purge" not in inst.run("audit", "list").stdout


def test_purge_by_status_then_by_age(inst: Instance) -> None:
    closed = inst.admin("purge", "--older-than", "30", "--status", "closed")
    assert closed.stdout.split() == [inst.refs[0], closed.stdout.split()[1], "closed"]
    assert counts(inst.engine) == {"cases": 4, "attachments": 0, "parts": 0, "case_keys": 4, "notes": 0}
    inst.admin("purge", "--older-than", "30")
    assert counts(inst.engine) == {"cases": 2, "attachments": 0, "parts": 0, "case_keys": 2, "notes": 0}
    with inst.engine.connect() as conn:
        assert sorted(conn.execute(select(cases.c.ref)).scalars()) == sorted(inst.refs[3:])
    nothing = inst.admin("purge", "--older-than", "30")
    assert "nothing to delete" in nothing.stderr
    log = inst.run("audit", "list").stdout.splitlines()
    assert [line.split()[3] for line in log].count("purge") == 2
    assert all("unsigned" not in ln for ln in log)
    assert "audit log ok" in inst.run("audit", "verify").stderr


def test_purge_needs_the_admin_key(inst: Instance) -> None:
    bad = inst.root / "bad.pw"
    bad.write_text("wrong\n")
    result = inst.run("purge", "--older-than", "30", "--passphrase-file", str(bad), check=False)
    assert result.returncode == 1
    assert "wrong passphrase" in result.stderr
    assert "Traceback" not in result.stderr
    assert counts(inst.engine)["cases"] == 5


def test_purged_bytes_are_gone_from_the_sqlite_files(tmp_path: Path, prepared: Prepared) -> None:
    db = tmp_path / "intake.db"
    inst = make(tmp_path, f"sqlite:///{db}", prepared)
    inst.engine.dispose()
    files = (db, db.with_name(db.name + "-wal"))
    marker = inst.body[40:72]
    assert any(marker in path.read_bytes() for path in files if path.exists())
    inst.admin("purge", "--older-than", "30")
    assert not any(marker in path.read_bytes() for path in files if path.exists())
