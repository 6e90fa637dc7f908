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
XMP = b"http://ns.adobe.com/xap/1.0/\x00<x:xmpmeta>canary-xmp-51aa</x:xmpmeta>"


def three_faces() -> bytes:
    """The test photo as a phone would send it: EXIF with camera and GPS, XMP and a comment, all canaries."""
    gps = photos.exif(b"CanaryMaker", b"CanaryCam X-77", b"canary-gps-7f3e")
    return photos.with_segments(THREE_FACES.read_bytes(), photos.segment(0xE1, gps), photos.segment(0xE1, XMP),
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
    """The test photo stored turned a quarter (faces on their side), with EXIF orientation 6 to stand it up."""
    with Image.open(THREE_FACES) as img:
        turned = img.transpose(Image.Transpose.ROTATE_90)  # counter-clockwise; orientation 6 turns it back
    exif = Image.Exif()
    exif[0x0112] = 6
    return encoded(turned, "JPEG", quality=85, exif=exif)


def cmyk() -> bytes:
    """The test photo as a CMYK JPEG (Adobe APP14)."""
    with Image.open(THREE_FACES) as img:
        return encoded(img.convert("CMYK"), "JPEG", quality=85)


def png16() -> bytes:
    """A 16-bit greyscale PNG of the test photo."""
    with Image.open(THREE_FACES) as img:
        grey = np.asarray(img.convert("L"), dtype=np.uint16) * 257
    return encoded(Image.fromarray(grey), "PNG")


def animated(fmt: str) -> bytes:
    """A two-frame animation (GIF or WebP) whose frames both show the faces."""
    with Image.open(THREE_FACES) as img:
        frames = [img.convert("RGB").resize((768, 256)), img.convert("RGB").resize((768, 256)).rotate(3)]
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
