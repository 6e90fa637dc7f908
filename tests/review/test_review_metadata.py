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
    assert report["attachments"][0]["metadata_count"] >= 4
    assert "metadata_found" not in report["attachments"][0]
    assert [p.name for p in out.iterdir() if p.name.startswith(".")] == []


def test_keep_metadata_keeps_originals_byte_for_byte(case, tmp_path):
    alice, ref, where = case
    out = tmp_path / "out"
    alice.run("export", ref, "--out", str(out), "--keep-metadata", where=where)
    for name, _, data in FILES:
        assert hashlib.sha256((out / name).read_bytes()).hexdigest() == hashlib.sha256(data).hexdigest()


def serial_photo() -> bytes:
    """A JPEG carrying a GPS position, the camera's serial number and the photographer's name."""
    from PIL import ExifTags

    exif = Image.Exif()
    exif[ExifTags.Base.Artist] = "Canary Artist Sok"
    exif[ExifTags.IFD.GPSInfo] = {1: "N", 2: (11.0, 33.0, 20.0), 3: "E", 4: (104.0, 55.0, 40.0)}
    exif.get_ifd(ExifTags.IFD.Exif)[ExifTags.Base.BodySerialNumber] = "SN-CANARY-4471"
    out = io.BytesIO()
    Image.new("RGB", (32, 24), (10, 90, 30)).save(out, format="JPEG", exif=exif)
    return out.getvalue()


SECRETS = [b"Canary Artist Sok", b"SN-CANARY-4471", b"11.555556", b"104.927778"]


def test_metadata_found_never_lands_in_the_cleaned_folder(engine, db_url, tmp_path):
    """Issue 19 #15: report.json named the GPS, serial and artist it removed, in the folder to be handed on."""
    alice = Reviewer.make(tmp_path / "alice")
    ref = store(engine, [alice.recipient], [("photo.jpg", "image/jpeg", serial_photo())])
    found = alice.json("show", ref, where=("--db", db_url))["attachments"][0]["metadata"]
    assert {found["artist"], found["camera serial"]} == {"Canary Artist Sok", "SN-CANARY-4471"}
    out = tmp_path / "handed-on"
    done = alice.run("export", ref, "--out", str(out), where=("--db", db_url))
    held = [(p, s) for p in out.rglob("*") if p.is_file() for s in SECRETS if s in p.read_bytes()]
    assert held == []
    assert "warning: the originals carried metadata (artist, camera serial, gps)" in done.stderr
    assert "--metadata-out" in done.stderr

    inside = alice.run("export", ref, "--out", str(tmp_path / "again"), "--metadata-out",
                       str(tmp_path / "again" / "meta.json"), where=("--db", db_url), check=False)
    assert inside.returncode != 0
    assert "inside" in inside.stderr
    assert not (tmp_path / "again").exists()
    sensitive = tmp_path / "SENSITIVE-metadata.json"
    kept = alice.run("export", ref, "--out", str(tmp_path / "third"), "--metadata-out", str(sensitive),
                     where=("--db", db_url))
    assert f"written to {sensitive}" in kept.stderr
    assert oct(sensitive.stat().st_mode & 0o777) == "0o600"
    entry = json.loads(sensitive.read_text())["files"][0]
    assert entry["metadata_found"]["camera serial"] == "SN-CANARY-4471"
    assert entry["metadata_found"]["gps"] == "11.555556 N, 104.927778 E"
    assert [s for p in (tmp_path / "third").rglob("*") if p.is_file() for s in SECRETS if s in p.read_bytes()] == []


def _box(brand: bytes) -> bytes:
    """The first boxes of an ISO base media file: ftyp with a major brand, then an empty mdat."""
    return b"\x00\x00\x00\x18ftyp" + brand + b"\x00\x00\x02\x00" + brand + b"isom" + b"\x00\x00\x00\x08mdat"


VIDEOS = [("a.mp4", _box(b"isom"), "video/mp4"), ("b.mp4", _box(b"mp42"), "video/mp4"),
          ("c.m4v", _box(b"M4V "), "video/x-m4v"), ("d.3gp", _box(b"3gp5"), "video/3gpp"),
          ("e.mov", _box(b"qt  "), "video/quicktime"), ("f.webm", b"\x1a\x45\xdf\xa3" + bytes(40), "video/webm")]


def test_show_names_real_video_types(engine, db_url, tmp_path):
    """Issue 20 #18: a real MP4 (and MOV, 3GP, M4V, WebM) shows its type, not "looks like unknown type"."""
    alice = Reviewer.make(tmp_path / "alice")
    ref = store(engine, [alice.recipient], [(name, "application/octet-stream", data) for name, data, _ in VIDEOS])
    shown = alice.json("show", ref, where=("--db", db_url))["attachments"]
    assert [a["detected_type"] for a in shown] == [kind for _, _, kind in VIDEOS]
    assert all("not checked" in a["metadata"] for a in shown), "a video may carry GPS: never 'none found'"
    text = alice.run("show", ref, where=("--db", db_url)).stdout
    for name, _, kind in VIDEOS:
        assert f"{name}  application/octet-stream (looks like {kind})" in text
    assert "unknown type" not in text
    done = alice.run("export", ref, "--out", str(tmp_path / "out"), where=("--db", db_url))
    assert "a.mp4: kept as it is (no cleaner for video/mp4" in done.stderr
