"""Hostile report text in `list`: markup, terminal escapes, bidi controls, 20,000-character words, formula cells and
Zawgyi end up inert in the table (on a narrow terminal too), the JSON and the CSV (real CLI processes)."""

from __future__ import annotations

import csv
import fcntl
import json
import os
import pty
import struct
import subprocess
import termios

import openpyxl
import pytest

from tests.support import BIN
from tests.support.reviewkit import Reviewer, store

pytestmark = pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
LONG = "w" * 20000
HOSTILE = {"incident_type": "[bold red]drone[/]", "province": "\x1b]0;owned\x07KH-12",
           "lang": "\u202eне", "occurred_month": "=cmd|' /C calc'!A0", "location": "@SUM(1+1)",
           "description": f"<script>alert(1)</script> \x1b[2J\x1b[31m red \u202egnp.exe {LONG} "
                          "ကၽြန္ေတာ္ ဒ႐ုန္း ျမင္တယ္"}
RAW = ("\x1b", "\x07", "\u202e")


def _on_a_terminal(reviewer: Reviewer, url: str, cols: int) -> str:
    """`intake-review list` on a pseudo-terminal `cols` wide; everything it printed."""
    main, child = pty.openpty()
    fcntl.ioctl(child, termios.TIOCSWINSZ, struct.pack("HHHH", 50, cols, 0, 0))
    proc = subprocess.Popen([str(BIN / "intake-review"), "--identity", str(reviewer.key), "--passphrase-file",
                             str(reviewer.passphrase), "--db", url, "list"], stdin=child, stdout=child,
                            stderr=child, cwd=reviewer.home, env={**os.environ, "COLUMNS": "500"})
    os.close(child)
    out = b""
    while True:
        try:
            data = os.read(main, 65536)
        except OSError:
            break
        if not data:
            break
        out += data
    proc.wait(timeout=300)
    os.close(main)
    return out.decode("utf-8", "replace")


def test_hostile_fields_are_inert_in_table_json_and_csv(engine, db_url, tmp_path) -> None:
    """Every hostile field is escaped or neutralised; the reference is whole on a 60-column terminal."""
    alice = Reviewer.make(tmp_path / "alice")
    ref = store(engine, [alice.recipient], fields=HOSTILE)
    plain = store(engine, [alice.recipient], fields={"incident_type": "cctv", "description": "calm"})
    table = alice.run("list", where=("--db", db_url))
    for raw in RAW:
        assert raw not in table.stdout
    assert "\\x1b" in table.stdout
    assert "[bold red]drone[/]" in table.stdout  # markup shown as text, not run
    assert ref in table.stdout
    assert max(len(line) for line in table.stdout.splitlines()) < 400  # the long word is cut to a snippet
    narrow = _on_a_terminal(alice, db_url, 60)
    assert ref in narrow
    assert plain in narrow
    assert "\x1b]0;owned" not in narrow
    assert "\u202e" not in narrow
    rows = json.loads(alice.run("list", "--json", where=("--db", db_url)).stdout)
    assert {r["id"] for r in rows} == {ref, plain}
    found = alice.run("list", "--json", "--search", LONG[:19000], where=("--db", db_url))
    assert [r["id"] for r in json.loads(found.stdout)] == [ref]
    zawgyi = alice.run("list", "--json", "--search", "ဒရုန်း", where=("--db", db_url))
    assert [r["id"] for r in json.loads(zawgyi.stdout)] == [ref]
    out = tmp_path / "cases.csv"
    alice.run("list", "--csv", str(out), where=("--db", db_url))
    text = out.read_text(encoding="utf-8")
    for raw in RAW:
        assert raw not in text
    cells = [cell for row in csv.reader(text.splitlines()) for cell in row]
    sheet = openpyxl.Workbook().active
    for i, cell in enumerate(cells, 1):
        assert sheet.cell(row=1, column=i, value=cell).data_type != "f", cell
        assert not cell.lstrip(" ").startswith(("=", "+", "-", "@")), cell
    assert oct(out.stat().st_mode & 0o777) == "0o600"


def test_province_and_snippet_only_on_a_wide_terminal(engine, db_url, tmp_path) -> None:
    """From 120 columns the table adds the province and the description's start; below, neither, and the
    reference stays whole either way."""
    alice = Reviewer.make(tmp_path / "alice")
    ref = store(engine, [alice.recipient], fields={"incident_type": "cctv", "province": "KH-12",
                                                   "description": "camera on the bridge pole " + "x" * 300})
    wide = _on_a_terminal(alice, db_url, 130)
    assert ref in wide
    assert "KH-12" in wide
    assert "camera on the bridge" in wide
    assert "x" * 300 not in wide  # a snippet, not the whole description
    narrow = _on_a_terminal(alice, db_url, 100)
    assert ref in narrow
    assert "KH-12" not in narrow
    assert "camera" not in narrow
