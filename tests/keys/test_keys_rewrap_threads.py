"""Rewrap re-seals thread messages: the reporter's stanza kept byte for byte, reviewer stanzas to the new keyring."""

from __future__ import annotations

import json

import pytest

from intake.crypto.codename import derive_keys, make_codename
from intake.crypto.envelope import parse_header
from intake.crypto.message import open_message, seal_message
from intake.crypto.report import open_report, seal_report
from intake.storage.cases import get_case
from intake.storage.threads import add_message, salt, thread
from tests.support import run_cli
from tests.support.storage import store_case

pytestmark = pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)


def test_rewrap_reseals_messages(db_url, tmp_path, prepared):
    inst, keys = prepared.setup(tmp_path, db_url, "alice", "bob")
    inst.run("init")
    reporter = derive_keys(make_codename(), salt(inst.engine))
    recipients = inst.keyring().recipients()
    report = seal_report(recipients, {"incident_type": "drone"}, reply_key=str(reporter.identity.recipient))
    ref = store_case(inst.engine, report.header, report.body, "browser", [r.key_id for r in recipients], [])
    case_id = get_case(inst.engine, ref).id
    for sender, text in (("reviewer", "when?"), ("reporter", "on monday")):
        sealed = seal_message(recipients, reporter.identity.recipient, sender, text)
        add_message(inst.engine, case_id, sender, sealed.header, sealed.body)
    before = thread(inst.engine, case_id)
    old_alice = inst.identity(keys["alice"]).key_id
    inst.admin("keys", "rotate", "alice", "--out", str(tmp_path / "new"), "--key-passphrase-file",
               str(inst.reviewer_pw))
    inst.run("keys", "rewrap", "--identity", str(keys["bob"]), "--passphrase-file", str(inst.reviewer_pw))
    after = thread(inst.engine, case_id)
    target = {r.key_id for r in inst.keyring().recipients()}
    for old, new in zip(before, after, strict=True):
        assert new.header != old.header
        assert new.header[6:6 + 56] == old.header[6:6 + 56]
        assert set(parse_header(new.header).key_ids[1:]) == target
        assert old_alice not in parse_header(new.header).key_ids
        assert new.body == old.body
        opened = open_message(new.header, new.body, 0, [reporter.identity], reporter.identity.recipient, new.sender)
        assert opened.body.text in ("when?", "on monday")
    case = get_case(inst.engine, ref)  # the report's own reporter's stanza (format.md §4.1) is kept too
    assert case.header[4] == 2
    assert case.header[6:6 + 96] == report.header[6:6 + 96]
    assert set(parse_header(case.header).reviewer_key_ids) == target
    assert old_alice not in parse_header(case.header).key_ids
    assert open_report(case.header, case.body, 0, [reporter.identity]).body.fields == {"incident_type": "drone"}
    shown = run_cli("intake-review", "--identity", str(tmp_path / "new" / "alice.key"), "--passphrase-file",
                    str(inst.reviewer_pw), "--db", db_url, "show", ref, "--json", cwd=tmp_path, env=inst.env)
    assert [m["text"] for m in json.loads(shown.stdout)["thread"]] == ["when?", "on monday"]
    again = inst.run("keys", "rewrap", "--identity", str(keys["bob"]), "--passphrase-file", str(inst.reviewer_pw))
    assert [m.header for m in thread(inst.engine, case_id)] == [m.header for m in after]
    assert get_case(inst.engine, ref).header == case.header
    assert again.returncode == 0
    inst.engine.dispose()
