"""Replies from an air-gapped reviewer: bundle out, replies file in, with the real commands; forgeries refused."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import func, select

from intake.bundle.read import open_bundle
from intake.bundle.replies import append_reply, bundle_import_key, read_replies
from intake.crypto.codename import derive_keys, make_codename
from intake.crypto.keys import Identity
from intake.crypto.message import open_message, seal_message
from intake.crypto.report import seal_report
from intake.storage.cases import get_case
from intake.storage.schema import messages
from intake.storage.threads import add_message, salt
from tests.support import run_cli
from tests.support.canary import hits, new_canary
from tests.support.keytools import Instance
from tests.support.storage import store_case

pytestmark = pytest.mark.slow


def _case(inst: Instance) -> tuple[str, int, object]:
    """A stored report with a codename's reply key, and a reporter's follow-up already in its thread."""
    inst.run("init")
    keys = derive_keys(make_codename(), salt(inst.engine))
    recipients = inst.keyring().recipients()
    report = seal_report(recipients, {"incident_type": "drone", "description": "a drone"},
                         reply_key=str(keys.identity.recipient))
    ref = store_case(inst.engine, report.header, report.body, "browser", [r.key_id for r in recipients], [])
    return ref, get_case(inst.engine, ref).id, keys


def _bundle_reply(inst: Instance, key, ref: str, text: str, out, bundle) -> None:
    run_cli("intake-review", "--identity", str(key), "--passphrase-file", str(inst.reviewer_pw), "--bundle",
            str(bundle), "reply", ref, "--text", text, "--out", str(out), "--keys-dir", str(inst.root / "keys"),
            cwd=inst.root, env=inst.env)


def _stored(inst: Instance) -> int:
    with inst.engine.connect() as conn:
        return conn.execute(select(func.count()).select_from(messages)).scalar_one()


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_airgapped_reply_round_trip(db_url, tmp_path, prepared):
    inst, keys = prepared.setup(tmp_path, db_url, "alice", "bob")
    ref, case_id, reporter = _case(inst)
    follow_up = new_canary("follow")
    sealed = seal_message(inst.keyring().recipients(), reporter.identity.recipient, "reporter", follow_up)
    add_message(inst.engine, case_id, "reporter", sealed.header, sealed.body)
    bundle = tmp_path / "cases.bundle"
    inst.run("export-sealed", "--out", str(bundle))
    shown = run_cli("intake-review", "--identity", str(keys["bob"]), "--passphrase-file", str(inst.reviewer_pw),
                    "--bundle", str(bundle), "show", ref, "--json", cwd=tmp_path, env=inst.env)
    assert [(m["from"], m["text"]) for m in json.loads(shown.stdout)["thread"]] == [("reporter", follow_up)]
    listed = run_cli("intake-review", "--identity", str(keys["bob"]), "--passphrase-file", str(inst.reviewer_pw),
                     "--bundle", str(bundle), "list", "--json", cwd=tmp_path, env=inst.env)
    assert [row["unread"] for row in json.loads(listed.stdout)] == [True]

    replies = tmp_path / "replies.json"
    first, second = new_canary("reply"), new_canary("reply")
    _bundle_reply(inst, keys["bob"], ref, first, replies, bundle)
    _bundle_reply(inst, keys["alice"], ref, second, replies, bundle)
    assert hits([replies, bundle], [first, second]) == []
    done = inst.run("import-replies", str(replies))
    assert "stored 2 replies (0 were already stored)" in done.stderr
    again = inst.run("import-replies", str(replies))
    assert "stored 0 replies (2 were already stored)" in again.stderr
    thread = run_cli("intake-review", "--identity", str(keys["alice"]), "--passphrase-file", str(inst.reviewer_pw),
                     "--db", db_url, "show", ref, "--json", cwd=tmp_path, env=inst.env)
    assert [m["text"] for m in json.loads(thread.stdout)["thread"]] == [follow_up, first, second]
    from intake.storage.threads import thread as stored_thread

    for message in stored_thread(inst.engine, case_id):
        opened = open_message(message.header, message.body, 0, [reporter.identity], reporter.identity.recipient,
                              message.sender)
        assert opened.body.text in (follow_up, first, second)


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_forged_replies_are_refused(db_url, tmp_path, prepared):
    inst, keys = prepared.setup(tmp_path, db_url, "alice")
    ref, case_id, _reporter = _case(inst)
    bundle = tmp_path / "cases.bundle"
    inst.run("export-sealed", "--out", str(bundle))
    replies = tmp_path / "replies.json"
    _bundle_reply(inst, keys["alice"], ref, "which street?", replies, bundle)
    good = json.loads(replies.read_text())

    def refused(data: dict, expect: str) -> None:
        forged = tmp_path / "forged.json"
        forged.write_text(json.dumps(data))
        result = inst.run("import-replies", str(forged), check=False)
        assert result.returncode != 0
        assert expect in result.stderr
        assert _stored(inst) == 0

    reply = good["replies"][0]
    altered = {**reply, "body": reply["body"][:10] + ("A" if reply["body"][10] != "A" else "B") + reply["body"][11:]}
    refused({**good, "replies": [altered]}, "forged or altered")
    other = {**reply, "ref": "ZZZZ-ZZZZ-ZZZZ"}
    refused({**good, "replies": [other]}, "forged or altered")
    stranger = Identity.generate()
    refused({**good, "replies": [{**reply, "key_id": stranger.key_id}]}, "not an active reviewer key")
    posing = tmp_path / "posing.json"
    sealed = read_replies(replies)[0]
    opened, manifest, _cases = open_bundle(bundle)
    opened.close()
    append_reply(posing, bundle_import_key(manifest), [stranger], ref, sealed.header, sealed.body)
    as_alice = json.loads(posing.read_text())["replies"][0]
    refused({**good, "replies": [{**as_alice, "key_id": reply["key_id"]}]}, "forged or altered")
    refused({**good, "replies": [reply, altered]}, "forged or altered")
    refused({"format": "intake-replies-1", "replies": [{"ref": ref}]}, "not a replies file")
    refused({"replies": []}, "not a replies file")
    inst.run("import-replies", str(replies))
    assert _stored(inst) == 1


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_reply_refuses_a_case_without_reply_key(db_url, tmp_path, prepared):
    inst, keys = prepared.setup(tmp_path, db_url, "alice")
    ref = inst.store(1)[0]
    result = run_cli("intake-review", "--identity", str(keys["alice"]), "--passphrase-file", str(inst.reviewer_pw),
                     "--db", db_url, "reply", ref, "--text", "hello", "--keys-dir", str(tmp_path / "keys"),
                     cwd=tmp_path, env=inst.env, check=False)
    assert result.returncode != 0
    assert "has no reply key" in result.stderr
    assert _stored(inst) == 0


@pytest.mark.parametrize("db_url", ["sqlite", "postgresql"], indirect=True)
def test_a_full_thread_does_not_keep_out_the_replies_to_other_cases(db_url, tmp_path, prepared):
    """Red team round 3: a reporter fills their own thread (16 follow-ups of 1 MiB), and the replies file that
    also answers other cases was refused whole, without naming the case, so no reporter got an answer."""
    import os

    from intake.storage.threads import MAX_THREAD_BYTES

    inst, keys = prepared.setup(tmp_path, db_url, "alice")
    full_ref, full_id, hostile = _case(inst)
    other = derive_keys(make_codename(), salt(inst.engine))
    recipients = inst.keyring().recipients()
    report = seal_report(recipients, {"incident_type": "drone", "description": "another"},
                         reply_key=str(other.identity.recipient))
    other_ref = store_case(inst.engine, report.header, report.body, "browser", [r.key_id for r in recipients], [])
    bundle = tmp_path / "cases.bundle"
    inst.run("export-sealed", "--out", str(bundle))
    replies = tmp_path / "replies.json"
    _bundle_reply(inst, keys["alice"], full_ref, "to the full thread", replies, bundle)
    _bundle_reply(inst, keys["alice"], other_ref, "to the other case", replies, bundle)
    sealed = seal_message(recipients, hostile.identity.recipient, "reporter", "x")
    big = (1 << 20) + 40
    count = MAX_THREAD_BYTES // (big + len(sealed.header))
    for _ in range(count):
        add_message(inst.engine, full_id, "reporter", sealed.header, os.urandom(big))
    left = MAX_THREAD_BYTES - count * (big + len(sealed.header))
    add_message(inst.engine, full_id, "reporter", sealed.header, os.urandom(left - len(sealed.header)))
    before = _stored(inst)
    result = inst.run("import-replies", str(replies), check=False)
    assert result.returncode != 0
    assert full_ref in result.stderr
    assert "stored 1 reply" in result.stderr
    assert _stored(inst) == before + 1
    from intake.storage.threads import thread as stored_thread

    assert [m.sender for m in stored_thread(inst.engine, get_case(inst.engine, other_ref).id)] == ["reviewer"]
    again = inst.run("import-replies", str(replies), check=False)
    assert "stored 0 replies (1 was already stored)" in again.stderr
    assert full_ref in again.stderr
    inst.engine.dispose()
