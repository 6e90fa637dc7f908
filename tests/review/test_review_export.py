"""Export streams with bounded memory, and removes the partial file of an attachment that fails its check."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest
from sqlalchemy import select, update

from intake.storage.cases import get_case
from intake.storage.schema import parts
from tests.support.reviewkit import Reviewer, store

PEAK = """
import atexit, sys
report = sys.argv.pop(1)

def peak():
    with open("/proc/self/status") as f, open(report, "w") as out:
        out.write(next(line.split()[1] for line in f if line.startswith("VmHWM:")))

atexit.register(peak)
from intake.cli.review import main
main(sys.argv[1:])
"""


def _peak_rss_kib(args: list[str], cwd) -> int:
    """Run intake-review's main in a new process; return its peak resident memory in KiB (VmHWM)."""
    report = cwd / "peak.txt"
    subprocess.run([sys.executable, "-c", PEAK, str(report), *args], cwd=cwd, check=True, capture_output=True)
    return int(report.read_text())


@pytest.mark.slow
@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_export_memory_does_not_grow_with_file_size(engine, db_url, tmp_path):
    alice = Reviewer.make(tmp_path / "alice")
    small, large = os.urandom(4 << 20), os.urandom(64 << 20)
    refs = [store(engine, [alice.recipient], [("v.bin", "application/octet-stream", data)]) for data in (small, large)]
    del small
    peaks = []
    for ref in refs:
        out = tmp_path / ref
        peaks.append(_peak_rss_kib(["--identity", str(alice.key), "--passphrase-file", str(alice.passphrase),
                                    "--db", db_url, "export", ref, "--out", str(out)], tmp_path))
    assert (tmp_path / refs[1] / "v.bin").read_bytes() == large
    assert peaks[1] - peaks[0] < 24 << 10, peaks


def test_damaged_attachment_is_removed_and_reported(engine, db_url, tmp_path):
    alice = Reviewer.make(tmp_path / "alice")
    good, bad = os.urandom(300_000), os.urandom(200_000)
    ref = store(engine, [alice.recipient], [("good.bin", "application/octet-stream", good),
                                            ("bad.bin", "application/octet-stream", bad)])
    case = get_case(engine, ref)
    where = (parts.c.case_id == case.id) & (parts.c.idx == 1)
    with engine.begin() as conn:
        data = bytearray(conn.execute(select(parts.c.data).where(where)).scalar_one())
        data[150_000] ^= 1
        conn.execute(update(parts).where(where).values(data=bytes(data)))
    out = tmp_path / "out"
    result = alice.run("export", ref, "--out", str(out), where=("--db", db_url), check=False)
    assert result.returncode == 7, result.stderr
    assert "attachment 2 is damaged" in result.stderr
    assert "partial file was removed" in result.stderr
    assert sorted(os.listdir(out)) == ["good.bin", "report.json"]
    assert (out / "good.bin").read_bytes() == good
    report = json.loads((out / "report.json").read_text())
    assert report["attachments"][1]["file"] is None
    assert report["attachments"][1]["error"].startswith("damaged attachment")
    shown = alice.run("show", ref, "--json", where=("--db", db_url), check=False)
    assert shown.returncode == 7
    assert [a["sha256_ok"] for a in json.loads(shown.stdout)["attachments"]] == [True, False]
