"""The red team's attacks on the evidence chain (rt-evidence): a replies file imported by two reviewers at once,
a package folder whose files are pipes (verify must end, naming them), custody entries of another shape."""

from __future__ import annotations

import datetime as dt
import json
import os
import threading
from pathlib import Path

import pytest
from sqlalchemy import func, select, update

from intake.crypto.report import open_report
from intake.evidence.custody import GENESIS, seal_entry
from intake.storage.cases import get_case
from intake.storage.notes import import_notes
from intake.storage.schema import messages, notes
from intake.storage.threads import add_replies
from tests.support import run_cli
from tests.support.reviewkit import Reviewer, signed_keyring, store
from tests.support.storage import store_case


def test_one_replies_file_imported_twice_at_once_stores_each_note_once(engine) -> None:
    """Two `import-replies` of one file at once: each checked 'already stored?' before the other committed, so
    PostgreSQL stored every custody entry twice and the record said 'stored twice' for ever. Now the second waits."""
    case_id = get_case(engine, store_case(engine, os.urandom(80), os.urandom(200), "server", ["r0"], [])).id
    rows = [(case_id, dt.date.today(), os.urandom(60), os.urandom(90), None, None) for _ in range(300)]
    start, added = threading.Barrier(2), []

    def run() -> None:
        start.wait()
        added.append(len(import_notes(engine, rows)[0]))

    threads = [threading.Thread(target=run) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    with engine.connect() as conn:
        held = conn.execute(select(func.count()).select_from(notes).where(notes.c.case_id == case_id)).scalar()
    assert sorted(added) == [0, 300]
    assert held == 300


def test_pipes_in_a_package_do_not_hang_verify(tmp_path: Path) -> None:
    """manifest.json, signer.pub, manifest.json.sig or SHA256SUMS as a named pipe: verify used to wait for ever
    (open() of a FIFO blocks); now it ends at once and names the file."""
    for pipe in ("manifest.json", "signer.pub", "manifest.json.sig", "SHA256SUMS"):
        folder = tmp_path / pipe
        folder.mkdir()
        (folder / "manifest.json").write_text(json.dumps({"files": [], "package_files": {"SHA256SUMS": "0" * 64}}))
        (folder / "signer.pub").write_text("ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIGfb6SpjV0Ad2Sc0HIOHaeoTC1GZDdPDM"
                                           "B3Am/UDiMO8 x\n")
        (folder / "manifest.json.sig").write_text("junk")
        (folder / "SHA256SUMS").write_text("")
        (folder / pipe).unlink()
        os.mkfifo(folder / pipe)
        done = run_cli("intake-review", "verify", str(folder), cwd=tmp_path, check=False)
        assert done.returncode == 7, done.stderr
        assert pipe in done.stderr
        assert "Traceback" not in done.stderr


@pytest.fixture
def team(tmp_path, engine, db_url):
    """alice, a keyring of her key, and a case of hers."""
    alice = Reviewer.make(tmp_path / "alice")
    keys_dir, signer = signed_keyring(tmp_path, [alice.recipient])
    ref = store(engine, [alice.recipient], [("photo.jpg", "image/jpeg", b"\xff\xd8\xff\xe0" + bytes(2048))])
    return alice, ref, ("--db", db_url, "--keys-dir", keys_dir, "--signer", signer)


def test_entries_of_another_shape_are_told_not_printed(team, engine) -> None:
    """A misused reviewer key (or a laptop's replies file) can seal an entry bound to the case with any members:
    terminal escapes in action, detail, by and day, `hashes` a number (len() raised: show and the desk of that
    case ended in a traceback for every reviewer), `seq` a list. Each is now 'malformed: not shown'; nothing of it
    reaches the terminal."""
    alice, ref, where = team
    case = get_case(engine, ref)
    key = open_report(case.header, case.body, 1, [alice.identity]).opened.report_key
    base = {"action": "show", "by": alice.identity.key_id, "day": case.received.isoformat(), "detail": "",
            "hashes": {}, "prev": GENESIS, "seq": 1}
    hostile = [{**base, "detail": "\x1b]52;c;aGk=\x07\x1b[2J"}, {**base, "by": "\x1b[31mbob"},
               {**base, "action": "show\x1b[1A"}, {**base, "day": case.received.isoformat() + "\x1b[K"},
               {**base, "hashes": 5}, {**base, "seq": [1]}, {**base, "prev": {"x": 1}}]
    for entry in hostile:
        header, body = seal_entry([alice.recipient], entry, key)
        with engine.begin() as conn:
            conn.execute(notes.insert().values(case_id=case.id, created=case.received, header=header, body=body))
    text = alice.run("show", ref, where=where)
    assert "\x1b" not in text.stdout + text.stderr
    assert "Traceback" not in text.stderr
    assert text.stdout.count("is malformed: not shown") == 5
    assert r"\x1b]52" in text.stdout
    got = alice.json("show", ref, where=where)["custody"]
    assert [e["action"] for e in got["entries"]] == ["show"] * 4  # two hostile strings, then the real shows
    assert sum("malformed" in p for p in got["problems"]) == 5


def test_replies_imported_again_after_a_rewrap_or_twice_at_once_are_stored_once(engine) -> None:
    """Replies were told apart by header only: a replies file imported again after `intake keys rewrap` (which
    replaces headers) sent every reply to the reporter a second time; two imports at once (PostgreSQL) did too."""
    case_id = get_case(engine, store_case(engine, os.urandom(80), os.urandom(200), "server", ["r0"], [])).id
    replies = [(case_id, os.urandom(60), os.urandom(90)) for _ in range(20)]
    start, stored = threading.Barrier(2), []

    def run() -> None:
        start.wait()
        stored.append(add_replies(engine, replies)[0])

    threads = [threading.Thread(target=run) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    assert sorted(stored) == [0, 20]
    with engine.begin() as conn:  # a rewrap: every stored header replaced
        for seq in conn.execute(select(messages.c.seq).where(messages.c.case_id == case_id)).scalars().all():
            conn.execute(update(messages).where(messages.c.case_id == case_id, messages.c.seq == seq)
                         .values(header=os.urandom(60)))
    assert add_replies(engine, replies) == (0, [])
    with engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(messages).where(messages.c.case_id == case_id)
                            ).scalar() == 20
