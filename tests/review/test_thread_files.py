"""A reporter's follow-up files through the real intake-review: `show` lists them, `export` writes them into
DIR/thread/ as it writes the report's (cleaned, safe names, never overwriting), and a hostile one fails alone."""

from __future__ import annotations

import json
import os

import pytest

from intake.review.rebuild import rebuild
from intake.storage.threads import add_message
from tests.support import photos as photokit
from tests.support.reviewkit import Reviewer
from tests.support.threadfiles import FILES, MINUTES, PHOTO, REPORT_FILE, TEXT, ThreadCase, flip_message_part

HOSTILE_NAME = ("\x1b[31m../../.bashrc\u202etxt.sh", "text/x-sh", b"rm -rf ~\n")


@pytest.fixture
def alice(tmp_path) -> Reviewer:
    """A reviewer with an identity file locked by a passphrase."""
    return Reviewer.make(tmp_path / "alice")


@pytest.fixture
def case(engine, alice) -> ThreadCase:
    """A case with a file of its own, whose reporter sent a GPS photo, the minutes and a hostile name."""
    made = ThreadCase.store(engine, [alice.recipient])
    made.follow_up(engine, [*FILES, HOSTILE_NAME])
    return made


def test_show_lists_the_files_of_a_follow_up(alice, case, db_url):
    shown = alice.run("show", case.ref, "--json", where=("--db", db_url))
    (message,) = json.loads(shown.stdout)["thread"]
    assert message["seq"] == 1
    assert message["text"] == TEXT
    assert [{k: a[k] for k in ("name", "type", "size")} for a in message["attachments"]] == [
        {"name": n, "type": t, "size": len(d)} for n, t, d in [*FILES, HOSTILE_NAME]]
    assert [a["sha256_ok"] for a in message["attachments"]] == [True, True, True]
    assert message["attachments"][0]["metadata"]["gps"] == "11.555556 N, 104.927778 E"
    assert "\x1b" not in shown.stdout
    assert "\u202e" not in shown.stdout
    text = alice.run("show", case.ref, where=("--db", db_url)).stdout
    assert f"file 1. IMG_0001.jpg  image/jpeg (looks like image/jpeg)  {len(PHOTO)} B  sha256 ok" in text
    assert "file 2. minutes.bin  application/octet-stream (looks like unknown type)  75.0 KiB" in text
    assert "file 3. \\x1b[31m../../.bashrc\\u202etxt.sh  text/x-sh" in text
    assert "\x1b" not in text


def test_show_gives_a_follow_up_photo_its_metadata_line(alice, case, db_url):
    """Issue 20 #17: a follow-up's photo gets the `metadata:` line a report's attachment gets (its GPS, here)."""
    text = alice.run("show", case.ref, where=("--db", db_url)).stdout
    lines = text.splitlines()
    at = next(i for i, line in enumerate(lines) if "file 1. IMG_0001.jpg" in line)
    assert lines[at + 2].strip().startswith("metadata: gps: 11.555556 N, 104.927778 E")
    assert "camera make: Canon" in lines[at + 2]
    assert lines[at + 5].strip().startswith("metadata: not checked: no reader for this type")


def test_export_cleans_the_photo_and_keeps_the_rest(alice, case, db_url, tmp_path):
    out = tmp_path / "out"
    done = alice.run("export", case.ref, "--out", str(out), where=("--db", db_url))
    names = sorted(os.listdir(out / "thread"))
    assert names == ["message-1-file-1-IMG_0001.jpg", "message-1-file-2-minutes.bin",
                     "message-1-file-3-[31m._._.bashrctxt.sh.txt"]
    photo = (out / "thread" / names[0]).read_bytes()
    assert photo == rebuild(PHOTO, "image/jpeg")
    assert b"Exif" not in photo
    assert b"Canon" not in photo
    assert photokit.pixels(photo) == photokit.pixels(PHOTO)
    assert (out / "thread" / names[1]).read_bytes() == MINUTES
    assert (out / "thread" / names[2]).read_bytes() == HOSTILE_NAME[2]
    assert (out / REPORT_FILE[0]).read_bytes() == REPORT_FILE[2]
    assert f"thread/{names[0]}: cleaned" in done.stderr
    report = json.loads((out / "report.json").read_text())
    files = report["thread"][0]["attachments"]
    assert [f["file"] for f in files] == [f"thread/{n}" for n in names]
    assert [f["name"] for f in files] == [n for n, _, _ in [*FILES, HOSTILE_NAME]]
    assert files[0]["cleaned"] is True
    assert files[0]["metadata_count"] > 0
    assert "warning: the originals carried metadata (" in done.stderr
    assert "gps" in done.stderr
    assert b"Sok Dara" not in (out / "report.json").read_bytes()
    assert files[1]["not_cleaned"].startswith("no cleaner for this type")

    kept = tmp_path / "kept"
    alice.run("export", case.ref, "--out", str(kept), "--keep-metadata", where=("--db", db_url))
    assert (kept / "thread" / names[0]).read_bytes() == PHOTO
    assert (kept / "thread" / names[1]).read_bytes() == MINUTES


def test_hostile_message_files_fail_alone(alice, case, engine, db_url, tmp_path):
    """A flipped byte in a stored part, a manifest whose SHA-256 lies, a body that does not open: each is named,
    and every other file (the report's and the messages') is still exported."""
    flipped = case.follow_up(engine, FILES)
    flip_message_part(engine, case.case_id, flipped, 1, 100)
    lying = case.wrong_sha(engine, [FILES[1], FILES[0]], 0)
    add_message(engine, case.case_id, "reporter", case.sealed(FILES).header, os.urandom(1064))
    last = case.follow_up(engine, [FILES[1]], "and the minutes again")
    out = tmp_path / "out"
    result = alice.run("export", case.ref, "--out", str(out), where=("--db", db_url), check=False)
    assert result.returncode == 7, result.stderr
    assert "Traceback" not in result.stderr
    assert f"case {case.ref}: message {flipped} file 2 is damaged (damaged attachment" in result.stderr
    assert f"message {lying} file 1: not exported (damaged attachment: attachment 0 does not match the size or " \
           "SHA-256 in its manifest)" in result.stderr
    assert f"message {last - 1}: not opened (damaged body)" in result.stderr
    assert "partial file was removed" in result.stderr
    assert sorted(os.listdir(out / "thread")) == [
        "message-1-file-1-IMG_0001.jpg", "message-1-file-2-minutes.bin", "message-1-file-3-[31m._._.bashrctxt.sh.txt",
        f"message-{flipped}-file-1-IMG_0001.jpg", f"message-{lying}-file-2-IMG_0001.jpg",
        f"message-{last}-file-1-minutes.bin"]
    assert (out / "thread" / f"message-{last}-file-1-minutes.bin").read_bytes() == MINUTES
    assert (out / REPORT_FILE[0]).read_bytes() == REPORT_FILE[2]
    thread = json.loads((out / "report.json").read_text())["thread"]
    assert thread[1]["attachments"][1]["file"] is None
    assert thread[1]["attachments"][1]["error"].startswith("damaged attachment")
    assert thread[2]["attachments"][0]["error"].startswith("damaged attachment")
    assert thread[3]["error"] == "damaged body"
    shown = alice.run("show", case.ref, "--json", where=("--db", db_url))
    assert [m.get("error") for m in json.loads(shown.stdout)["thread"]] == [None, None, None, "damaged body", None]


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_thread_folder_is_never_followed_through_a_symlink(alice, case, db_url, tmp_path):
    out, elsewhere = tmp_path / "out", tmp_path / "elsewhere"
    out.mkdir()
    elsewhere.mkdir()
    (out / "thread").symlink_to(elsewhere)
    result = alice.run("export", case.ref, "--out", str(out), where=("--db", db_url), check=False)
    assert result.returncode == 1, result.stderr
    assert f"cannot use {out / 'thread'} for the exported files" in result.stderr
    assert "export each case into its own empty folder" in result.stderr
    assert os.listdir(elsewhere) == []
    assert sorted(os.listdir(out)) == ["thread"]


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_files_already_in_thread_are_never_overwritten(alice, case, db_url, tmp_path):
    out = tmp_path / "out"
    (out / "thread").mkdir(parents=True)
    (out / "thread" / "message-1-file-1-IMG_0001.jpg").write_bytes(b"mine")
    alice.run("export", case.ref, "--out", str(out), where=("--db", db_url))
    assert (out / "thread" / "message-1-file-1-IMG_0001.jpg").read_bytes() == b"mine"
    assert (out / "thread" / "message-1-file-1-IMG_0001 (2).jpg").read_bytes() == rebuild(PHOTO, "image/jpeg")
    files = json.loads((out / "report.json").read_text())["thread"][0]["attachments"]
    assert files[0]["file"] == "thread/message-1-file-1-IMG_0001 (2).jpg"
