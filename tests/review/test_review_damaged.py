"""Hostile cases next to good ones in a real database: the real intake-review lists, shows and exports them
without a traceback, and nothing from the database or a body reaches the terminal or report.json raw."""

from __future__ import annotations

import json
import os
import signal
import struct
import subprocess
import time

import nacl.bindings as sodium
import pytest
from sqlalchemy import update

from intake.clock import today
from intake.crypto.envelope import BODY_AD, BODY_KEY_ID, derive, padded_size, seal_header
from intake.crypto.keys import Recipient
from intake.crypto.report import open_report
from intake.review.errors import DAMAGED_CASE
from intake.review.notes import seal_note
from intake.storage.cases import get_case
from intake.storage.notes import triage
from intake.storage.schema import cases
from tests.support import BIN, run_cli
from tests.support.reviewkit import Reviewer, store
from tests.support.storage import store_case

HOSTILE = {
    "reply-key-number": '{"version":2,"fields":{"incident_type":"drone"},"attachments":[],"reply_key":1}',
    "deep-100000": '{"version":2,"fields":{},"attachments":[],"reply_key":null,"x":'
                   + "[" * 100000 + "]" * 100000 + "}",
    "lone-surrogate": '{"version":2,"fields":{"description":"a\\ud800b"},"attachments":[],"reply_key":null}',
}
# What could drive a terminal or reorder text: ESC (CSI, OSC), C1 CSI, bidi override, BEL.
RAW = ("\x1b", "\x9b", "\u202e", "\x07")
STATUS = "\x1b[2J\x1b]0;x\x07"
SEALED_BY = "\x9b31m\u202e"
BY = "\x1b]0;pwned\x07\u202eevil"
NOTE = "look \x1b[31mhere\x1b[0m"


def store_hostile(engine, recipients: list[Recipient], text: str) -> str:
    """Store a browser-sealed case whose body is authentic (it opens) but whose JSON is `text`."""
    key = os.urandom(32)
    data = text.encode()
    padded = struct.pack(">I", len(data)) + data + bytes(padded_size(len(data)) - 4 - len(data))
    nonce = os.urandom(24)
    body = nonce + sodium.crypto_aead_xchacha20poly1305_ietf_encrypt(padded, BODY_AD, nonce,
                                                                    derive(key, BODY_KEY_ID))
    return store_case(engine, seal_header(key, recipients), body, "browser", [r.key_id for r in recipients], [])


@pytest.fixture
def alice(tmp_path) -> Reviewer:
    """A reviewer with an identity file locked by a passphrase."""
    return Reviewer.make(tmp_path / "alice")


@pytest.fixture
def planted(engine, db_url, alice):
    """Two good cases, one with escape sequences planted in its status, sealed_by and note; three hostile bodies."""
    good = store(engine, [alice.recipient], [("a.txt", "text/plain", b"hello")])
    marked = store(engine, [alice.recipient])
    case = get_case(engine, marked)
    case_key = open_report(case.header, case.body, 0, [alice.identity]).opened.report_key
    triage(engine, marked, "in review", seal_note([alice.recipient], "in review", NOTE, BY, case_key,
                                                                today()))
    with engine.begin() as conn:
        conn.execute(update(cases).where(cases.c.ref == marked).values(status=STATUS, sealed_by=SEALED_BY))
    hostile = {name: store_hostile(engine, [alice.recipient], text) for name, text in HOSTILE.items()}
    return {"where": ("--db", db_url), "good": good, "marked": marked, "hostile": hostile}


def raw_in(*texts: str) -> list[str]:
    """The raw control characters found in any of `texts`."""
    return [c for c in RAW for t in texts if c in t]


def test_list_shows_each_hostile_case_as_one_damaged_row(alice, planted):
    """`list --json` and the table list every case; each hostile body is one row marked damaged body."""
    rows = {row["id"]: row for row in alice.json("list", where=planted["where"])}
    assert len(rows) == 5
    assert rows[planted["good"]]["opened"] is True
    for ref in planted["hostile"].values():
        assert rows[ref]["opened"] is False
        assert rows[ref]["error"] == "damaged body"
    table = alice.run("list", where=planted["where"], env={"COLUMNS": "300"})
    assert "Traceback" not in table.stdout + table.stderr
    assert planted["good"] in table.stdout
    assert all(ref in table.stdout for ref in planted["hostile"].values())
    assert table.stdout.count("damaged") == 3
    assert "5 cases, 3 not opened" in table.stderr
    assert raw_in(table.stdout, table.stderr) == []
    assert "\\x1b[2J" in table.stdout


@pytest.mark.parametrize("name", sorted(HOSTILE))
def test_show_and_export_of_a_hostile_case_fail_in_one_line(alice, planted, tmp_path, name):
    """`show` and `export` exit with the damaged-case code and one line; export leaves no folder or file."""
    ref = planted["hostile"][name]
    for args in (("show", ref), ("show", ref, "--json"), ("export", ref, "--out", str(tmp_path / "out"))):
        result = alice.run(*args, where=planted["where"], check=False)
        assert result.returncode == DAMAGED_CASE, result.stderr
        assert result.stdout == ""
        assert result.stderr.count("\n") == 1
        assert "damaged body" in result.stderr
        assert "Traceback" not in result.stderr
    assert not (tmp_path / "out").exists()


def test_planted_escapes_reach_no_terminal_and_no_report_json(alice, planted, tmp_path, engine):
    """Status, sealed_by and a note's `by` planted with ESC, C1 and bidi characters come out escaped."""
    shown = alice.run("show", planted["marked"], where=planted["where"])
    assert raw_in(shown.stdout, shown.stderr) == []
    for escaped in ("\\x1b[2J", "\\x9b31m\\u202e", "\\x1b]0;pwned"):
        assert escaped in shown.stdout
    as_json = alice.run("show", planted["marked"], "--json", where=planted["where"])
    assert raw_in(as_json.stdout) == []
    data = json.loads(as_json.stdout)
    assert (data["status"], data["sealed_by"], data["notes"][0]["by"]) == (STATUS, SEALED_BY, BY)
    out = tmp_path / "export"
    exported = alice.run("export", planted["marked"], "--out", str(out), where=planted["where"])
    assert raw_in(exported.stdout, exported.stderr) == []
    report = (out / "report.json").read_text(encoding="utf-8")
    assert raw_in(report) == []
    assert "\\u001b" in report
    assert "\\u202e" in report
    loaded = json.loads(report)
    assert (loaded["status"], loaded["sealed_by"], loaded["notes"][0]["note"]) == (STATUS, SEALED_BY, NOTE)
    assert get_case(engine, planted["good"]) is not None


def test_good_case_still_exports_next_to_hostile_ones(alice, planted, tmp_path):
    """The good case exports whole (report.json and its file) though hostile cases sit beside it."""
    out = tmp_path / "good"
    alice.run("export", planted["good"], "--out", str(out), where=planted["where"])
    assert sorted(p.name for p in out.iterdir()) == ["a.txt", "report.json"]
    assert (out / "a.txt").read_bytes() == b"hello"


def _as_at_a_terminal() -> None:
    """Ctrl-C reaches the export as it does at a reviewer's terminal: a test process may pass on SIGINT ignored or
    blocked (both survive exec), and the whole suite's run then saw the export finish with 0."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)
    signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGINT})


def test_interrupted_export_leaves_nothing(alice, planted, engine, tmp_path):
    """An export stopped by Ctrl-C in the middle of an attachment removes what it wrote, folder included."""
    big = store(engine, [alice.recipient], [("small.txt", "text/plain", b"first"),
                                            ("big.bin", "application/octet-stream", os.urandom(64 << 20))])
    out = tmp_path / "stopped"
    command = [str(BIN / "intake-review"), "--identity", str(alice.key), "--passphrase-file", str(alice.passphrase),
               *planted["where"], "export", big, "--out", str(out)]
    process = subprocess.Popen(command, cwd=alice.home, stdout=subprocess.PIPE,  # noqa: S603
                               stderr=subprocess.PIPE, text=True, preexec_fn=_as_at_a_terminal)
    deadline = time.monotonic() + 120
    partial = lambda: out.exists() and any(p.name.startswith(".intake-partial-") for p in out.iterdir())  # noqa: E731
    while True:  # stopped while a partial file is there (a loaded machine may finish it between a look and a signal)
        assert process.poll() is None, "the export ended before it was stopped"
        assert time.monotonic() < deadline
        if partial():
            process.send_signal(signal.SIGSTOP)
            if partial():
                break
            process.send_signal(signal.SIGCONT)
        time.sleep(0.01)
    process.send_signal(signal.SIGINT)
    process.send_signal(signal.SIGCONT)
    _, stderr = process.communicate(timeout=60)
    assert process.returncode != 0
    assert "Traceback" not in stderr
    assert not out.exists(), sorted(p.name for p in out.iterdir())


def test_bundle_of_hostile_and_planted_cases(alice, planted, tmp_path, engine):
    """The same cases carried air-gapped in a bundle: listed, refused in one line, the note's `by` escaped.

    (A bundle's manifest refuses an unknown status or sealer as a whole, so those two are set right first.)
    """
    with engine.begin() as conn:
        conn.execute(update(cases).where(cases.c.ref == planted["marked"]).values(status="new", sealed_by="server"))
    path = tmp_path / "cases.bundle"
    (tmp_path / "instance").mkdir(mode=0o700, exist_ok=True)  # where the import key lives
    run_cli("intake", "export-sealed", "--out", str(path), cwd=tmp_path,
            env={"INTAKE_DATABASE_URL": planted["where"][1]})
    where = ("--bundle", str(path))
    rows = {row["id"]: row for row in alice.json("list", where=where)}
    assert [rows[ref]["error"] for ref in planted["hostile"].values()] == ["damaged body"] * 3
    assert rows[planted["good"]]["opened"] is True
    table = alice.run("list", where=where)
    assert raw_in(table.stdout, table.stderr) == []
    refused = alice.run("show", planted["hostile"]["deep-100000"], where=where, check=False)
    assert refused.returncode == DAMAGED_CASE
    assert refused.stderr.count("\n") == 1
    shown = alice.run("show", planted["marked"], where=where)
    assert raw_in(shown.stdout, shown.stderr) == []
    assert "\\x1b]0;pwned" in shown.stdout
