"""Photos for the publish tests: the three-face test photo (tests/data/faces), turned, re-coded and damaged."""

from __future__ import annotations

import io
import struct
from pathlib import Path

import numpy as np
from PIL import Image

from intake.publish.faces import Detectors, merged
from tests.support import ROOT, photos

THREE_FACES = ROOT / "tests" / "data" / "faces" / "three-faces.jpg"
HALF = (768, 256)  # the test photo at half size: a quarter of the detectors' work, its smallest face still 4x MIN_FACE
XMP = b"http://ns.adobe.com/xap/1.0/\x00<x:xmpmeta>canary-xmp-51aa</x:xmpmeta>"


def half() -> Image.Image:
    """The test photo at HALF size, in RGB: for the tests whose subject is not the photo's size."""
    with Image.open(THREE_FACES) as img:
        return img.convert("RGB").resize(HALF, Image.Resampling.LANCZOS)


def three_faces(small: bool = False) -> bytes:
    """The test photo (at HALF size if `small`) as a phone would send it: EXIF with camera and GPS, XMP and a
    comment, all canaries."""
    gps = photos.exif(b"CanaryMaker", b"CanaryCam X-77", b"canary-gps-7f3e")
    data = encoded(half(), "JPEG", quality=90) if small else THREE_FACES.read_bytes()
    return photos.with_segments(data, photos.segment(0xE1, gps), photos.segment(0xE1, XMP),
                                photos.segment(0xFE, b"canary-com-0b1e"))


def regions(data: bytes) -> list[tuple[int, int, int, int]]:
    """What the publishing detectors find in a photo's pixels (upright), overlapping boxes joined."""
    with Image.open(io.BytesIO(data)) as img:
        rgb = np.array(img.convert("RGB"))
    return merged(Detectors().find(rgb))


def encoded(img: Image.Image, fmt: str, **options: object) -> bytes:
    """An image saved in memory."""
    out = io.BytesIO()
    img.save(out, fmt, **options)
    return out.getvalue()


def sideways() -> bytes:
    """The test photo at HALF size stored turned a quarter (faces on their side), with EXIF orientation 6 to stand
    it up."""
    turned = half().transpose(Image.Transpose.ROTATE_90)  # counter-clockwise; orientation 6 turns it back
    exif = Image.Exif()
    exif[0x0112] = 6
    return encoded(turned, "JPEG", quality=85, exif=exif)


def cmyk() -> bytes:
    """The test photo at HALF size as a CMYK JPEG (Adobe APP14)."""
    return encoded(half().convert("CMYK"), "JPEG", quality=85)


def png16() -> bytes:
    """A 16-bit greyscale PNG of the test photo at HALF size."""
    grey = np.asarray(half().convert("L"), dtype=np.uint16) * 257
    return encoded(Image.fromarray(grey), "PNG")


def animated(fmt: str) -> bytes:
    """A two-frame animation (GIF or WebP) of the test photo at HALF size whose frames both show the faces."""
    frames = [half(), half().rotate(3)]
    return encoded(frames[0], fmt, save_all=True, append_images=frames[1:], duration=200, loop=0)


def huge_jpeg() -> bytes:
    """A JPEG whose frame header claims 65,000 x 65,000 pixels, in a few kilobytes."""
    data = bytearray(photos.plain_jpeg((64, 48), 1))
    at = data.index(b"\xff\xc0") + 5
    data[at:at + 4] = struct.pack(">HH", 65000, 65000)
    return bytes(data)


def small_photos(count: int) -> list[tuple[str, str, bytes]]:
    """`count` small different photos."""
    return [(f"p{i}.jpg", "image/jpeg", photos.plain_jpeg((96, 72), i)) for i in range(count)]


def tree(out: Path) -> list[str]:
    """Every path under `out`, relative, sorted."""
    return sorted(str(p.relative_to(out)) for p in out.rglob("*"))
