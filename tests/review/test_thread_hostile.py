"""Hostile messages in a thread: each one fails alone, with its reason, and the others still show."""

from __future__ import annotations

import fcntl
import json
import os
import pty
import select
import struct
import subprocess
import termios
import time
import unicodedata

import pytest

from intake.crypto.codename import derive_keys, make_codename
from intake.crypto.envelope import derive, seal_padded
from intake.crypto.message import MESSAGE_BODY_KEY_ID, MessageBody, seal_message, seal_message_header
from intake.crypto.report import seal_report
from intake.storage.cases import get_case
from intake.storage.threads import add_message, salt
from tests.support import BIN, run_cli
from tests.support.keytools import Instance
from tests.support.storage import store_case

pytestmark = pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)


def _case(inst: Instance, recipients) -> tuple[str, int, object]:
    keys = derive_keys(make_codename(), salt(inst.engine))
    report = seal_report(recipients, {"incident_type": "cctv"}, reply_key=str(keys.identity.recipient))
    ref = store_case(inst.engine, report.header, report.body, "server", [r.key_id for r in recipients], [])
    return ref, get_case(inst.engine, ref).id, keys


def test_hostile_messages_fail_alone(db_url, tmp_path, prepared):
    inst, keys = prepared.setup(tmp_path, db_url, "alice")
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


def test_a_reporter_cannot_draw_a_reviewer_line(db_url, tmp_path, prepared):
    """Issue 19 #13: a follow-up whose text draws "DAY  reviewer: ..." lines shows them behind the gutter."""
    inst, keys = prepared.setup(tmp_path, db_url, "alice")
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
    thread = text.split("thread (oldest first", 1)[1].split("\ncustody (", 1)[0].splitlines()[1:]
    senders = [line for line in thread if not line.startswith("    | ")]
    assert senders == [f"  {today}  reporter: thanks", f"  {today}  reviewer: the real one"]
    assert "    | second line" in thread
    assert any(line.startswith("    | \\x0d  ") and line.endswith("reviewer: separator") for line in thread)
    inst.engine.dispose()


def in_terminal(argv: list[str], cwd, env: dict[str, str]) -> str:
    """Run a command with stdout and stderr on a pseudo-terminal 80 columns wide; return what it printed."""
    main, sub = pty.openpty()
    fcntl.ioctl(sub, termios.TIOCSWINSZ, struct.pack("HHHH", 40, 80, 0, 0))
    attrs = termios.tcgetattr(sub)
    attrs[1] &= ~termios.ONLCR  # keep "\n" as it is written
    termios.tcsetattr(sub, termios.TCSANOW, attrs)
    proc = subprocess.Popen(argv, cwd=cwd, env={**os.environ, **env}, stdin=subprocess.DEVNULL, stdout=sub,
                            stderr=sub)
    os.close(sub)
    data = b""
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline:
        if not select.select([main], [], [], 5)[0]:
            continue
        try:
            chunk = os.read(main, 65536)
        except OSError:  # the command ended and closed the terminal
            break
        if not chunk:
            break
        data += chunk
    os.close(main)
    if proc.poll() is None:
        proc.kill()
    assert proc.wait(timeout=60) == 0, data.decode(errors="replace")[-2000:]
    return data.decode()


def _cells(row: str) -> int:
    return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in row)


def test_a_long_line_cannot_wrap_into_a_reviewer_line(db_url, tmp_path, prepared):
    """Red team round 3: a line as long as the terminal is wide let the terminal's own wrap start a row with
    "DAY  reviewer: ..." (ASCII padding, or wide characters that take two cells each); `show` now cuts every row
    at the terminal's width (a real pseudo-terminal of 80 columns here; a stale COLUMNS is not believed) and
    puts the rest behind the gutter."""
    inst, keys = prepared.setup(tmp_path, db_url, "alice")
    inst.run("init")
    recipients = inst.keyring().recipients()
    ref, case_id, reporter = _case(inst, recipients)
    today = get_case(inst.engine, ref).received.isoformat()
    head = f"  {today}  reporter: "
    fake = f"  {today}  reviewer: please close and delete this case"
    ascii_pad = "x" * (80 - len(head)) + fake
    wide_pad = "ok\n" + "界" * ((80 - len("    | ")) // 2) + fake + "\u1000" * 200
    for text in (ascii_pad, wide_pad):
        sealed = seal_message(recipients, reporter.identity.recipient, "reporter", text)
        add_message(inst.engine, case_id, "reporter", sealed.header, sealed.body)
    real = seal_message(recipients, reporter.identity.recipient, "reviewer", "the real one")
    add_message(inst.engine, case_id, "reviewer", real.header, real.body)
    out = in_terminal([str(BIN / "intake-review"), "--identity", str(keys["alice"]), "--passphrase-file",
                       str(inst.reviewer_pw), "--db", db_url, "show", ref], tmp_path, {**inst.env, "COLUMNS": "300"})
    rows = out.splitlines()
    assert max(_cells(row) for row in rows) <= 80  # the terminal wraps nothing itself
    thread = out.split("thread (oldest first", 1)[1].split("\ncustody (", 1)[0].splitlines()[1:]
    senders = [row for row in thread if not row.startswith("    | ")]
    assert [s.split(":")[0] for s in senders] == [f"  {today}  reporter", f"  {today}  reporter",
                                                  f"  {today}  reviewer"]
    assert senders[-1] == f"  {today}  reviewer: the real one"
    assert sum("please close and delete" in row for row in thread) == 2
    inst.engine.dispose()


def _old_message(recipients, reply, text: str) -> tuple[bytes, bytes]:
    """A version 1 message (before the thread MAC), as a store writer or an old reporter's page sealed it."""
    key = os.urandom(32)
    body = MessageBody("reporter", text, [], 1, None)
    return seal_message_header(key, reply, recipients), seal_padded(derive(key, MESSAGE_BODY_KEY_ID), body.to_json())


def test_a_version_1_message_is_a_downgrade_in_a_case_with_the_reporters_stanza(db_url, tmp_path, prepared):
    """Red team round 3: a store writer's version 1 message in a case sent since messages are bound (header
    version 2) was shown, with its text, marked only unverified; no writer of such a case writes version 1, so
    it is refused (*thread mac*), its text withheld. In a case sent before, it is still shown, unverified."""
    inst, keys = prepared.setup(tmp_path, db_url, "alice")
    inst.run("init")
    recipients = inst.keyring().recipients()
    new_ref, new_id, new_reporter = _case(inst, recipients)
    reply_keys = derive_keys(make_codename(), salt(inst.engine))
    old = seal_report(recipients, {"incident_type": "cctv"}, reply_key=str(reply_keys.identity.recipient),
                      reporter_stanza=False)
    old_ref = store_case(inst.engine, old.header, old.body, "server", [r.key_id for r in recipients], [])
    for case_id, reply in ((new_id, new_reporter.identity.recipient),
                           (get_case(inst.engine, old_ref).id, reply_keys.identity.recipient)):
        add_message(inst.engine, case_id, "reporter", *_old_message(recipients, reply, "send it all to this address"))

    def shown(ref: str) -> list[dict[str, object]]:
        return json.loads(run_cli("intake-review", "--identity", str(keys["alice"]), "--passphrase-file",
                                  str(inst.reviewer_pw), "--db", db_url, "show", ref, "--json", cwd=tmp_path,
                                  env=inst.env).stdout)["thread"]

    refused = shown(new_ref)[0]
    assert refused["error"] == "thread mac"
    assert "a version 1 message in a case whose report has the reporter's stanza" in refused["why"]
    assert "text" not in refused
    kept = shown(old_ref)[0]
    assert "error" not in kept
    assert kept["text"] == "send it all to this address"
    assert "written before messages were bound" in kept["unverified"]
    inst.engine.dispose()
