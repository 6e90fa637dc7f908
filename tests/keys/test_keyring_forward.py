"""A keyring only moves forward, signed by the pinned signer: attacks on a live server and the real CLI."""

from __future__ import annotations

import re
from dataclasses import replace
from pathlib import Path

import pytest
import requests
from sqlalchemy import func, select, update

from intake.crypto.envelope import parse_header
from intake.crypto.keys import Identity
from intake.keys.keyring import KeyEntry, Keyring, create_signing_key, save_keyring, unlock_signing_key
from intake.storage.cases import get_case
from intake.storage.schema import keyring_state, notes
from tests.support import run_cli
from tests.support.keytools import ADMIN_PASSPHRASE, Instance, Prepared, header_key_ids, put_back, retired_demo
from tests.support.proof import Reporter
from tests.support.web import Server

FIELDS = {"incident_type": "drone", "description": "a drone over the market", "location": "", "occurred": "",
          "device": ""}


def sealed_to(inst: Instance, ref: str) -> list[str]:
    """The reviewer key ids a stored case's header is sealed to (its reporter's stanza, format.md §4.1, left out)."""
    return parse_header(get_case(inst.engine, ref).header).reviewer_key_ids


def names(inst: Instance, key_ids: list[str]) -> set[str]:
    """The reviewer names of these key ids (from the keyring the admin signed last, read without the server)."""
    return {next(k.name for k in inst.newest.keys if k.key_id == kid) for kid in key_ids}


def refused(result, message: str) -> None:
    """The command exited 1 and said `message`."""
    assert result.returncode == 1, result.stdout
    assert message in result.stderr


@pytest.fixture
def retired(tmp_path: Path, db_url: str, prepared: Prepared):
    """demo added (serial 2, copied aside), alice added (3), demo retired (4): the adversarial review's instance (a
    copy of one made once by the real CLI)."""
    inst = prepared.copy(tmp_path, db_url, retired_demo)
    keys = {name: tmp_path / "reviewers" / f"{name}.key" for name in ("demo", "alice")}
    old = (tmp_path / "old" / "keyring.json").read_bytes()
    inst.newest = inst.keyring()
    yield inst, keys, old
    inst.engine.dispose()


@pytest.mark.slow
def test_copied_back_keyring_is_refused_by_the_live_server_and_every_command(retired, tmp_path: Path) -> None:
    inst, keys, old = retired
    newest = (tmp_path / "keys" / "keyring.json").read_bytes()
    server = Server({**inst.env, "INTAKE_POW_BITS": "4"}, tmp_path).start()
    try:
        before = Reporter(server.url)
        assert before.serial == 4
        assert names(inst, sealed_to(inst, before.send_nojs(FIELDS))) == {"alice"}
        put_back(tmp_path / "keys" / "keyring.json", old)

        reporter = Reporter(server.url)  # a reporter arriving after the rollback
        keyring = requests.get(server.url + "/keyring.json", timeout=30).json()
        assert keyring["serial"] == 4
        assert names(inst, [r["key_id"] for r in keyring["recipients"]]) == {"alice"}
        page = requests.get(server.url + "/", timeout=30).text
        assert re.search(r"keyring 4, signed \d{4}-\d{2}-\d{2}\)", page), "the page shows the serial and the day"
        assert names(inst, sealed_to(inst, reporter.send_nojs(FIELDS))) == {"alice"}
        assert names(inst, sealed_to(inst, reporter.send_api(FIELDS, [("a.jpg", "image/jpeg", b"x" * 10)]))) \
            == {"alice"}
        assert "older keyring was put back" in server.log_text()
    finally:
        server.kill()

    listed = inst.run("keys", "list", check=False)
    refused(listed, "serial 2, older than serial 4")
    bob = tmp_path / "bob.pub"
    bob.write_text(f"{Identity.generate().recipient}\n")
    added = inst.admin("keys", "add", str(bob), check=False)
    refused(added, "older than serial 4")
    audit = inst.run("audit", "verify", check=False)
    refused(audit, "rollback")
    restarted = run_cli("intake", "serve", "--port", "1", cwd=tmp_path, env=inst.env, check=False)
    refused(restarted, "older than serial 4")

    before_rewrap = header_key_ids(inst.engine)
    rewrap = inst.run("keys", "rewrap", "--identity", str(keys["alice"]), "--passphrase-file",
                      str(inst.reviewer_pw), "--jobs", "1", check=False)
    refused(rewrap, "older than serial 4")
    assert header_key_ids(inst.engine) == before_rewrap, "rewrap re-sealed nothing to the retired key"

    put_back(tmp_path / "keys" / "keyring.json", newest)  # the admin restores the newest keyring
    inst.run("audit", "verify")
    inst.run("keys", "rewrap", "--identity", str(keys["alice"]), "--passphrase-file", str(inst.reviewer_pw),
             "--jobs", "1")
    assert all(names(inst, ids) == {"alice"} for ids in header_key_ids(inst.engine).values())


def test_same_serial_with_other_content_is_refused(retired, tmp_path: Path) -> None:
    inst, keys, _ = retired
    current = inst.keyring()
    key = unlock_signing_key(tmp_path / "instance" / "admin-signing.key", ADMIN_PASSPHRASE.encode())
    demo = next(k for k in current.keys if k.name == "demo")
    revived = tuple(replace(k, status="active", retired=None) if k is demo else k for k in current.keys)
    save_keyring(tmp_path / "keys", replace(current, keys=revived, serial=current.serial - 1), key)
    assert inst.keyring().serial == current.serial, "a signed keyring with the same serial, demo active again"
    listed = inst.run("keys", "list", check=False)
    refused(listed, "differs from the serial 4 keyring already in use")
    retire = inst.admin("keys", "retire", "alice", check=False)
    refused(retire, "differs")


@pytest.mark.slow
def test_swapped_signer_is_refused_by_a_running_and_a_restarted_server(retired, tmp_path: Path) -> None:
    inst, _, _ = retired
    server = Server({**inst.env, "INTAKE_POW_BITS": "4"}, tmp_path).start()
    try:
        Reporter(server.url)
        signing = tmp_path / "instance" / "admin-signing.key"
        signing.unlink()
        signer = create_signing_key(signing, b"attacker", "interactive")  # the attacker's key, in its place
        attacker = Identity.generate()
        save_keyring(tmp_path / "keys", Keyring((KeyEntry("attacker", attacker.recipient),), signer=signer, serial=9),
                     unlock_signing_key(signing, b"attacker"))
        assert requests.get(server.url + "/keyring.json", timeout=30).status_code == 503
        page = requests.get(server.url + "/", timeout=30)
        assert page.status_code == 503
        assert str(attacker.recipient) not in page.text
        assert "signed by another admin key" in server.log_text()
    finally:
        server.kill()
    restarted = run_cli("intake", "serve", "--port", "1", cwd=tmp_path, env=inst.env, check=False)
    refused(restarted, "signed by another admin key")
    listed = inst.run("keys", "list", check=False)
    refused(listed, "signed by another admin key")


def test_server_refuses_to_start_without_a_pinned_signer(retired, tmp_path: Path) -> None:
    inst, _, _ = retired
    unset = {**inst.env, "INTAKE_KEYRING_SIGNER": ""}
    result = run_cli("intake", "serve", "--port", "1", cwd=tmp_path, env=unset, check=False)
    refused(result, "INTAKE_KEYRING_SIGNER is not set")
    in_instance = {**inst.env, "INTAKE_KEYRING_SIGNER": str(tmp_path / "instance" / "admin-signing.key")}
    result = run_cli("intake", "serve", "--port", "1", cwd=tmp_path, env=in_instance, check=False)
    refused(result, "not the admin signing key file")
    pinned = tmp_path / "signer.txt"
    pinned.write_text("# the admin's key, root-owned in production\n" + inst.env["INTAKE_KEYRING_SIGNER"] + "\n")
    from_file = run_cli("intake", "keys", "list", cwd=tmp_path, env={**inst.env, "INTAKE_KEYRING_SIGNER": str(pinned)})
    assert "(serial 4, signed " in from_file.stdout


def test_audit_chain_flags_a_rollback_even_when_the_recorded_state_is_lowered(retired, tmp_path: Path) -> None:
    inst, _, old = retired
    put_back(tmp_path / "keys" / "keyring.json", old)
    with inst.engine.begin() as conn:  # an attacker who can also write the database lowers the recorded state
        conn.execute(update(keyring_state).values(serial=2, hash=inst.keyring().digest))
    audit = inst.run("audit", "verify", check=False)
    refused(audit, "rollback")
    assert "this entry signed serial 4" in audit.stderr


def test_a_reviewer_note_is_never_sealed_to_an_older_keyring(retired, tmp_path: Path) -> None:
    inst, keys, old = retired
    ref = inst.store(1)[0]
    put_back(tmp_path / "keys" / "keyring.json", old)
    noted = run_cli("intake-review", "--identity", str(keys["alice"]), "--passphrase-file", str(inst.reviewer_pw),
                    "--db", inst.db_url, "status", ref, "closed", "--note", "the demo reviewer left", cwd=tmp_path,
                    env=inst.env, check=False)
    assert noted.returncode == 9, noted.stderr
    assert "older than serial 4" in noted.stderr
    with inst.engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(notes)).scalar_one() == 0
