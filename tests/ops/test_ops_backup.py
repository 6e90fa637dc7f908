"""`intake backup` while cases arrive, `intake restore` into a fresh instance, and upgrades from schema 0001."""

from __future__ import annotations

import sqlite3
import subprocess
import threading
from pathlib import Path

import pytest
from alembic import command
from alembic.config import Config
from sqlalchemy import func, select, text

from intake.crypto.report import seal_report
from intake.storage.db import MIGRATIONS, connect
from intake.storage.schema import cases
from tests.support import BIN, postgres_database, run_cli
from tests.support.keytools import ADMIN_PASSPHRASE, REVIEWER_PASSPHRASE, Instance, Prepared
from tests.support.storage import begin_case, store_case
from tests.support.web import open_stored

PHOTO = bytes(range(256)) * 9000  # 2.2 MiB: three stored parts


@pytest.fixture
def fresh_url(tmp_path: Path, db_url: str) -> str:
    """A second empty database of the same kind as `db_url`, to restore into."""
    if db_url.startswith("sqlite"):
        yield f"sqlite:///{tmp_path / 'restored' / 'instance' / 'intake.db'}"
        return
    with postgres_database("intake_restore_") as url:
        yield url


def store_with_photo(site: Instance, text_: str) -> str:
    """Seal a report with one 2.2 MiB attachment to the current keyring and store it."""
    recipients = site.keyring().recipients()
    fields = {"incident_type": "cctv", "description": text_}
    sealed = seal_report(recipients, fields, [("p.jpg", "image/jpeg", [PHOTO])])
    streams = [(len(s), [s[i:i + (1 << 20)] for i in range(0, len(s), 1 << 20)]) for s in sealed.streams]
    return store_case(site.engine, sealed.header, sealed.body, "server", [r.key_id for r in recipients], streams)


def count(url: str) -> int:
    """Complete cases in a database."""
    engine = connect(url)
    try:
        with engine.connect() as conn:
            return conn.execute(select(func.count()).select_from(cases).where(cases.c.complete.is_(True))).scalar()
    finally:
        engine.dispose()


@pytest.mark.slow
def test_backup_while_writing_restores_every_case(tmp_path: Path, db_url: str, fresh_url: str,
                                                  prepared: Prepared) -> None:
    """Cases keep arriving during the backup; the restored copy opens every case it holds, whole."""
    site, keys = prepared.setup(tmp_path, db_url, "alice")
    alice = keys["alice"]
    refs = [store_with_photo(site, f"before {i}") for i in range(6)] + site.store(30, notes_every=5)
    recipients = site.keyring().recipients()
    sealed = seal_report(recipients, {"incident_type": "drone"}, [("v.mp4", "video/mp4", [PHOTO])])
    _, _, token = begin_case(site.engine, sealed.header, sealed.body, "browser", [r.key_id for r in recipients],
                             [len(s) for s in sealed.streams])
    stop, written = threading.Event(), []

    def writer() -> None:
        while not stop.is_set():
            written.append(store_with_photo(site, f"during {len(written)}"))

    thread = threading.Thread(target=writer)
    thread.start()
    try:
        out = tmp_path / "intake.backup"
        during = len(written)
        site.run("backup", "--out", str(out))
        assert len(written) > during, "no case was written while the backup ran"
    finally:
        stop.set()
        thread.join()
    assert oct(out.stat().st_mode & 0o777) == "0o600"
    held = sqlite3.connect(out)
    try:
        backed = [r for (r,) in held.execute("SELECT ref FROM cases ORDER BY id")]
        unfinished = held.execute("SELECT count(*) FROM cases WHERE complete = 0 OR upload_token IS NOT NULL")
        assert unfinished.fetchone() == (0,)
        assert held.execute("SELECT count(*) FROM spent_work").fetchone() == (0,)
    finally:
        held.close()
    assert token.encode() not in out.read_bytes()
    assert set(refs) <= set(backed)
    assert len(refs) <= len(backed) <= len(refs) + len(written)

    restored = {**site.env, "INTAKE_INSTANCE": str(tmp_path / "restored" / "instance"),
                "INTAKE_DATABASE_URL": fresh_url}
    run_cli("intake", "restore", str(out), cwd=tmp_path, env=restored)
    rows = site_review(tmp_path, fresh_url, alice)
    assert sorted(r["id"] for r in rows) == sorted(backed)
    assert all(r["opened"] for r in rows), [r for r in rows if not r["opened"]]
    for ref in refs[:6]:  # the cases stored with a photo before the backup (case ids are random, not in order)
        photo = subprocess.run([str(BIN / "intake-review"), "--identity", str(alice), "--passphrase-file",
                                str(site.reviewer_pw), "--db", fresh_url, "cat", ref, "1"], capture_output=True,
                               timeout=120, check=True)
        assert photo.stdout == PHOTO
    identity, engine = site.identity(alice), connect(fresh_url)
    try:  # every case written during the backup is whole too: its photo opens to the last byte
        for ref in backed:
            fields, files, _ = open_stored(engine, ref, [identity])
            assert files == ([("p.jpg", PHOTO)] if fields["incident_type"] == "cctv" else []), ref
    finally:
        engine.dispose()
    again = run_cli("intake", "restore", str(out), cwd=tmp_path, env=restored, check=False)
    assert again.returncode == 1
    assert "not empty" in again.stderr
    # A case stored after the restore gets a new id, not one of the restored ones (sequences moved on).
    after = Instance(tmp_path / "restored", fresh_url)
    try:
        store_case(after.engine, sealed.header, sealed.body, "server", [r.key_id for r in recipients], [])
    finally:
        after.engine.dispose()
    assert count(fresh_url) == len(backed) + 1
    site.engine.dispose()


def site_review(root: Path, url: str, identity: Path) -> list[dict[str, object]]:
    """`intake-review list --json` on a database, as a real process."""
    import json

    out = run_cli("intake-review", "--identity", str(identity), "--passphrase-file", str(root / "reviewer.pw"),
                  "--db", url, "list", "--json", cwd=root)
    return json.loads(out.stdout)


def test_restore_refuses_what_is_not_a_backup(tmp_path: Path) -> None:
    """A file that is not an intake backup, and an existing output file, are refused with what to do."""
    junk = tmp_path / "junk.backup"
    junk.write_bytes(b"not a database at all" * 100)
    result = run_cli("intake", "restore", str(junk), cwd=tmp_path, check=False)
    assert result.returncode == 1
    assert "is not an intake backup" in result.stderr
    result = run_cli("intake", "backup", "--out", str(tmp_path / "x.backup"), cwd=tmp_path, check=False)
    assert result.returncode == 1
    assert "no database at" in result.stderr
    assert not (tmp_path / "instance" / "intake.db").exists()
    run_cli("intake", "init", cwd=tmp_path)
    result = run_cli("intake", "backup", "--out", str(junk), cwd=tmp_path, check=False)
    assert result.returncode == 1
    assert "already exists" in result.stderr
    assert REVIEWER_PASSPHRASE not in result.stderr


def test_init_upgrades_a_first_schema_database(tmp_path: Path, db_url: str) -> None:
    """A database made by schema 0001, holding cases, is upgraded by `intake init`; its cases still open."""
    engine = connect(db_url)
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    with engine.begin() as conn:
        config.attributes["connection"] = conn
        command.upgrade(config, "0001")
    engine.dispose()
    site = Instance(tmp_path, db_url)
    alice = old_keyring(site)
    refs = [store_as_0001(site, f"old schema {i}") for i in range(4)]  # not site.store(): it migrates
    code = site.run("check", check=False)
    assert code.returncode == 1
    assert "FAIL  schema: the database is at revision 0001, not " in code.stdout
    site.run("init")
    assert site.run("check", check=False).returncode == 0
    rows = site.review(alice)
    assert sorted(r["id"] for r in rows) == sorted(refs)
    assert all(r["opened"] for r in rows)
    site.engine.dispose()


def store_as_0001(site: Instance, text_: str) -> str:
    """Seal a report with a photo and store it with plain SQL, as schema 0001 held it (sequential ids)."""
    from intake.clock import today
    from intake.storage.cases import new_ref

    recipients = site.keyring().recipients()
    fields = {"incident_type": "cctv", "description": text_}
    sealed = seal_report(recipients, fields, [("p.jpg", "image/jpeg", [PHOTO])])
    ref = new_ref()
    with site.engine.begin() as conn:
        case_id = conn.execute(text("INSERT INTO cases (ref, received, status, sealed_by, header, body, complete) "
                                    "VALUES (:ref, :day, 'new', 'server', :header, :body, :done) RETURNING id"),
                               {"ref": ref, "day": today(), "header": sealed.header, "body": sealed.body,
                                "done": True}).scalar()
        for idx, stream in enumerate(sealed.streams):
            conn.execute(text("INSERT INTO attachments (case_id, idx, length) VALUES (:c, :i, :n)"),
                         {"c": case_id, "i": idx, "n": len(stream)})
            for part, start in enumerate(range(0, len(stream), 1 << 20)):
                conn.execute(text("INSERT INTO parts (case_id, idx, part, data) VALUES (:c, :i, :p, :d)"),
                             {"c": case_id, "i": idx, "p": part, "d": stream[start:start + (1 << 20)]})
        for recipient in recipients:
            conn.execute(text("INSERT INTO case_keys (case_id, key_id) VALUES (:c, :k)"),
                         {"c": case_id, "k": recipient.key_id})
    return ref


def old_keyring(site: Instance) -> Path:
    """Sign a keyring with one reviewer without touching the database (the admin commands would migrate it)."""
    from intake.crypto.keys import Recipient
    from intake.keys.keyring import KeyEntry, Keyring, create_signing_key, save_keyring, unlock_signing_key

    signing = site.root / "instance" / "admin-signing.key"
    signer = create_signing_key(signing, ADMIN_PASSPHRASE.encode())
    site.run("keys", "new", "alice", "--out", str(site.root / "rev"), "--passphrase-file", str(site.reviewer_pw))
    line = next(ln for ln in (site.root / "rev" / "alice.pub").read_text().splitlines() if not ln.startswith("#"))
    entry = KeyEntry("alice", Recipient.parse(line))
    save_keyring(site.root / "keys", Keyring((entry,), signer=signer),
                 unlock_signing_key(signing, ADMIN_PASSPHRASE.encode()))
    site.env["INTAKE_KEYRING_SIGNER"] = signer
    return site.root / "rev" / "alice.key"


@pytest.mark.postgres
def test_sqlite_backup_moves_to_postgresql(tmp_path: Path, pg_url: str, prepared: Prepared) -> None:
    """docs/deploy.md step 9: a SQLite instance's backup restores into an empty PostgreSQL database."""
    site, keys = prepared.setup(tmp_path, f"sqlite:///{tmp_path / 'instance' / 'intake.db'}", "alice")
    alice = keys["alice"]
    refs = [store_with_photo(site, "moving")] + site.store(4, notes_every=2)
    site.run("backup", "--out", str(tmp_path / "move.backup"))
    site.env["INTAKE_DATABASE_URL"] = pg_url
    site.run("restore", str(tmp_path / "move.backup"))
    assert site.run("check", check=False).returncode == 0
    rows = site_review(tmp_path, pg_url, alice)
    assert sorted(r["id"] for r in rows) == sorted(refs)
    assert all(r["opened"] for r in rows)
    site.engine.dispose()
