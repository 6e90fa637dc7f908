"""What identifying metadata a decrypted file still carries, read with Pillow and pypdf."""

from __future__ import annotations

import logging
import warnings
from typing import BinaryIO

MAX_VALUE = 120
MAGIC = ((b"\xff\xd8\xff", "image/jpeg"), (b"\x89PNG\r\n\x1a\n", "image/png"), (b"%PDF-", "application/pdf"),
         (b"GIF87a", "image/gif"), (b"GIF89a", "image/gif"))
# EXIF tags (Pillow's ExifTags numbers) that identify a device, a person or a moment.
IFD0_TAGS = {0x010F: "camera make", 0x0110: "camera model", 0x013B: "artist", 0x8298: "copyright",
             0x0131: "software", 0x0132: "date", 0x010E: "description", 0x9C9D: "author"}
EXIF_TAGS = {0x9003: "taken", 0xA431: "camera serial", 0xA435: "lens serial", 0xA430: "camera owner"}
PDF_KEYS = {"/Author": "author", "/Creator": "creator", "/Producer": "producer", "/Title": "title",
            "/Subject": "subject", "/Keywords": "keywords", "/CreationDate": "created", "/ModDate": "modified"}


def sniff(head: bytes) -> str | None:
    """The media type the first bytes of a file show (never the reporter's claimed type)."""
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "image/webp"
    return next((kind for magic, kind in MAGIC if head.startswith(magic)), None)


def describe(f: BinaryIO, kind: str | None) -> dict[str, str]:
    """The metadata a file carries, as label -> short value; a parse failure is reported, not raised."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            if kind == "application/pdf":
                return _pdf(f)
            if kind and kind.startswith("image/"):
                return _image(f)
    except Exception as exc:  # noqa: BLE001 - a hostile file must never stop the review
        return {"unreadable": f"{type(exc).__name__}: could not be parsed, treat it as hostile"}
    return {}


def _short(value: object) -> str:
    if isinstance(value, bytes):
        value = value.decode("utf-8", "replace").rstrip("\x00")
    text = str(value).strip()
    return text if len(text) <= MAX_VALUE else text[:MAX_VALUE] + "…"


def _degrees(parts: object, ref: object) -> str:
    d, m, s = (float(x) for x in parts)  # type: ignore[union-attr]
    return f"{d + m / 60 + s / 3600:.6f} {_short(ref)}".strip()


def _image(f: BinaryIO) -> dict[str, str]:
    from PIL import ExifTags, Image

    found: dict[str, str] = {}
    with Image.open(f) as img:
        exif = img.getexif()
        gps = exif.get_ifd(ExifTags.IFD.GPSInfo)
        if gps:
            try:
                found["gps"] = f"{_degrees(gps[2], gps.get(1, ''))}, {_degrees(gps[4], gps.get(3, ''))}"
            except (KeyError, TypeError, ValueError, ZeroDivisionError):
                found["gps"] = "gps data present"
        found.update({label: _short(exif[tag]) for tag, label in IFD0_TAGS.items() if exif.get(tag)})
        sub = exif.get_ifd(ExifTags.IFD.Exif)
        found.update({label: _short(sub[tag]) for tag, label in EXIF_TAGS.items() if sub.get(tag)})
        if exif and not found:
            found["exif"] = f"{len(exif)} tags"
        if img.info.get("xmp") or img.info.get("XML:com.adobe.xmp"):
            found["xmp"] = "present"
        if img.info.get("comment"):
            found["comment"] = _short(img.info["comment"])
        text = getattr(img, "text", None) or {}
        for key in text:
            found.setdefault(f"text {_short(key)}", _short(text[key]))
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
