"""Every command that reads the keyring goes through the pinned signer and the forward-only state (issue 19 #9).

The adversarial review's instance: demo added (serial 2, copied aside), alice added (3), demo retired
(4). Then the old keyring.json is put back, and every reader is run as a real process.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy import func, select

from intake.bundle.read import open_bundle
from intake.bundle.replies import append_reply, bundle_import_key
from intake.crypto.codename import derive_keys, make_codename
from intake.crypto.message import seal_message
from intake.crypto.report import seal_report
from intake.keys.keyring import create_signing_key, load_keyring
from intake.storage.schema import messages
from intake.storage.threads import salt
from tests.support import run_cli
from tests.support.keytools import Instance, Prepared, put_back, retired_demo
from tests.support.storage import store_case

SIGNER = "INTAKE_KEYRING_SIGNER"


@pytest.fixture
def rolled(tmp_path: Path, db_url: str, prepared: Prepared):
    """The retired-demo instance (a copy of one made once by the real CLI) with one case that has a reply key; the
    old keyring kept in old/keyring.json."""
    inst = prepared.copy(tmp_path, db_url, retired_demo)
    keys = {name: tmp_path / "reviewers" / f"{name}.key" for name in ("demo", "alice")}
    inst.newest_file = (tmp_path / "keys" / "keyring.json").read_bytes()
    inst.run("init")
    recipients = inst.keyring().recipients()
    reporter = derive_keys(make_codename(), salt(inst.engine))
    report = seal_report(recipients, {"incident_type": "drone", "description": "a drone"},
                         reply_key=str(reporter.identity.recipient))
    ref = store_case(inst.engine, report.header, report.body, "browser", [r.key_id for r in recipients], [])
    yield inst, keys, ref, reporter
    inst.engine.dispose()


def _review(inst: Instance, key: Path, *args: str, source: tuple[str, str] | None = None,
            env: dict[str, str] | None = None):
    where = source or ("--db", inst.db_url)
    return run_cli("intake-review", "--identity", str(key), "--passphrase-file", str(inst.reviewer_pw), *where,
                   *args, cwd=inst.root, env=env or inst.env, check=False)


def _messages(inst: Instance) -> int:
    with inst.engine.connect() as conn:
        return conn.execute(select(func.count()).select_from(messages)).scalar_one()


def _refused(result, *expect: str, code: int = 1) -> None:
    assert result.returncode == code, result.stderr
    for text in expect:
        assert text in result.stderr, result.stderr


def test_reply_and_note_on_the_database_refuse_an_old_keyring_put_back(rolled, tmp_path: Path) -> None:
    inst, keys, ref, _ = rolled
    old = (tmp_path / "old" / "keyring.json").read_bytes()
    put_back(tmp_path / "keys" / "keyring.json", old)
    replied = _review(inst, keys["alice"], "reply", ref, "--text", "send it to +95 on Signal")
    _refused(replied, "cannot seal the reply", "serial 2, older than serial 4", code=9)
    assert "cannot seal the note" not in replied.stderr
    # the same with the keyring folder named on the command line, before the subcommand or after it
    for args in (("--keys-dir", str(tmp_path / "old"), "reply", ref, "--text", "x"),
                 ("reply", ref, "--text", "x", "--keys-dir", str(tmp_path / "old"))):
        _refused(_review(inst, keys["alice"], *args), "older than serial 4", code=9)
    noted = _review(inst, keys["alice"], "status", ref, "in_review", "--note", "demo left")
    _refused(noted, "cannot seal the note", "older than serial 4", code=9)
    assert _messages(inst) == 0
    checked = inst.run("check", check=False)
    failed = [line for line in checked.stdout.splitlines() if line.startswith("FAIL  ")]
    assert len(failed) == 1, checked.stdout
    assert "older than" in failed[0]


def test_import_replies_refuses_an_old_keyring_and_a_retired_reviewer(rolled, tmp_path: Path) -> None:
    inst, keys, ref, reporter = rolled
    bundle = tmp_path / "cases.bundle"
    inst.run("export-sealed", "--out", str(bundle))

    # a reviewer's laptop with an old keyring: the bundle knows the serial in use, and refuses it
    stale = _review(inst, keys["alice"], "reply", ref, "--text", "x", "--out", str(tmp_path / "r.json"),
                    "--keys-dir", str(tmp_path / "old"), source=("--bundle", str(bundle)))
    _refused(stale, "cannot seal the reply", "serial 2, older than serial 4", code=9)
    assert not (tmp_path / "r.json").exists()

    # the retired demo reviewer makes a replies file with their own tool, sealed to the old keyring
    old_ring = load_keyring(tmp_path / "old", inst.env[SIGNER])
    sealed = seal_message(old_ring.recipients(), reporter.identity.recipient, "reviewer",
                          "REVIEWERS: we need the original video. Send it to +95 on Signal")
    f, manifest, _ = open_bundle(bundle)
    f.close()
    forged = tmp_path / "forged.json"
    append_reply(forged, bundle_import_key(manifest), [inst.identity(keys["demo"])], ref, sealed.header, sealed.body)
    put_back(tmp_path / "keys" / "keyring.json", (tmp_path / "old" / "keyring.json").read_bytes())
    _refused(inst.run("import-replies", str(forged), check=False), "serial 2, older than serial 4")
    assert _messages(inst) == 0

    # with the newest keyring back, demo is retired, and alice's reply sealed to the old keyring is refused
    put_back(tmp_path / "keys" / "keyring.json", inst.newest_file)
    _refused(inst.run("import-replies", str(forged), check=False), "not an active reviewer key")
    stale_file = tmp_path / "stale.json"
    append_reply(stale_file, bundle_import_key(manifest), [inst.identity(keys["alice"])], ref, sealed.header,
                 sealed.body)
    _refused(inst.run("import-replies", str(stale_file), check=False), "sealed to other keys than the keyring in use")
    assert _messages(inst) == 0


def test_import_replies_needs_the_pinned_signer(rolled, tmp_path: Path) -> None:
    inst, keys, ref, _ = rolled
    bundle = tmp_path / "cases.bundle"
    inst.run("export-sealed", "--out", str(bundle))
    replies = tmp_path / "replies.json"
    done = _review(inst, keys["alice"], "reply", ref, "--text", "which street?", "--out", str(replies),
                   "--keys-dir", str(tmp_path / "keys"), source=("--bundle", str(bundle)))
    assert done.returncode == 0, done.stderr
    unset = run_cli("intake", "import-replies", str(replies), cwd=tmp_path, env={**inst.env, SIGNER: ""},
                    check=False)
    _refused(unset, "INTAKE_KEYRING_SIGNER is not set")
    other_signer = create_signing_key(tmp_path / "other" / "admin-signing.key", b"another", "interactive")
    elsewhere = run_cli("intake", "import-replies", str(replies), cwd=tmp_path,
                        env={**inst.env, SIGNER: other_signer}, check=False)
    _refused(elsewhere, "signed by another admin key")
    assert _messages(inst) == 0
    stored = inst.run("import-replies", str(replies))
    assert "stored 1 reply" in stored.stderr
    shown = _review(inst, keys["alice"], "show", ref, "--json")
    assert [m["text"] for m in json.loads(shown.stdout)["thread"]] == ["which street?"]


def test_check_reports_a_keyring_that_differs_at_the_same_serial(rolled, tmp_path: Path) -> None:
    """A keyring re-signed at the serial in use (demo active again) passes the audit log; the state refuses it."""
    from dataclasses import replace

    from intake.keys.keyring import save_keyring, unlock_signing_key
    from tests.support.keytools import ADMIN_PASSPHRASE

    inst, keys, ref, _ = rolled
    current = inst.keyring()
    key = unlock_signing_key(tmp_path / "instance" / "admin-signing.key", ADMIN_PASSPHRASE.encode())
    revived = tuple(replace(k, status="active", retired=None) if k.name == "demo" else k for k in current.keys)
    save_keyring(tmp_path / "keys", replace(current, keys=revived, serial=current.serial - 1), key)
    checked = inst.run("check", check=False)
    failed = [line for line in checked.stdout.splitlines() if line.startswith("FAIL  ")]
    assert failed == [line for line in failed if line.startswith("FAIL  keyring: ")], checked.stdout
    assert len(failed) == 1, checked.stdout
    assert "differs from the serial 4 keyring already in use" in failed[0]
    replied = _review(inst, keys["alice"], "reply", ref, "--text", "x")
    _refused(replied, "cannot seal the reply", "differs from the serial 4 keyring", code=9)


def test_import_replies_refuses_a_reply_sealed_to_another_thread(rolled, tmp_path: Path) -> None:
    """Red team round 3: import-replies stored a reply whose stanza 0 was another case's reply key (or a header of
    version 2), which the thread API refuses of a follow-up; every reader then saw it as *wrong thread*."""
    inst, keys, ref, _reporter = rolled
    bundle = tmp_path / "cases.bundle"
    inst.run("export-sealed", "--out", str(bundle))
    f, manifest, _ = open_bundle(bundle)
    f.close()
    elsewhere = derive_keys(make_codename(), salt(inst.engine))
    moved = seal_message(inst.keyring().recipients(), elsewhere.identity.recipient, "reviewer", "for another case")
    wrong = tmp_path / "wrong.json"
    append_reply(wrong, bundle_import_key(manifest), [inst.identity(keys["alice"])], ref, moved.header, moved.body)
    _refused(inst.run("import-replies", str(wrong), check=False), "not sealed to that case's reply key")
    assert _messages(inst) == 0
