"""A phone's portrait photo keeps its EXIF orientation through the reviewer's cleaner (the page's metadata.js writes
the same bytes: tests/web/test_web_photos.py), and nothing else of its EXIF; hostile orientation tags keep none."""

from __future__ import annotations

import io
import warnings

from PIL import Image

from intake.review.clean import clean, thumbnail
from intake.review.metadata import describe
from tests.support import photos as photokit


def test_portrait_keeps_its_orientation_alone():
    """Orientation 6 among GPS, camera, maker-note and canary tags, XMP and a comment: the export's copy carries
    that one tag, stands upright, shows nothing to report and cleans to itself; the digest's preview is upright."""
    original = photokit.portrait_photo()
    cleaned = clean(original, "image/jpeg")
    assert [c for c in photokit.CANARIES + photokit.STRUCTURES_BUT_EXIF if c in cleaned] == []
    assert photokit.only_orientation(cleaned) == 6
    assert photokit.pixels(cleaned) == photokit.pixels(original)
    assert describe(cleaned, "image/jpeg") == {}
    assert clean(cleaned, "image/jpeg") == cleaned  # a photo the page cleaned is exported as it arrived
    assert {"gps", "camera model", "software", "artist", "thumbnail", "xmp"} <= set(describe(original, "image/jpeg"))
    with Image.open(io.BytesIO(thumbnail(cleaned, "image/jpeg"))) as preview:
        assert preview.width < preview.height


def test_odd_and_hostile_orientation_tags():
    """Values out of range, a wrong type or count, two tags, a lying count, a cut segment, an IFD out of place, a
    second EXIF or one after the image data: the photo is still cleaned, with no orientation or the one valid tag."""
    for what, photo, kept in photokit.orientation_cases():
        cleaned = clean(photo, "image/jpeg")
        assert photokit.only_orientation(cleaned) == kept, what
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # Pillow warns of the original's damaged EXIF
            assert photokit.pixels(cleaned) == photokit.pixels(photo), what
