"""Key lifecycle end to end, with the real `intake` and `intake-review` processes on both databases."""

from __future__ import annotations

import stat

import pytest
from sqlalchemy import select

from intake.crypto.keys import Identity
from intake.keys.keyring import grouped
from intake.storage.schema import notes
from tests.support.keytools import Instance, bulk_cases, header_key_ids


@pytest.fixture
def inst(tmp_path, db_url):
    """An instance on an empty database (SQLite, then PostgreSQL)."""
    instance = Instance(tmp_path, db_url)
    yield instance
    instance.engine.dispose()


@pytest.fixture
def lite(tmp_path):
    """An instance on a SQLite file, for the checks that do not depend on the database."""
    instance = Instance(tmp_path, f"sqlite:///{tmp_path / 'intake.db'}")
    yield instance
    instance.engine.dispose()


@pytest.mark.slow
def test_rotate_rewrap_retire_three_reviewers_and_recovery(inst: Instance) -> None:
    keys = inst.setup("alice", "bob", "carol")
    inst.admin("keys", "recovery", "--out", str(inst.root / "sheet"))
    sheet = inst.root / "sheet" / "recovery-identity.txt"
    refs = inst.store(100, notes_every=10)
    old_alice = inst.identity(keys["alice"]).key_id

    rotated = inst.run("keys", "rotate", "alice", "--out", str(inst.root / "new"), "--passphrase-file",
                       str(inst.admin_pw), "--key-passphrase-file", str(inst.reviewer_pw))
    new_alice = rotated.stdout.strip().replace(" ", "")
    assert rotated.stdout.strip() == grouped(new_alice)
    assert "now run `intake keys rewrap`" in rotated.stderr
    listed = {k["key_id"]: k for k in inst.listing()["keys"]}
    assert listed[old_alice]["status"] == "retired"
    assert listed[old_alice]["cases"] == 100
    assert listed[new_alice]["cases"] == 0

    done = inst.run("keys", "rewrap", "--identity", str(keys["bob"]), "--passphrase-file", str(inst.reviewer_pw))
    assert "rewrapped 110, already current 0" in done.stderr
    again = inst.run("keys", "rewrap", "--identity", str(keys["bob"]), "--passphrase-file", str(inst.reviewer_pw))
    assert "rewrapped 0, already current 110" in again.stderr

    listing = inst.listing()
    counts = {(k["name"], k["status"]): k["cases"] for k in listing["keys"]}
    assert counts == {("alice", "retired"): 0, ("alice", "active"): 100, ("bob", "active"): 100,
                      ("carol", "active"): 100, ("(recovery)", "recovery"): 100}
    assert listing["fingerprint"] == inst.keyring().fingerprint

    assert [r["opened"] for r in inst.review(keys["alice"])] == [False] * 100
    for identity_file in (inst.root / "new" / "alice.key", keys["bob"], keys["carol"]):
        rows = inst.review(identity_file)
        assert sorted(r["id"] for r in rows if r["opened"]) == sorted(refs)
    recovered = inst.review(sheet)
    assert all(r["opened"] for r in recovered)
    assert len(recovered) == 100

    current = set(inst.keyring().key_ids)
    assert all(set(ids) == current for ids in header_key_ids(inst.engine).values())
    with inst.engine.connect() as conn:
        note_headers = conn.execute(select(notes.c.header)).scalars().all()
    from intake.crypto.envelope import open_header, parse_header

    assert len(note_headers) == 10
    assert all(set(parse_header(h).key_ids) == current for h in note_headers)
    with pytest.raises(Exception, match="not sealed to any of your keys"):
        open_header(note_headers[0], [inst.identity(keys["alice"])])

    actions = [line.split()[3:5] for line in inst.run("audit", "list").stdout.splitlines()]
    assert ["keys", "rotate"] in actions
    assert ["keys", "rewrap"] in actions
    assert "audit log ok" in inst.run("audit", "verify").stderr


def test_retire_then_rewrap_removes_the_key(inst: Instance) -> None:
    keys = inst.setup("alice", "bob")
    inst.store(5)
    retired = inst.admin("keys", "retire", "bob")
    assert "5 stored cases and 0 messages still open with it" in retired.stderr
    inst.run("keys", "rewrap", "--identity", str(keys["alice"]), "--passphrase-file", str(inst.reviewer_pw),
             "--jobs", "1")
    assert [r["opened"] for r in inst.review(keys["bob"])] == [False] * 5
    assert [r["opened"] for r in inst.review(keys["alice"])] == [True] * 5
    last = inst.admin("keys", "retire", "alice", check=False)
    assert last.returncode == 1
    assert "would leave no active key" in last.stderr
    assert "Traceback" not in last.stderr


def test_rewrap_reports_cases_it_cannot_open(lite: Instance) -> None:
    keys = lite.setup("alice", "bob")
    lite.store(3)
    stranger = Identity.generate()
    bulk_cases(lite.engine, [stranger.recipient], 2)
    lite.admin("keys", "retire", "bob")
    result = lite.run("keys", "rewrap", "--identity", str(keys["alice"]), "--passphrase-file",
                      str(lite.reviewer_pw), check=False)
    assert result.returncode == 1
    assert "rewrapped 3" in result.stderr
    assert "could not open 2" in result.stderr
    assert "no match: this report is not sealed to any of your keys" in result.stderr
    assert "2 cases or notes could not be opened" in result.stderr


def test_rotate_to_a_key_the_reviewer_made(lite: Instance) -> None:
    keys = lite.setup("alice", "bob")
    lite.run("keys", "new", "alice", "--out", str(lite.root / "laptop"), "--passphrase-file", str(lite.reviewer_pw))
    rotated = lite.admin("keys", "rotate", "alice", "--pub", str(lite.root / "laptop" / "alice.pub"))
    assert rotated.stdout.strip() == grouped(lite.identity(lite.root / "laptop" / "alice.key").key_id)
    assert not (lite.root / "alice.key").exists()
    reused = lite.admin("keys", "rotate", "bob", "--pub", str(keys["alice"].with_suffix(".pub")), check=False)
    assert reused.returncode == 1
    assert "already in the keyring" in reused.stderr
    unknown = lite.admin("keys", "rotate", "dave", "--pub", str(keys["bob"].with_suffix(".pub")), check=False)
    assert unknown.returncode == 1
    assert "dave has no active key" in unknown.stderr


def test_recovery_sheet_is_private_and_not_replaced_silently(lite: Instance) -> None:
    lite.setup("alice")
    printed = lite.admin("keys", "recovery", "--out", str(lite.root / "sheet")).stdout.strip()
    key_id = printed.replace(" ", "")
    assert printed == grouped(key_id)
    text, png = lite.root / "sheet" / "recovery-identity.txt", lite.root / "sheet" / "recovery-identity.png"
    assert stat.S_IMODE(text.stat().st_mode) == 0o600
    assert stat.S_IMODE(png.stat().st_mode) == 0o600
    assert png.read_bytes().startswith(b"\x89PNG")
    identity_line = [ln for ln in text.read_text().splitlines() if not ln.startswith("#")]
    assert Identity.parse(identity_line[0]).key_id == key_id == lite.keyring().recovery.key_id
    again = lite.admin("keys", "recovery", "--out", str(lite.root / "sheet2"), check=False)
    assert again.returncode == 1
    assert "--replace" in again.stderr
    lite.admin("keys", "recovery", "--out", str(lite.root / "sheet2"), "--replace")
    assert lite.keyring().recovery.key_id != key_id


def test_recovery_sheet_opens_cases_without_a_passphrase(lite: Instance) -> None:
    lite.setup("alice")
    lite.admin("keys", "recovery", "--out", str(lite.root / "sheet"))
    lite.store(2)
    from tests.support import run_cli

    result = run_cli("intake-review", "--identity", str(lite.root / "sheet" / "recovery-identity.txt"), "--db",
                     lite.db_url, "list", "--json", cwd=lite.root, env=lite.env)
    assert "unencrypted recovery identity" in result.stderr
    assert '"opened": true' in result.stdout


def test_wrong_admin_passphrase_is_a_clean_error(lite: Instance) -> None:
    lite.setup("alice", "bob")
    bad = lite.root / "bad.pw"
    bad.write_text("not it\n")
    result = lite.run("keys", "retire", "bob", "--passphrase-file", str(bad), check=False)
    assert result.returncode == 1
    assert "wrong passphrase" in result.stderr
    assert "Traceback" not in result.stderr
    assert lite.keyring().find("bob").status == "active"


def test_keys_add_refuses_a_low_order_key(lite: Instance) -> None:
    lite.setup("alice")
    evil = lite.root / "evil.pub"
    evil.write_text("intake-recipient-1:" + "A" * 43 + "\n")
    result = lite.admin("keys", "add", str(evil), check=False)
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    assert "refusing a low-order public key: ask the reviewer for a new key" in result.stderr
