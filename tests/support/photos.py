"""Phone-shaped photos built in the test: EXIF with GPS and a thumbnail, an appended MPF image with its own GPS,
a motion-photo MP4 after the end, a PNG with text, EXIF and a trailer; and two decoding bombs.

Every identifying value is a canary string, so that a test can look for it in any bytes.
"""

from __future__ import annotations

import io
import struct
import warnings
import zlib

from PIL import Image

CANARIES = [b"CanaryMaker", b"CanaryCam X-77", b"canary-gps-7f3e", b"canary-thumb-c0de", b"canary-xmp-51aa",
            b"canary-com-0b1e", b"CanarySecond Pixel", b"canary-gps2-91c4", b"canary-mp4-e4f2", b"canary-png-text",
            b"canary-png-itxt", b"CanaryPngCam", b"canary-png-tail", b"canary-soft-2b7d", b"canary-artist-6c1a",
            b"canary-note-93fd"]
# Traces of the structures themselves, whatever their values.
STRUCTURES = [b"Exif\x00\x00", b"MPF\x00", b"ftyp", b"http://ns.adobe.com/xap", b"tEXt", b"iTXt", b"eXIf", b"EXIF",
              b"XMP "]
STRUCTURES_BUT_EXIF = STRUCTURES[1:]  # what a cleaned photo never carries, even when turned by its EXIF orientation
UNITS = {2: 1, 3: 2, 4: 4, 5: 8, 7: 1}


def exif(make: bytes, model: bytes, gps_text: bytes, thumbnail: bytes | None = None,
         more: tuple[tuple[int, int, bytes], ...] = ()) -> bytes:
    """An APP1 EXIF payload: make, model, `more` (tag, type, value) entries, a GPS block with a position and a
    text in IFD0, maybe a thumbnail in IFD 1."""
    def rational(*values: float) -> bytes:
        return b"".join(struct.pack("<II", round(v * 10000), 10000) for v in values)

    gps = [(1, 2, b"N\x00"), (2, 5, rational(11, 33, 25.2)), (3, 2, b"E\x00"), (4, 5, rational(104, 55, 1.5)),
           (0x1B, 7, b"ASCII\x00\x00\x00" + gps_text)]
    ifd1 = [(0x0201, 4, b""), (0x0202, 4, struct.pack("<I", len(thumbnail)))] if thumbnail else []
    sizes = [2 + 12 * (3 + len(more)) + 4, 2 + 12 * len(gps) + 4, 2 + 12 * len(ifd1) + 4 if ifd1 else 0]
    gps_at, ifd1_at = 8 + sizes[0], 8 + sizes[0] + sizes[1]
    area_at, area = ifd1_at + sizes[2], bytearray()

    def place(value: bytes) -> int:
        area.extend(value)
        return area_at + len(area) - len(value)

    if thumbnail:
        ifd1[0] = (0x0201, 4, struct.pack("<I", place(thumbnail)))

    def ifd(entries: list[tuple[int, int, bytes]], next_at: int) -> bytes:
        out = struct.pack("<H", len(entries))
        for tag, kind, value in entries:
            field = value.ljust(4, b"\x00") if len(value) <= 4 else struct.pack("<I", place(value))
            out += struct.pack("<HHI", tag, kind, len(value) // UNITS[kind]) + field
        return out + struct.pack("<I", next_at)

    ifd0 = [(0x010F, 2, make + b"\x00"), (0x0110, 2, model + b"\x00"), *more, (0x8825, 4, struct.pack("<I", gps_at))]
    body = ifd(ifd0, ifd1_at if ifd1 else 0) + ifd(gps, 0) + (ifd(ifd1, 0) if ifd1 else b"")
    return b"Exif\x00\x00II*\x00" + struct.pack("<I", 8) + body + bytes(area)


def segment(marker: int, payload: bytes) -> bytes:
    """A JPEG marker segment."""
    return bytes([0xFF, marker]) + struct.pack(">H", len(payload) + 2) + payload


def plain_jpeg(size: tuple[int, int], seed: int, **options: object) -> bytes:
    """A JPEG of a pattern (so that pixels can be compared), with only Pillow's JFIF header."""
    img = Image.radial_gradient("L").resize(size).convert("RGB")
    bands = [band.point(lambda v, s=seed + i: (v * (s + 3)) % 256) for i, band in enumerate(img.split())]
    img = Image.merge("RGB", bands)
    out = io.BytesIO()
    img.save(out, "JPEG", quality=90, **options)
    return out.getvalue()


def with_segments(jpeg: bytes, *segments: bytes) -> bytes:
    """`jpeg` with `segments` right after its start marker, as a phone writes them."""
    return jpeg[:2] + b"".join(segments) + jpeg[2:]


def thumbnail_photo() -> bytes:
    """A progressive JPEG with EXIF (make, model, GPS) holding a thumbnail, XMP and a comment."""
    thumb = with_segments(plain_jpeg((32, 24), 7), segment(0xFE, b"canary-thumb-c0de"))
    xmp = b"http://ns.adobe.com/xap/1.0/\x00<x:xmpmeta>canary-xmp-51aa</x:xmpmeta>"
    return with_segments(plain_jpeg((320, 240), 1, progressive=True),
                         segment(0xE1, exif(b"CanaryMaker", b"CanaryCam X-77", b"canary-gps-7f3e", thumb)),
                         segment(0xE1, xmp), segment(0xFE, b"canary-com-0b1e"))


def portrait_photo() -> bytes:
    """A phone's portrait photo: pixels stored 320 x 240 with EXIF orientation 6 (turn a quarter clockwise) among
    camera, software, artist, maker-note and GPS tags and a thumbnail; XMP and a comment."""
    thumb = with_segments(plain_jpeg((32, 24), 8), segment(0xFE, b"canary-thumb-c0de"))
    more = ((0x0112, 3, struct.pack("<H", 6)), (0x0131, 2, b"canary-soft-2b7d\x00"),
            (0x013B, 2, b"canary-artist-6c1a\x00"), (0x927C, 7, b"canary-note-93fd" + bytes(16)))
    xmp = b"http://ns.adobe.com/xap/1.0/\x00<x:xmpmeta>canary-xmp-51aa</x:xmpmeta>"
    return with_segments(plain_jpeg((320, 240), 6), segment(0xE1, xmp),
                         segment(0xE1, exif(b"CanaryMaker", b"CanaryCam X-77", b"canary-gps-7f3e", thumb, more)),
                         segment(0xFE, b"canary-com-0b1e"))


def only_orientation(data: bytes) -> int | None:
    """The orientation of a cleaned JPEG, checked to be its one EXIF entry in its one EXIF segment (None: no EXIF)."""
    from PIL import ExifTags, ImageOps

    if b"Exif\x00\x00" not in data:
        return None
    assert data.count(b"Exif\x00\x00") == 1
    with Image.open(io.BytesIO(data)) as img:
        exif = img.getexif()
        assert dict(exif) == {0x0112: exif[0x0112]}
        assert [exif.get_ifd(ifd) for ifd in ExifTags.IFD] == [{}] * len(ExifTags.IFD)
        turned = ImageOps.exif_transpose(img).size
    assert turned == (img.size[::-1] if exif[0x0112] > 4 else img.size)
    return exif[0x0112]


def _ifd0(entries: list[tuple[int, int, int, bytes]], order: str = "<", count: int | None = None,
          cut: int = 0) -> bytes:
    """An APP1 EXIF segment whose IFD0 holds (tag, type, count, value) `entries` as given: its count may lie, and
    `cut` bytes may be missing from its end."""
    tiff = (b"II*\x00" if order == "<" else b"MM\x00*") + struct.pack(order + "IH", 8, len(entries) if count is None
                                                                     else count)
    tiff += b"".join(struct.pack(order + "HHI", *e[:3]) + e[3].ljust(4, b"\x00") for e in entries)
    tiff += struct.pack(order + "I", 0)
    return segment(0xE1, b"Exif\x00\x00" + tiff[:len(tiff) - cut])


def orientation_cases() -> list[tuple[str, bytes, int | None]]:
    """(what, JPEG, the orientation a cleaned copy keeps) for odd and hostile EXIF orientation tags."""
    def turn(value: int, order: str = "<", kind: int = 3, count: int = 1) -> tuple[int, int, int, bytes]:
        return 0x0112, kind, count, struct.pack(order + ("H" if kind == 3 else "I"), value)

    name = (0x010F, 2, 4, b"abc\x00")
    base = plain_jpeg((48, 32), 9)
    scan_end = len(base) - 2
    cases = [("6", [_ifd0([turn(6)])], 6), ("8, big-endian", [_ifd0([turn(8, ">")], ">")], 8),
             ("3 after another tag", [_ifd0([name, turn(3)])], 3), ("1 is upright", [_ifd0([turn(1)])], None),
             *((f"{v}", [_ifd0([turn(v)])], None) for v in (0, 9, 65535)),
             ("a LONG", [_ifd0([turn(6, kind=4)])], None), ("count 2", [_ifd0([turn(6, count=2)])], None),
             ("two tags", [_ifd0([turn(6), turn(8)])], None), ("the same twice", [_ifd0([turn(6), turn(6)])], None),
             ("count 65535", [_ifd0([turn(6)], count=65535)], None), ("cut", [_ifd0([name, turn(6)], cut=10)], None),
             ("no TIFF", [segment(0xE1, b"Exif\x00\x00")], None),
             ("IFD past the end", [segment(0xE1, b"Exif\x00\x00II*\x00\xff\xff\x00\x00")], None),
             ("IFD in the header", [segment(0xE1, b"Exif\x00\x00II*\x00\x00\x00\x00\x00" + bytes(16))], None),
             ("a first EXIF without it", [_ifd0([name]), _ifd0([turn(6)])], None),
             ("XMP first", [segment(0xE1, b"http://ns.adobe.com/xap/1.0/\x00x"), _ifd0([turn(5)])], 5)]
    built = [(what, with_segments(base, *segments), value) for what, segments, value in cases]
    return [*built, ("after the scan", base[:scan_end] + _ifd0([turn(6)]) + base[scan_end:], None)]


def mpf_photo() -> bytes:
    """A portrait-mode JPEG: an MPF index, then a second image appended with its own EXIF GPS and camera."""
    second = with_segments(plain_jpeg((160, 120), 5),
                           segment(0xE1, exif(b"CanaryMaker", b"CanarySecond Pixel", b"canary-gps2-91c4")))
    primary = with_segments(plain_jpeg((320, 240), 2), segment(0xE2, b"MPF\x00II*\x00\x08\x00\x00\x00" + bytes(40)))
    return primary + second


def motion_photo() -> bytes:
    """A motion photo: the JPEG, then an MP4 whose metadata names a place and the camera."""
    mp4 = (b"\x00\x00\x00\x18ftypmp42\x00\x00\x00\x00mp42isom" + b"\x00\x00\x00\x40moov\x00\x00\x00\x38udta"
           + b"\x00\x00\x00\x30\xa9xyz+11.5564+104.9282/canary-mp4-e4f2" + bytes(4096))
    return plain_jpeg((320, 240), 3) + mp4


def webp_photo() -> bytes:
    """A lossy WebP with alpha (VP8X, ALPH, VP8), EXIF with GPS and camera, XMP, and bytes after its end."""
    img = Image.radial_gradient("L").resize((96, 64)).convert("RGBA")
    img.putalpha(Image.linear_gradient("L").resize((96, 64)))
    out = io.BytesIO()
    img.save(out, "WEBP", quality=80, exif=exif(b"CanaryMaker", b"CanaryCam X-77", b"canary-gps-7f3e"),
             xmp=b"<x:xmpmeta>canary-xmp-51aa</x:xmpmeta>")
    return out.getvalue() + b"canary-com-0b1e"


def _chunk(kind: bytes, payload: bytes) -> bytes:
    return struct.pack(">I", len(payload)) + kind + payload + struct.pack(">I", zlib.crc32(kind + payload))


def text_png() -> bytes:
    """A PNG with tEXt, iTXt and eXIf chunks before its image data, and bytes after IEND."""
    out = io.BytesIO()
    Image.new("RGBA", (40, 30), (0, 90, 200, 128)).save(out, "PNG")
    data = out.getvalue()
    extra = (_chunk(b"tEXt", b"Location\x00canary-png-text")
             + _chunk(b"iTXt", b"Author\x00\x00\x00\x00\x00canary-png-itxt")
             + _chunk(b"eXIf", exif(b"CanaryMaker", b"CanaryPngCam", b"canary-gps-7f3e")[6:]))
    return data[:33] + extra + data[33:] + b"canary-png-tail" + bytes(100)


def truncated_jpeg() -> bytes:
    """A JPEG cut in the middle of its image data: it cannot be cleaned."""
    data = plain_jpeg((320, 240), 4)
    return data[:len(data) * 2 // 3]


def scan_bomb(scans: int = 5000) -> bytes:
    """A small progressive JPEG whose shortest scan is repeated `scans` times: each one walks every block."""
    from intake.review.rebuild import parse_jpeg

    out = io.BytesIO()
    Image.new("L", (4096, 4096), 0).save(out, "JPEG", progressive=True, quality=50)
    data = out.getvalue()
    shortest = min((s for s in parse_jpeg(data).kept if s.startswith(b"\xff\xda")), key=len)
    return data[:-2] + shortest * scans + b"\xff\xd9"


def pixel_bomb() -> bytes:
    """A PNG of 20,000 x 20,000 one-bit pixels in a few kilobytes: past Pillow's decompression-bomb limit."""
    row = b"\x00" + bytes(2500)
    body = zlib.compress(row * 20000, 9)
    ihdr = struct.pack(">IIBBBBB", 20000, 20000, 1, 0, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + _chunk(b"IHDR", ihdr) + _chunk(b"IDAT", body) + _chunk(b"IEND", b"")


def memory_bomb(side: int = 8000) -> bytes:
    """A PNG of `side` x `side` RGB pixels (192 MB decoded) in about 200 KB: under Pillow's pixel limit."""
    packer = zlib.compressobj(9)
    row = bytes(1 + 3 * side)
    body = b"".join(packer.compress(row) for _ in range(side)) + packer.flush()
    ihdr = struct.pack(">IIBBBBB", side, side, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + _chunk(b"IHDR", ihdr) + _chunk(b"IDAT", body) + _chunk(b"IEND", b"")


def pixels(data: bytes) -> tuple[tuple[int, int], bytes]:
    """The size and decoded pixels of an image (the test's MPF index is a stub, which Pillow warns about)."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", "Image appears to be a malformed MPO file")
        with Image.open(io.BytesIO(data)) as img:
            return img.size, img.convert("RGBA").tobytes()


C2PA_UUID = bytes.fromhex("6332706100110010800000aa00389b71")


def jumbf(label: bytes, content: bytes, declared: int | None = None) -> bytes:
    """A JUMBF superbox (ISO/IEC 19566-5): a description box with `label`, then a JSON content box; `declared` makes
    its size lie."""
    jumd = C2PA_UUID + b"\x03" + label + b"\x00"
    inner = struct.pack(">I4s", 8 + len(jumd), b"jumd") + jumd
    inner += struct.pack(">I4s", 8 + len(content), b"json") + content
    return struct.pack(">I4s", declared if declared is not None else 8 + len(inner), b"jumb") + inner


def app11(box: bytes, packets: int = 1, instance: int = 1) -> bytes:
    """APP11 "JP" segments carrying `box` in `packets` pieces (each later piece repeats the box header)."""
    head, rest = box[:8], box[8:]
    cut = -(-len(rest) // packets)
    pieces = [rest[i:i + cut] for i in range(0, len(rest), cut)] or [b""]
    return b"".join(segment(0xEB, b"JP" + struct.pack(">HI", instance, n + 1) + head + piece)
                    for n, piece in enumerate(pieces))


def c2pa_photo(declared: int | None = None, packets: int = 2) -> bytes:
    """A phone JPEG with EXIF (camera, GPS) and a C2PA manifest store in APP11, as a C2PA camera app writes it."""
    manifest = b'{"claim_generator":"CanaryProof/1.0","assertions":["c2pa.actions"],"note":"canary-c2pa-5e1f"}'
    return with_segments(plain_jpeg((320, 240), 4),
                         segment(0xE1, exif(b"CanaryMaker", b"CanaryCam X-77", b"canary-gps-7f3e")),
                         app11(jumbf(b"c2pa", manifest, declared), packets))


ESCAPES = b"\x1b]0;owned\x07\x1b[2J\x1b[31m"  # set the window title, clear the screen, turn the text red


def terminal_hostile() -> list[tuple[str, bytes]]:
    """(type, bytes) of photos made of terminal escapes (JPEG, PNG and WebP heads), a pixel bomb and a cut JPEG:
    what a helper that decodes strangers' photos must answer without a word to the reviewer's terminal."""
    return [("image/jpeg", b"\xff\xd8\xff\xe0" + ESCAPES * 200), ("image/png", b"\x89PNG\r\n\x1a\n" + ESCAPES * 50),
            ("image/webp", b"RIFF\x10\x00\x00\x00WEBPVP8 " + ESCAPES * 50), ("image/png", pixel_bomb()),
            ("image/jpeg", truncated_jpeg())]
