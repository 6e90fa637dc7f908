"""Metadata: show reports GPS, camera and author; export removes it; --keep-metadata keeps files byte for byte."""

from __future__ import annotations

import hashlib
import io
import json

import pytest
from PIL import ExifTags, Image
from pypdf import PdfReader

from tests.support.reviewkit import Reviewer, jpeg_with_gps, pdf_with_author, store

pytestmark = pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)


def png_with_text() -> bytes:
    """A PNG whose text chunks name an author."""
    from PIL.PngImagePlugin import PngInfo

    info = PngInfo()
    info.add_text("Author", "Sok Dara")
    out = io.BytesIO()
    Image.new("RGBA", (8, 8), (0, 0, 255, 128)).save(out, format="PNG", pnginfo=info)
    return out.getvalue()


FILES = [("IMG_0001.jpg", "image/jpeg", jpeg_with_gps()), ("minutes.pdf", "application/pdf", pdf_with_author()),
         ("screen.png", "image/png", png_with_text()), ("fake.jpg", "image/jpeg", b"\xff\xd8\xff\xe0garbage"),
         ("clip.mp4", "video/mp4", b"\x00\x00\x00\x18ftypmp42" + bytes(64))]


@pytest.fixture
def case(engine, db_url, tmp_path):
    """A case with a JPEG (GPS, camera), a PDF (author), a PNG (text), a broken JPEG and a video."""
    alice = Reviewer.make(tmp_path / "alice")
    return alice, store(engine, [alice.recipient], FILES), ("--db", db_url)


def test_show_reports_metadata(case):
    alice, ref, where = case
    jpeg, pdf, png, fake, clip = alice.json("show", ref, where=where)["attachments"]
    assert jpeg["metadata"]["gps"] == "11.555556 N, 104.927778 E"
    assert jpeg["metadata"]["camera make"] == "Canon"
    assert jpeg["metadata"]["camera model"] == "EOS 80D"
    assert pdf["metadata"]["author"] == "Sok Dara"
    assert pdf["metadata"]["creator"] == "Office Scanner 3000"
    assert png["metadata"]["text Author"] == "Sok Dara"
    assert "unreadable" in fake["metadata"]
    assert "not checked" in clip["metadata"]
    text = alice.run("show", ref, where=where).stdout
    assert "gps: 11.555556 N, 104.927778 E" in text
    assert "author: Sok Dara" in text


def test_export_removes_metadata(case, tmp_path):
    alice, ref, where = case
    out = tmp_path / "out"
    done = alice.run("export", ref, "--out", str(out), where=where)
    with Image.open(out / "IMG_0001.jpg") as img:
        assert not img.getexif()
        assert not img.getexif().get_ifd(ExifTags.IFD.GPSInfo)
        assert img.size == (64, 48)
    reader = PdfReader(out / "minutes.pdf")
    assert not (reader.metadata or {}).get("/Author")
    assert not (reader.metadata or {}).get("/Creator")
    assert len(reader.pages) == 1
    with Image.open(out / "screen.png") as img:
        assert not img.text
        assert img.mode == "RGBA"
    assert (out / "fake.jpg").read_bytes() == FILES[3][2]
    assert "fake.jpg: kept as it is (could not be parsed" in done.stderr
    assert "clip.mp4: kept as it is (no cleaner for" in done.stderr
    report = json.loads((out / "report.json").read_text())
    assert [a["cleaned"] for a in report["attachments"]] == [True, True, True, False, False]
    assert report["attachments"][0]["metadata_found"]["gps"]
    assert [p.name for p in out.iterdir() if p.name.startswith(".")] == []


def test_keep_metadata_keeps_originals_byte_for_byte(case, tmp_path):
    alice, ref, where = case
    out = tmp_path / "out"
    alice.run("export", ref, "--out", str(out), "--keep-metadata", where=where)
    for name, _, data in FILES:
        assert hashlib.sha256((out / name).read_bytes()).hexdigest() == hashlib.sha256(data).hexdigest()
