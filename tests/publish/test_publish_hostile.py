"""The adversary's publish: hostile photos, names and fields, and a case of 200 photos. Each hostile file is one
"could not be processed" and the rest is written; nothing a stranger wrote reaches a path or the page's markup."""

from __future__ import annotations

import io
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from PIL import Image

from tests.support import photos, publishkit
from tests.support.publishkit import regions, small_photos, tree
from tests.support.reviewkit import Reviewer, signed_keyring, store
from tests.support.threadfiles import ThreadCase, flip_message_part

SQLITE = pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
MARKUP = '<img src=x onerror="alert(1)">'
HOSTILE_FIELDS = {"incident_type": "drone", "location": f"{MARKUP}</td></table><script>alert(2)</script>",
                  "description": "Seen near a.*b and (x|y) and \u202eevil\u202c; a.b stays"}


def run_publish(tmp_path, engine, db_url, files, *args, fields=None, env=None, out="out"):
    """Store a case with `files` and publish it; the CLI's result and the folder."""
    alice = Reviewer.make(tmp_path / "alice")
    keys_dir, signer = signed_keyring(tmp_path, [alice.recipient])
    ref = store(engine, [alice.recipient], files, fields or HOSTILE_FIELDS)
    folder = tmp_path / out
    done = alice.run("publish", ref, "--out", str(folder), *args, env=env,
                     where=("--db", db_url, "--keys-dir", keys_dir, "--signer", signer))
    return done, folder


@SQLITE
def test_hostile_photos_and_names_leave_the_rest_published(tmp_path, engine, db_url):
    """A pixel bomb, a scan bomb, a cut JPEG and one claiming 65,000 pixels a side are each "could not be processed"
    and the good photo between them is published; names with ../, bidi controls and markup reach no path and no
    markup; --redact words with regex characters are taken literally."""
    files = [("../../etc/passwd.jpg", "image/jpeg", photos.plain_jpeg((96, 72), 1)),
             ("bomb\u202egpj.png", "image/png", photos.pixel_bomb()),
             (f"{MARKUP}.jpg", "image/jpeg", photos.truncated_jpeg()),
             ("huge.jpg", "image/jpeg", publishkit.huge_jpeg()),
             ("scans.jpg", "image/jpeg", photos.scan_bomb(20000)),
             ("..", "image/png", photos.text_png())]
    done, out = run_publish(tmp_path, engine, db_url, files, "--redact", ".*", "--redact", "(x|y)",
                            env={"INTAKE_REVIEW_CPU_SECONDS": "3"})
    assert tree(out) == ["check", "check.html", "check/photo-1.jpg", "check/photo-6.jpg", "publication",
                         "publication/photo-1.jpg", "publication/photo-6.jpg", "publication/report.txt"]
    lines = {int(m[1]): m[2] for m in re.finditer(r"attachment (\d) \(.*?\): (.*)", done.stderr)}
    assert lines[1].endswith("regions hidden")
    assert lines[2].startswith("could not be processed: a decompression bomb")
    assert lines[3].startswith("could not be processed: it could not be read")
    assert lines[4].startswith("could not be processed")
    assert lines[5].startswith("could not be processed: too costly")
    assert lines[6].endswith("regions hidden")
    assert "canary-png" not in (out / "publication" / "photo-6.jpg").read_bytes().decode("latin-1")
    page = (out / "check.html").read_text()
    assert MARKUP not in page
    assert "<script>alert" not in page
    assert "\u202e" not in page
    assert "\\u202e" in page  # the bidi control written out, visibly
    assert "&lt;img src=x onerror=&quot;alert(1)&quot;&gt;.jpg" in page
    assert page.count("<img ") == 2  # the two published photos' outlined copies, nothing of a stranger's
    text = (out / "publication" / "report.txt").read_text()
    assert "Seen near a[redacted]b and [redacted] and" in text  # ".*" and "(x|y)" as written, never as patterns
    assert "a.b stays" in text


@SQLITE
@pytest.mark.slow
@pytest.mark.parametrize("kind", ["cmyk", "png16", "gif", "webp"])
def test_every_photo_format_has_its_faces_hidden(tmp_path, engine, db_url, kind):
    """CMYK JPEG, 16-bit PNG and animated GIF and WebP: turned into RGB, faces hidden, nothing left to find."""
    data = {"cmyk": publishkit.cmyk, "png16": publishkit.png16, "gif": lambda: publishkit.animated("GIF"),
            "webp": lambda: publishkit.animated("WEBP")}[kind]()
    done, out = run_publish(tmp_path, engine, db_url, [(f"photo.{kind}", "image/x-any", data)])
    published = (out / "publication" / "photo-1.jpg").read_bytes()
    with Image.open(io.BytesIO(published)) as img:
        assert img.mode == "RGB"
        assert img.format == "JPEG"
    assert regions(published) == []
    assert int(re.search(r"(\d+) regions hidden", done.stderr)[1]) >= 3
    if kind in ("gif", "webp"):
        assert "an animation of 2 frames: only its first frame is published" in done.stderr
        assert "only its first frame is published" in (out / "check.html").read_text()


def max_child_rss(args: list[str]) -> int:
    """The peak resident size (KiB) of the largest process `args` ran (itself or any child it waited for)."""
    probe = ("import resource, subprocess, sys; subprocess.run(sys.argv[1:], check=True, capture_output=True); "
             "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)")
    return int(subprocess.run([sys.executable, "-c", probe, *args], capture_output=True, text=True,
                              check=True).stdout)


@SQLITE
@pytest.mark.slow
def test_two_hundred_photos_in_bounded_memory(tmp_path, engine, db_url):
    """A case whose reporter sent 200 photos in follow-ups (32 a message at most) is published one photo at a time:
    no process grows with the count (10 photos, then 200: the same peak within 50%), and every photo is published."""
    from tests.support import BIN

    alice = Reviewer.make(tmp_path / "alice")
    keys_dir, signer = signed_keyring(tmp_path, [alice.recipient])
    peaks = []
    for count in (10, 200):
        case = ThreadCase.store(engine, [alice.recipient])
        sent = small_photos(count)
        for start in range(0, count, 32):
            case.follow_up(engine, sent[start:start + 32])
        out = tmp_path / f"out{count}"
        peaks.append(max_child_rss([str(BIN / "intake-review"), "--identity", str(alice.key), "--passphrase-file",
                                    str(alice.passphrase), "--db", db_url, "--keys-dir", keys_dir, "--signer",
                                    signer, "publish", case.ref, "--out", str(out)]))
        assert len(list((out / "publication").glob("message-*-photo-*.jpg"))) == count
        assert len(list((out / "check").glob("message-*-photo-*.jpg"))) == count
    assert peaks[1] < 1.5 * peaks[0], peaks


def test_the_publishing_process_is_off_the_network_with_no_environment():
    """The process that decodes strangers' photos shares no network namespace and no variable with the reviewer."""
    from intake.publish.worker import Publisher

    with Publisher() as publisher:
        assert not isinstance(publisher.publish(photos.plain_jpeg((96, 72), 1), "image/jpeg"), str)
        pid = publisher.server.pid
        assert os.readlink(f"/proc/{pid}/ns/net") != os.readlink("/proc/self/ns/net")
        variables = {v.split(b"=")[0] for v in Path(f"/proc/{pid}/environ").read_bytes().split(b"\0") if v}
        assert variables == {b"OPENBLAS_NUM_THREADS", b"OMP_NUM_THREADS"}
        assert publisher.publish(b"\xff\xd8\xff" + bytes(100), "image/jpeg").startswith("could not be processed")
        assert publisher.server.poll() is None  # the next photo goes to the same process


@SQLITE
def test_a_damaged_file_exits_7_after_the_rest_is_published(tmp_path, engine, db_url):
    """A follow-up's photo whose sealed bytes were changed is not published, the others are, and the exit code is 7."""
    from tests.support import run_cli

    alice = Reviewer.make(tmp_path / "alice")
    keys_dir, signer = signed_keyring(tmp_path, [alice.recipient])
    case = ThreadCase.store(engine, [alice.recipient])
    seq = case.follow_up(engine, small_photos(2))
    flip_message_part(engine, case.case_id, seq, 0, 700)
    out = tmp_path / "out"
    done = run_cli("intake-review", "--identity", str(alice.key), "--passphrase-file", str(alice.passphrase),
                   "--db", db_url, "--keys-dir", keys_dir, "--signer", signer, "publish", case.ref, "--out",
                   str(out), cwd=tmp_path, check=False)
    assert done.returncode == 7
    assert f"message {seq} file 1 is damaged" in done.stderr
    assert sorted(p.name for p in (out / "publication").iterdir()) == [f"message-{seq}-photo-2.jpg", "report.txt"]
    assert "attachment 1 (statement.bin): not published: blur by hand" in done.stderr


def test_missing_cascades_named_before_anything_is_written(monkeypatch, tmp_path):
    """Without OpenCV 4.x's cascades (OpenCV 5.x ships none) publish says what to install, and writes nothing."""
    from intake.publish import build, faces
    from intake.review.errors import ReviewError

    faces.check_installed()
    monkeypatch.setattr(faces, "CASCADES", (*faces.CASCADES, "haarcascade_gone.xml"))
    with pytest.raises(ReviewError, match=r"haarcascade_gone.xml.*opencv-python-headless>=4.10,<5"):
        build.publish_case(None, "AAAA", tmp_path / "out", ())
    assert not (tmp_path / "out").exists()
