"""JPEG, PNG and WebP read segment by segment: a new file from the primary image's structure, the rest listed.

The same rules as the page's `metadata.js` (docs/web.md "Photos"): a JPEG keeps its frame, tables and scans
up to its end marker, with a fresh JFIF or Adobe header and, when the original's EXIF turns the photo, a fresh
EXIF segment holding that orientation alone (docs/web.md "Orientation is kept"); a PNG keeps its critical chunks
and the numeric colour chunks, every CRC checked; a still WebP keeps its bitstream and alpha. Everything else, and
anything after the image's end, is left out.
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass, field

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
PNG_KEEP = {b"IHDR", b"PLTE", b"tRNS", b"IDAT", b"IEND", b"gAMA", b"cHRM", b"sRGB"}
JPEG_TABLES = {0xC4, 0xDB, 0xCC, 0xDD, 0xDC}
JPEG_FRAMES = {0xC0, 0xC1, 0xC2, 0xC3, 0xC5, 0xC6, 0xC7, 0xC9, 0xCA, 0xCB, 0xCD, 0xCE, 0xCF}
JFIF = b"\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00"
ADOBE = b"\xff\xee\x00\x0eAdobe\x00\x64\x00\x00\x00\x00"
RESTARTS = range(0xD0, 0xD8)
ORIENTATION = 0x0112
TIFF_ORDER = {b"II*\x00": "little", b"MM\x00*": "big"}
# A fresh APP1: "Exif", a big-endian TIFF header, IFD0 of one Orientation entry (SHORT, count 1); the value follows.
EXIF_ORIENTATION = b"\xff\xe1\x00\x22Exif\x00\x00MM\x00*\x00\x00\x00\x08\x00\x01\x01\x12\x00\x03\x00\x00\x00\x01\x00"
MAX_TRIES = 64


class Unparsed(ValueError):
    """The file does not parse completely as the image its first bytes claim."""


@dataclass
class Parsed:
    """One image: what decoding needs, the segments or chunks left out, and where the image ends."""

    kept: list[bytes] = field(default_factory=list)
    dropped: list[tuple[str, bytes]] = field(default_factory=list)
    end: int = 0
    head: bytes = b""


def _entropy_end(data: bytes, at: int) -> int:
    """The offset of the first marker after entropy-coded data (stuffed 0xFF00 and RSTn are data)."""
    while True:
        at = data.find(b"\xff", at)
        if at < 0 or at + 1 >= len(data):
            raise Unparsed("the image data has no end")
        if data[at + 1] != 0 and data[at + 1] not in RESTARTS:
            return at
        at += 2


def orientation(payload: bytes) -> int:
    """The turn (2 to 8) an APP1 EXIF payload's IFD0 asks for, or 0 unless exactly one whole SHORT entry does."""
    tiff = payload[6:]
    order = TIFF_ORDER.get(tiff[:4])
    if order is None or len(tiff) < 8:
        return 0

    def number(at: int, size: int) -> int:
        return int.from_bytes(tiff[at:at + size], order)

    start = number(4, 4) + 2
    end = start + 12 * number(start - 2, 2)
    if start < 10 or start > len(tiff) or end > len(tiff):
        return 0
    found = [at for at in range(start, end, 12) if number(at, 2) == ORIENTATION]
    if len(found) != 1 or number(found[0] + 2, 2) != 3 or number(found[0] + 4, 4) != 1:
        return 0
    value = number(found[0] + 8, 2)
    return value if 2 <= value <= 8 else 0


def parse_jpeg(data: bytes, start: int = 0) -> Parsed:
    """The JPEG starting at `start`, up to and including its end marker."""
    if data[start:start + 2] != b"\xff\xd8":
        raise Unparsed("not a JPEG")
    out = Parsed()
    frame, scans, jfif, adobe, turn = False, 0, False, None, None
    at = start + 2
    while True:
        if at + 2 > len(data) or data[at] != 0xFF:
            raise Unparsed("a segment does not start with a marker")
        while data[at + 1] == 0xFF and at + 2 < len(data):
            at += 1
        marker = data[at + 1]
        if marker == 0xD9:
            break
        if marker < 0xC0 or 0xD0 <= marker <= 0xD8 or at + 4 > len(data):
            raise Unparsed("unexpected marker or truncated segment")
        end = at + 2 + int.from_bytes(data[at + 2:at + 4], "big")
        if end < at + 4 or end > len(data):
            raise Unparsed("truncated segment")
        segment = data[at:end]
        if marker in JPEG_FRAMES:
            if frame:
                raise Unparsed("two frames")
            frame = True
            out.kept.append(segment)
        elif marker in JPEG_TABLES:
            out.kept.append(segment)
        elif marker == 0xDA:
            if not frame:
                raise Unparsed("a scan before the frame")
            stop = _entropy_end(data, end)
            out.kept.append(data[at:stop])
            scans += 1
            at = stop
            continue
        else:
            name = "COM" if marker == 0xFE else f"APP{marker - 0xE0}" if marker >= 0xE0 else f"marker {marker:02X}"
            out.dropped.append((name, segment[4:]))
            jfif = jfif or (marker == 0xE0 and segment[4:9] == b"JFIF\x00")
            if marker == 0xE1 and turn is None and not scans and segment[4:10] == b"Exif\x00\x00":
                turn = orientation(segment[4:])  # the first EXIF before the image data, as decoders read it
            if marker == 0xEE and len(segment) >= 16 and segment[4:9] == b"Adobe":
                adobe = segment[15]
        at = end
    if not frame or not scans:
        raise Unparsed("no image data")
    out.end = at + 2
    out.head = ADOBE + bytes([adobe]) if adobe is not None else JFIF if jfif else b""
    out.head += EXIF_ORIENTATION + bytes([turn, 0, 0, 0, 0, 0, 0]) if turn else b""
    return out


def parse_png(data: bytes) -> Parsed:
    """The PNG up to and including IEND, every chunk's CRC checked."""
    if not data.startswith(PNG_SIGNATURE):
        raise Unparsed("not a PNG")
    out = Parsed(kept=[PNG_SIGNATURE])
    at, first, idat = 8, True, False
    while True:
        if at + 12 > len(data):
            raise Unparsed("truncated chunk")
        length = int.from_bytes(data[at:at + 4], "big")
        kind, end = data[at + 4:at + 8], at + 12 + length
        if not kind.isalpha() or end > len(data):
            raise Unparsed("damaged chunk")
        if zlib.crc32(data[at + 4:end - 4]) != int.from_bytes(data[end - 4:end], "big"):
            raise Unparsed(f"chunk {kind.decode()} fails its CRC")
        if first != (kind == b"IHDR"):
            raise Unparsed("IHDR is not first")
        if kind in PNG_KEEP:
            out.kept.append(data[at:end])
        elif kind[:1].isupper():
            raise Unparsed(f"unknown critical chunk {kind.decode()}")
        else:
            out.dropped.append((kind.decode(), data[at + 8:end - 4]))
        first, idat, at = False, idat or kind == b"IDAT", end
        if kind == b"IEND":
            break
    if not idat:
        raise Unparsed("no image data")
    out.end = at
    return out


def parse_webp(data: bytes) -> Parsed:
    """A still WebP: its bitstream (VP8 or VP8L) and alpha (ALPH) kept, a fresh VP8X when there is alpha."""
    size = int.from_bytes(data[4:8], "little") + 8
    if data[:4] != b"RIFF" or data[8:12] != b"WEBP" or size > len(data) or size % 2:
        raise Unparsed("not a whole WebP")
    out, chunks, at = Parsed(end=size), {}, 12
    while at < size:
        kind, length = data[at:at + 4], int.from_bytes(data[at + 4:at + 8], "little")
        end = at + 8 + length
        if at + 8 > size or end > size:
            raise Unparsed("truncated chunk")
        if kind in chunks or kind in (b"ANIM", b"ANMF"):
            raise Unparsed("an animated WebP, or a chunk twice")
        chunks[kind] = data[at:end + length % 2]
        if kind not in (b"VP8 ", b"VP8L", b"ALPH", b"VP8X"):
            out.dropped.append((kind.decode("latin-1"), data[at + 8:end]))
        at = end + length % 2
    image = [chunks[k] for k in (b"VP8 ", b"VP8L") if k in chunks]
    if len(image) != 1 or (b"ALPH" in chunks and (b"VP8 " not in chunks or b"VP8X" not in chunks)):
        raise Unparsed("no single image bitstream")
    if b"ALPH" in chunks:
        vp8x = chunks[b"VP8X"]
        if len(vp8x) != 18:
            raise Unparsed("damaged VP8X chunk")
        out.kept = [b"VP8X\x0a\x00\x00\x00\x10\x00\x00\x00" + vp8x[12:18], chunks[b"ALPH"], image[0]]
    else:
        out.kept = image
    return out


def rebuild(data: bytes, kind: str) -> bytes:
    """A new file of the primary image's structure only, or Unparsed."""
    if kind == "image/webp":
        body = b"WEBP" + b"".join(parse_webp(data).kept)
        return b"RIFF" + len(body).to_bytes(4, "little") + body
    if kind == "image/jpeg":
        parsed = parse_jpeg(data)
        return b"\xff\xd8" + parsed.head + b"".join(parsed.kept) + b"\xff\xd9"
    if kind == "image/png":
        return b"".join(parse_png(data).kept)
    raise Unparsed(f"no rebuilding for {kind}")


def appended_jpegs(data: bytes, start: int) -> list[Parsed]:
    """Every complete JPEG found after `start` (appended images, MPF frames), each with its offset in `end`."""
    found = []
    at, tries = data.find(b"\xff\xd8\xff", start), 0
    while at >= 0 and tries < MAX_TRIES:
        tries += 1
        try:
            found.append(parse_jpeg(data, at))
            at = data.find(b"\xff\xd8\xff", found[-1].end)
        except Unparsed:
            at = data.find(b"\xff\xd8\xff", at + 1)
    return found
