"""Hostile messages in a thread: each one fails alone, with its reason, and the others still show."""

from __future__ import annotations

import json
import os

import pytest

from intake.crypto.codename import derive_keys, make_codename
from intake.crypto.message import seal_message
from intake.crypto.report import seal_report
from intake.storage.cases import get_case
from intake.storage.threads import add_message, salt
from tests.support import run_cli
from tests.support.keytools import Instance
from tests.support.storage import store_case

pytestmark = pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)


def _case(inst: Instance, recipients) -> tuple[str, int, object]:
    keys = derive_keys(make_codename(), salt(inst.engine))
    report = seal_report(recipients, {"incident_type": "cctv"}, reply_key=str(keys.identity.recipient))
    ref = store_case(inst.engine, report.header, report.body, "server", [r.key_id for r in recipients], [])
    return ref, get_case(inst.engine, ref).id, keys


def test_hostile_messages_fail_alone(db_url, tmp_path):
    inst = Instance(tmp_path, db_url)
    keys = inst.setup("alice")
    inst.run("init")
    recipients = inst.keyring().recipients()
    ref, case_id, reporter = _case(inst, recipients)
    _other_ref, _other_id, elsewhere = _case(inst, recipients)
    good = seal_message(recipients, reporter.identity.recipient, "reviewer", "the good one")
    moved = seal_message(recipients, elsewhere.identity.recipient, "reporter", "from another thread")
    liar = seal_message(recipients, reporter.identity.recipient, "reviewer", "says reviewer, stored as reporter")
    escape = seal_message(recipients, reporter.identity.recipient, "reporter", "red \x1b[31m\x1b]0;title\x07 text")
    for sender, header, body in (("reporter", os.urandom(300), os.urandom(1064)),
                                 ("reporter", moved.header, moved.body),
                                 ("reporter", liar.header, liar.body),
                                 ("reporter", good.header, os.urandom(1064)),
                                 ("reviewer", good.header, good.body),
                                 ("reporter", escape.header, escape.body)):
        add_message(inst.engine, case_id, sender, header, body)
    shown = run_cli("intake-review", "--identity", str(keys["alice"]), "--passphrase-file", str(inst.reviewer_pw),
                    "--db", db_url, "show", ref, "--json", cwd=tmp_path, env=inst.env)
    thread = json.loads(shown.stdout)["thread"]
    assert [m.get("error") for m in thread] == ["malformed header", "wrong thread", "wrong sender", "damaged body",
                                                None, None]
    assert thread[-2]["text"] == "the good one"
    assert "\x1b" not in shown.stdout
    assert "\x07" not in shown.stdout
    text = run_cli("intake-review", "--identity", str(keys["alice"]), "--passphrase-file", str(inst.reviewer_pw),
                   "--db", db_url, "show", ref, cwd=tmp_path, env=inst.env)
    assert "(not opened: wrong thread)" in text.stdout
    assert "the good one" in text.stdout
    assert "\x1b" not in text.stdout
    assert "\x07" not in text.stdout
    inst.engine.dispose()


def test_a_reporter_cannot_draw_a_reviewer_line(db_url, tmp_path):
    """Issue 19 #13: a follow-up whose text draws "DAY  reviewer: ..." lines shows them behind the gutter."""
    inst = Instance(tmp_path, db_url)
    keys = inst.setup("alice")
    inst.run("init")
    recipients = inst.keyring().recipients()
    ref, case_id, reporter = _case(inst, recipients)
    today = get_case(inst.engine, ref).received.isoformat()
    forged = (f"thanks\n  {today}  reviewer: please close and delete this case\n"
              f"\r  {today}  reviewer: carriage\u2028  {today}  reviewer: separator\n"
              f"thread (oldest first):\n{today}  reviewer: flush left")
    sealed = seal_message(recipients, reporter.identity.recipient, "reporter", forged)
    add_message(inst.engine, case_id, "reporter", sealed.header, sealed.body)
    real = seal_message(recipients, reporter.identity.recipient, "reviewer", "the real one\nsecond line")
    add_message(inst.engine, case_id, "reviewer", real.header, real.body)
    text = run_cli("intake-review", "--identity", str(keys["alice"]), "--passphrase-file", str(inst.reviewer_pw),
                   "--db", db_url, "show", ref, cwd=tmp_path, env=inst.env).stdout
    thread = text.split("thread (oldest first", 1)[1].splitlines()[1:]
    senders = [line for line in thread if not line.startswith("    | ")]
    assert senders == [f"  {today}  reporter: thanks", f"  {today}  reviewer: the real one"]
    assert "    | second line" in thread
    assert any(line.startswith("    | \\x0d  ") and line.endswith("reviewer: separator") for line in thread)
    inst.engine.dispose()
