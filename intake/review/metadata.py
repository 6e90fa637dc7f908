"""What identifying metadata a decrypted file still carries, in the whole file: JPEG and PNG segment by segment."""

from __future__ import annotations

import io
import logging
import warnings
import zlib
from typing import TYPE_CHECKING, BinaryIO

from intake.review.rebuild import Parsed, Unparsed, appended_jpegs, parse_jpeg, parse_png, parse_webp
from intake.text.counts import count

if TYPE_CHECKING:
    from PIL.Image import Exif

MAX_VALUE = 120
MAX_TEXT = 4096
MAX_ITEMS = 40
ORIENTATION = 0x0112
XMP = b"http://ns.adobe.com/xap/1.0/"
MAGIC = ((b"\xff\xd8\xff", "image/jpeg"), (b"\x89PNG\r\n\x1a\n", "image/png"), (b"%PDF-", "application/pdf"),
         (b"GIF87a", "image/gif"), (b"GIF89a", "image/gif"))
# EXIF tags (Pillow's ExifTags numbers) that identify a device, a person or a moment.
IFD0_TAGS = {0x010F: "camera make", 0x0110: "camera model", 0x013B: "artist", 0x8298: "copyright",
             0x0131: "software", 0x0132: "date", 0x010E: "description", 0x9C9D: "author"}
EXIF_TAGS = {0x9003: "taken", 0xA431: "camera serial", 0xA435: "lens serial", 0xA430: "camera owner"}
READERS = ("application/pdf", "image/jpeg", "image/png", "image/webp")
PDF_KEYS = {"/Author": "author", "/Creator": "creator", "/Producer": "producer", "/Title": "title",
            "/Subject": "subject", "/Keywords": "keywords", "/CreationDate": "created", "/ModDate": "modified"}


# ISO base media files (MP4, MOV, 3GP): "ftyp" at byte 4, then the major brand (ISO/IEC 14496-12 §4.3).
BRANDS = {b"qt  ": "video/quicktime", b"M4V ": "video/x-m4v", b"M4VH": "video/x-m4v", b"M4VP": "video/x-m4v",
          b"M4A ": "audio/mp4", b"M4B ": "audio/mp4", b"3g2a": "video/3gpp2", b"3g2b": "video/3gpp2",
          b"3g2c": "video/3gpp2"}
RIFF = {b"WEBP": "image/webp", b"AVI ": "video/x-msvideo", b"WAVE": "audio/wav"}


def sniff(head: bytes) -> str | None:
    """The media type the first bytes of a file show (never the reporter's claimed type)."""
    if head[:4] == b"RIFF" and head[8:12] in RIFF:
        return RIFF[head[8:12]]
    if head[4:8] == b"ftyp" and len(head) >= 12:
        brand = head[8:12]
        return BRANDS.get(brand) or ("video/3gpp" if brand.startswith(b"3gp") else "video/mp4")
    if head.startswith(b"\x1a\x45\xdf\xa3"):
        return "video/webm"  # Matroska or WebM: the EBML header
    return next((kind for magic, kind in MAGIC if head.startswith(magic)), None)


def has_reader(kind: str | None) -> bool:
    """Whether `describe` reads this type's metadata (images and PDF; not video or audio)."""
    return kind in READERS or (kind or "").startswith("image/")


def describe(data: bytes, kind: str | None) -> dict[str, str]:
    """The metadata the whole file carries, as label -> short value (at most MAX_ITEMS); failures are reported."""
    readers = {"application/pdf": lambda: _pdf(io.BytesIO(data)), "image/jpeg": lambda: _jpeg(data),
               "image/png": lambda: _png(data), "image/webp": lambda: _webp(data)}
    if not has_reader(kind):
        return {}
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            found = readers.get(str(kind), lambda: _image(data))()
    except Exception as exc:  # noqa: BLE001 - a hostile file must never stop the review
        return {"unreadable": f"{type(exc).__name__}: could not be parsed, treat it as hostile"}
    if len(found) > MAX_ITEMS:
        found = dict(list(found.items())[:MAX_ITEMS]) | {"more": f"{len(found) - MAX_ITEMS} other items"}
    return found


def _short(value: object) -> str:
    """At most MAX_VALUE characters of valid Unicode (a lone surrogate is written out as an escape)."""
    if isinstance(value, bytes):
        value = value.decode("utf-8", "replace").rstrip("\x00")
    text = str(value).encode("utf-8", "backslashreplace").decode().strip()
    return text if len(text) <= MAX_VALUE else text[:MAX_VALUE] + "…"


def _degrees(parts: object, ref: object) -> str:
    d, m, s = (float(x) for x in parts)  # type: ignore[union-attr]
    return f"{d + m / 60 + s / 3600:.6f} {_short(ref)}".strip()


def _exif(exif: Exif, prefix: str = "") -> dict[str, str]:
    """GPS, device, person and time tags of an EXIF block; its thumbnail; a count of anything else."""
    from PIL import ExifTags

    found: dict[str, str] = {}
    gps = exif.get_ifd(ExifTags.IFD.GPSInfo)
    if gps:
        try:
            found["gps"] = f"{_degrees(gps[2], gps.get(1, ''))}, {_degrees(gps[4], gps.get(3, ''))}"
        except (KeyError, TypeError, ValueError, ZeroDivisionError):
            found["gps"] = "gps data present"
    found.update({label: _short(exif[tag]) for tag, label in IFD0_TAGS.items() if exif.get(tag)})
    sub = exif.get_ifd(ExifTags.IFD.Exif)
    found.update({label: _short(sub[tag]) for tag, label in EXIF_TAGS.items() if sub.get(tag)})
    if exif.get_ifd(ExifTags.IFD.IFD1):
        found["thumbnail"] = "a small copy of the photo, maybe taken before editing"
    others = [tag for tag in exif if tag != ORIENTATION]  # cleaning keeps the orientation: it names no one
    if others and not found:
        found["exif"] = count(len(others), "tag")
    return {prefix + k: v for k, v in found.items()}


def _exif_bytes(payload: bytes, prefix: str) -> dict[str, str]:
    from PIL import Image

    exif = Image.Exif()
    exif.load(payload)
    return _exif(exif, prefix)


def _segments(parsed: Parsed, prefix: str, thumbnails: bool = True) -> dict[str, str]:
    """What the left-out segments of one JPEG carry, and those of the thumbnails in its EXIF (one level)."""
    found: dict[str, str] = {}
    for name, payload in parsed.dropped:
        if name == "APP1" and payload.startswith(b"Exif\x00\x00"):
            found.update(_exif_bytes(payload, prefix))
            for thumb in appended_jpegs(payload, 0) if thumbnails else []:
                found.update(_segments(thumb, prefix + "thumbnail ", thumbnails=False))
        elif name == "APP1" and payload.startswith(XMP):
            found[prefix + "xmp"] = "present"
        elif name == "APP2" and payload.startswith(b"MPF\x00"):
            found[prefix + "mpf"] = "a list of more images in this file"
        elif name == "APP2" and payload.startswith(b"ICC_PROFILE"):
            found[prefix + "icc profile"] = "present"
        elif name == "APP13":
            found[prefix + "iptc"] = "present"
        elif name == "COM":
            found[prefix + "comment"] = _short(payload)
        elif name not in ("APP0", "APP14"):
            found.setdefault(prefix + name.lower(), f"{len(payload)} bytes")
    return found


def _trailing(data: bytes, end: int) -> dict[str, str]:
    extra = len(data) - end
    return {"after the image": f"{extra} bytes (another image, video or hidden data)"} if extra else {}


def _partly(data: bytes, exc: Unparsed) -> dict[str, str]:
    """What Pillow can still read of a file that does not parse completely, and that it does not."""
    try:
        found = _image(data)
    except Exception:  # noqa: BLE001 - the file is reported as unreadable either way
        found = {}
    return found | {"unreadable": f"{exc}: does not parse completely, treat it as hostile"}


def _jpeg(data: bytes) -> dict[str, str]:
    try:
        primary = parse_jpeg(data)
    except Unparsed as exc:
        return _partly(data, exc)
    found = _segments(primary, "")
    for n, image in enumerate(appended_jpegs(data, primary.end), start=2):
        found[f"image {n}"] = "appended after the photo"
        found.update(_segments(image, f"image {n} "))
    return found | _trailing(data, primary.end)


def _png(data: bytes) -> dict[str, str]:
    from PIL import Image

    try:
        parsed = parse_png(data)
    except Unparsed as exc:
        return _partly(data, exc)
    found: dict[str, str] = {}
    for name, payload in parsed.dropped:
        if name in ("tEXt", "zTXt", "iTXt"):
            key, _, rest = payload.partition(b"\x00")
            if name == "zTXt":
                rest = zlib.decompressobj().decompress(rest[1:], MAX_TEXT)
            elif name == "iTXt":
                flag, rest = rest[:1], rest[2:].split(b"\x00", 2)[-1]
                rest = zlib.decompressobj().decompress(rest, MAX_TEXT) if flag == b"\x01" else rest
            found.setdefault(f"text {_short(key)}", _short(rest))
        elif name == "eXIf":
            exif = Image.Exif()
            exif.load(b"Exif\x00\x00" + payload)
            found.update(_exif(exif))
        elif name == "iCCP":
            found["icc profile"] = "present"
        elif name == "tIME":
            found["time"] = "present"
        else:
            found.setdefault(f"chunk {name}", f"{len(payload)} bytes")
    return found | _trailing(data, parsed.end)


def _webp(data: bytes) -> dict[str, str]:
    try:
        parsed = parse_webp(data)
    except Unparsed as exc:
        return _partly(data, exc)
    found: dict[str, str] = {}
    for name, payload in parsed.dropped:
        if name == "EXIF":
            found.update(_exif_bytes(payload if payload.startswith(b"Exif") else b"Exif\x00\x00" + payload, ""))
        else:
            found[{"XMP ": "xmp", "ICCP": "icc profile"}.get(name, f"chunk {_short(name)}")] = "present"
    return found | _trailing(data, parsed.end)


def _image(data: bytes) -> dict[str, str]:
    from PIL import Image

    with Image.open(io.BytesIO(data)) as img:
        found = _exif(img.getexif())
        if img.info.get("xmp") or img.info.get("XML:com.adobe.xmp"):
            found["xmp"] = "present"
        if img.info.get("comment"):
            found["comment"] = _short(img.info["comment"])
        if img.info.get("icc_profile"):
            found["icc profile"] = "present"
    return found


def _pdf(f: BinaryIO) -> dict[str, str]:
    from pypdf import PdfReader

    logging.getLogger("pypdf").setLevel(logging.ERROR)
    reader = PdfReader(f)
    if reader.is_encrypted:
        return {"encrypted": "metadata not readable without its password"}
    info = reader.metadata or {}
    found = {label: _short(info[key]) for key, label in PDF_KEYS.items() if info.get(key)}
    if "/Metadata" in reader.trailer["/Root"]:
        found["xmp"] = "present"
    return found
