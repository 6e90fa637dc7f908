"""C2PA (JUMBF) and ProofMode found in a file, never verified; a box that lies about its size is refused, and no
shape of a file makes the parser crash (attack catalogue 4)."""

from __future__ import annotations

import io
import random
import struct
import zipfile

import pytest

from intake.evidence.provenance import ProvenanceError, c2pa_boxes, jumbf_label, provenance
from tests.support import photos


def png_with(chunk: bytes) -> bytes:
    """A small PNG with a caBX chunk holding `chunk` before its image data."""
    png = photos.text_png()
    at = png.index(b"IDAT") - 4
    return png[:at] + struct.pack(">I", len(chunk)) + b"caBX" + chunk + b"\0\0\0\0" + png[at:]


def test_a_c2pa_store_is_found_in_one_packet_or_several():
    """A manifest store split over APP11 packets (each repeating the box header) is joined and found."""
    for packets in (1, 2, 5):
        assert provenance("p.jpg", photos.c2pa_photo(packets=packets))["c2pa"].startswith("a C2PA manifest store")
    assert "c2pa" in provenance("p.png", png_with(photos.jumbf(b"c2pa", b"{}")))
    assert provenance("p.jpg", photos.thumbnail_photo()) == {}
    assert provenance("p.png", png_with(photos.jumbf(b"other", b"{}"))) == {}


@pytest.mark.parametrize("declared", [0, 7, 8, 100, 139 - 1, 139 + 1, 2**32 - 1])
def test_a_box_that_lies_about_its_size_is_refused(declared):
    """Declared sizes smaller or larger than the box: refused, never reported as a manifest."""
    found = provenance("p.jpg", photos.c2pa_photo(declared=declared))
    assert found["c2pa"].startswith("refused: ")
    with pytest.raises(ProvenanceError):
        c2pa_boxes(photos.c2pa_photo(declared=declared))


def test_lying_inner_boxes_and_extended_sizes_are_refused():
    """A description box larger than its superbox, an XLBox that lies, a label without its end."""
    good = photos.jumbf(b"c2pa", b"{}")
    assert jumbf_label(good) == "c2pa"
    inner = good[:8] + struct.pack(">I", 10_000) + good[12:]
    extended = struct.pack(">I4sQ", 1, b"jumb", 10_000) + good[8:]
    unended = good[:8 + 8 + 17] + b"c2pa"
    for box in (inner, extended, unended, good[:7], b""):
        with pytest.raises(ProvenanceError):
            jumbf_label(box)


def test_proofmode_files_and_zips_are_named():
    """ProofMode's proof files, alone or in its zip, are named; an ordinary zip is not."""
    assert "proofmode" in provenance("abc.proof.json", b"{}")
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as z:
        z.writestr("IMG_1.jpg", b"x")
        z.writestr("IMG_1.jpg.proof.csv", b"a,b")
    assert "proofmode" in provenance("proof.zip", out.getvalue())
    plain = io.BytesIO()
    with zipfile.ZipFile(plain, "w") as z:
        z.writestr("notes.txt", b"x")
    assert provenance("notes.zip", plain.getvalue()) == {}


def test_no_cut_or_damaged_file_crashes_the_parser():
    """Every cut of a C2PA photo, and seeded random damage, ends in a result or a refusal."""
    data = photos.c2pa_photo()
    rng = random.Random(25)  # noqa: S311 - reproducible damage, not a secret
    shapes = [data[:n] for n in range(0, 600)] + [
        data[:at] + bytes([rng.randrange(256)]) + data[at + 1:] for at in (rng.randrange(600) for _ in range(400))]
    for shape in shapes:
        assert isinstance(provenance("x.jpg", shape), dict)
