"""`intake-review publish` as a real process: every face the detectors find is hidden beyond what they find again,
the copy carries no metadata, the text is redacted, and check.html shows the hidden regions to a person."""

from __future__ import annotations

import io
import re

import numpy as np
import pytest
from PIL import Image

from tests.support import photos
from tests.support.canary import hits
from tests.support.publishkit import HALF, THREE_FACES, regions, sideways, three_faces, tree
from tests.support.reviewkit import Reviewer, signed_keyring, store

SQLITE = pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
FIELDS = {"incident_type": "drone", "location": "Sok Dara's house, Street 271",
          "description": "Officer SOK dara filmed us.\nThe drone came from the (police) post at 5.30."}


def publish(tmp_path, engine, db_url, files, *args, fields=None, check=True):
    """Store a case with `files`, publish it into tmp_path/out; the CLI's result and the folder."""
    alice = Reviewer.make(tmp_path / "alice")
    keys_dir, signer = signed_keyring(tmp_path, [alice.recipient])
    ref = store(engine, [alice.recipient], files, fields or FIELDS)
    out = tmp_path / "out"
    done = alice.run("publish", ref, "--out", str(out), *args,
                     where=("--db", db_url, "--keys-dir", keys_dir, "--signer", signer), check=check)
    return done, out, ref


def upright_faces() -> list[tuple[int, int]]:
    """The centres of the faces the detectors find in the test photo (one in each third, checked here)."""
    found = regions(THREE_FACES.read_bytes())
    centres = [(x + w // 2, y + h // 2) for x, y, w, h in found]
    assert sorted({cx // 512 for cx, _ in centres}) == [0, 1, 2], found
    return centres


@SQLITE
def test_three_faces_hidden_and_no_metadata(tmp_path, engine, db_url):
    """The done-when of issue 25 item 5: all three faces hidden, found by no detector again; no EXIF, XMP or GPS."""
    done, out, ref = publish(tmp_path, engine, db_url, [("crowd.jpg", "image/jpeg", three_faces())],
                             "--redact", "sok dara", "--redact", "(police)")
    published = (out / "publication" / "photo-1.jpg").read_bytes()
    assert regions(published) == []
    with Image.open(io.BytesIO(published)) as img:
        assert img.size == (1536, 512)
        assert not img.getexif()
        assert not {"exif", "xmp", "icc_profile", "comment", "XML:com.adobe.xmp"} & set(img.info)
        rgb = np.asarray(img.convert("RGB"))
    for cx, cy in upright_faces():
        assert rgb[cy - 8:cy + 8, cx - 8:cx + 8].max() < 40, (cx, cy)  # the solid fill, give or take JPEG noise
    assert [s for s in photos.CANARIES + photos.STRUCTURES if s in published] == []
    assert hits([out], ["CanaryMaker", "canary-gps-7f3e", "canary-xmp-51aa", "canary-com-0b1e"]) == []
    assert tree(out) == ["check", "check.html", "check/photo-1.jpg", "publication", "publication/photo-1.jpg",
                         "publication/report.txt"]
    text = (out / "publication" / "report.txt").read_text()
    assert "location:\n[redacted]'s house, Street 271\n" in text
    assert "Officer [redacted] filmed us.\nThe drone came from the [redacted] post at 5.30." in text
    assert "dara" not in text.casefold()
    page = (out / "check.html").read_text()
    count = int(re.search(r"attachment 1 \(crowd.jpg\): (\d+) regions hidden", done.stderr)[1])
    assert count >= 3  # the three faces, and whatever else the detectors took for one
    assert f"<b>{count} regions hidden</b>" in page
    assert "Automatic detection misses faces" in page
    assert "<script" not in page
    assert not re.search(r"(https?:)?//", page)  # no outside resource
    assert "default-src 'none'; img-src 'self'" in page
    assert "check every photo" in done.stderr


@SQLITE
def test_orientation_applied_before_detecting(tmp_path, engine, db_url):
    """A photo stored sideways with EXIF orientation 6: turned upright first, so the faces are found and hidden."""
    data = sideways()
    with Image.open(io.BytesIO(data)) as img:
        assert img.size == HALF[::-1]
    done, out, _ = publish(tmp_path, engine, db_url, [("turned.jpg", "image/jpeg", data)])
    published = (out / "publication" / "photo-1.jpg").read_bytes()
    with Image.open(io.BytesIO(published)) as img:
        assert img.size == HALF
        assert not img.getexif()
    assert regions(published) == []
    assert int(re.search(r"(\d+) regions hidden", done.stderr)[1]) >= 3


@SQLITE
def test_videos_and_other_files_listed_not_published(tmp_path, engine, db_url):
    """A video and a PDF are listed "not published: blur by hand"; the photo beside them is published."""
    mp4 = b"\x00\x00\x00\x18ftypmp42\x00\x00\x00\x00mp42isom" + bytes(2048)
    files = [("clip.mp4", "video/mp4", mp4), ("notes.pdf", "application/pdf", b"%PDF-1.4\n%%EOF\n"),
             ("one.jpg", "image/jpeg", photos.plain_jpeg((96, 72), 1))]
    done, out, _ = publish(tmp_path, engine, db_url, files)
    assert sorted(p.name for p in (out / "publication").iterdir()) == ["photo-3.jpg", "report.txt"]
    assert "attachment 1 (clip.mp4): not published: blur by hand" in done.stderr
    assert "attachment 2 (notes.pdf): not published: blur by hand" in done.stderr
    page = (out / "check.html").read_text()
    assert page.count("not published: blur by hand") == 2
    assert "<b>0 regions hidden</b>" in page


@SQLITE
def test_refuses_a_folder_in_use_and_bad_words(tmp_path, engine, db_url):
    """A folder that holds anything, or a --redact word with no letter, is refused before anything is written."""
    (tmp_path / "out").mkdir()
    (tmp_path / "out" / "keep.txt").write_text("mine")
    done, out, _ = publish(tmp_path, engine, db_url, [], check=False)
    assert done.returncode == 1
    assert "not a new or empty folder" in done.stderr
    assert tree(out) == ["keep.txt"]
    (out / "keep.txt").unlink()
    done, out, _ = publish(tmp_path / "again", engine, db_url, [], "--redact", "\u200b ", check=False)
    assert done.returncode == 1
    assert "no visible letter" in done.stderr
    assert not out.exists()


@SQLITE
def test_published_on_a_bundle_too(tmp_path, engine, db_url):
    """From a bundle (`intake export-sealed`), with no database: the same copy; the custody entry is a warning."""
    from tests.support import run_cli

    alice = Reviewer.make(tmp_path / "alice")
    keys_dir, signer = signed_keyring(tmp_path, [alice.recipient])
    ref = store(engine, [alice.recipient], [("crowd.jpg", "image/jpeg", three_faces(small=True))], FIELDS)
    bundle = tmp_path / "cases.bundle"
    (tmp_path / "instance").mkdir(mode=0o700)  # the instance folder holds the import key a bundle carries
    run_cli("intake", "export-sealed", "--out", str(bundle), cwd=tmp_path, env={"INTAKE_DATABASE_URL": db_url})
    out = tmp_path / "out"
    done = alice.run("publish", ref, "--out", str(out), "--redact", "Street 271",
                     where=("--bundle", str(bundle), "--keys-dir", keys_dir, "--signer", signer))
    assert regions((out / "publication" / "photo-1.jpg").read_bytes()) == []
    assert "Sok Dara's house, [redacted]" in (out / "publication" / "report.txt").read_text()
    assert "custody entry not recorded" in done.stderr
