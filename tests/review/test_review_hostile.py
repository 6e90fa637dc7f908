"""Hostile reports: file names and text that try to escape DIR, overwrite files or drive the terminal."""

from __future__ import annotations

import json
import os

import pytest

from tests.support.reviewkit import Reviewer, store

HOSTILE = ["../../x", "/etc/passwd", "a\x00b", "A" * 10_000 + ".jpg", "photo.jpg", "photo.jpg",
           "\x1b]0;pwned\x07", "\x1b[2J", "report.json", "..", "\u202eexe.txt", "CON"]
TEXT = "look \x1b]0;pwned\x07 here \x1b[2J and \x9b31m and \u202e"


@pytest.fixture
def hostile(engine, db_url, tmp_path):
    """A case whose attachment names and fields are hostile."""
    alice = Reviewer.make(tmp_path / "alice")
    files = [(name, "text/plain\x1b[31m", f"file {i}".encode()) for i, name in enumerate(HOSTILE)]
    ref = store(engine, [alice.recipient], files, {"incident_type": "cctv\x1b[2J", "description": TEXT})
    return alice, ref, ("--db", db_url)


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_export_stays_inside_dir_and_overwrites_nothing(hostile, tmp_path):
    alice, ref, where = hostile
    out = tmp_path / "out"
    out.mkdir()
    (out / "photo.jpg").write_bytes(b"precious")
    outside = tmp_path / "outside"
    (out / "_etc_passwd").symlink_to(outside)
    before = sorted(p.name for p in tmp_path.iterdir())
    done = alice.run("export", ref, "--out", str(out), where=where)
    assert "\x1b" not in done.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == before
    assert not outside.exists()
    assert (out / "photo.jpg").read_bytes() == b"precious"
    assert (out / "_etc_passwd").is_symlink()
    names = sorted(os.listdir(out))
    for name in names:
        assert "/" not in name
        assert "\x00" not in name
        assert "\x1b" not in name
        assert "\u202e" not in name
        assert len(name) <= 110
        assert not name.startswith(".")
    report = json.loads((out / "report.json").read_text())
    files = [a["file"] for a in report["attachments"]]
    assert len(set(files)) == len(HOSTILE)
    for i, name in enumerate(files):
        assert (out / name).read_bytes() == f"file {i}".encode()
        assert not (out / name).is_symlink()
    assert report["attachments"][3]["file"].endswith(".jpg")
    assert {"photo (2).jpg", "photo (3).jpg"} <= set(files)
    assert "report.json" not in files
    assert report["attachments"][0]["name"] == "../../x"


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_show_and_list_never_print_raw_escapes(hostile):
    alice, ref, where = hostile
    for args in (("show", ref), ("show", ref, "--json"), ("list",), ("list", "--json")):
        result = alice.run(*args, where=where)
        assert "\x1b" not in result.stdout + result.stderr
        assert "\x9b" not in result.stdout
        assert "\u202e" not in result.stdout
    shown = alice.json("show", ref, where=where)
    assert shown["fields"]["description"] == TEXT
    assert [a["name"] for a in shown["attachments"]] == HOSTILE
    assert "\\x1b]0;pwned\\x07" in alice.run("show", ref, where=where).stdout
