"""The red team's attacks on the evidence chain (rt-evidence): a replies file imported by two reviewers at once,
and a package folder whose files are pipes (verify must end, naming them)."""

from __future__ import annotations

import datetime as dt
import json
import os
import threading
from pathlib import Path

from sqlalchemy import func, select

from intake.storage.cases import get_case
from intake.storage.notes import import_notes
from intake.storage.schema import notes
from tests.support import run_cli
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
