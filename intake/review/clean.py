"""Removing metadata from exported copies (JPEG, PNG and WebP rebuilt from their structure, PDF with pypdf), and
the digest's previews: new small JPEGs drawn from a photo's pixels."""

from __future__ import annotations

import io
import logging
import warnings
from collections.abc import Callable
from typing import TypeVar

from intake.review.rebuild import Unparsed, rebuild

CLEANABLE = ("image/jpeg", "image/png", "image/webp", "application/pdf")
MAX_CLEAN = 256 << 20
PREVIEWABLE = {"image/jpeg": "JPEG", "image/png": "PNG", "image/webp": "WEBP"}
PREVIEW_SIDE = 320
T = TypeVar("T")


class CannotClean(Exception):
    """This file was exported as it is, with whatever metadata it carries."""


class TooCostly(CannotClean):
    """Decoding this file needs more memory or time than one attachment may take."""


def check_cleanable(kind: str | None, size: int) -> None:
    """Raise CannotClean when `kind` has no cleaner or the file is too large to clean in memory."""
    if kind not in CLEANABLE:
        raise CannotClean(f"no cleaner for {kind or 'this type'}: it may still carry GPS, camera or author data")
    if size > MAX_CLEAN:
        raise CannotClean(f"larger than {MAX_CLEAN >> 20} MiB: too large to clean in memory")


def clean(data: bytes, kind: str | None) -> bytes:
    """A copy of `data` without metadata, or CannotClean saying why (TooCostly for a decompression bomb)."""
    check_cleanable(kind, len(data))
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            return _pdf(data) if kind == "application/pdf" else _image(data, str(kind))
    except CannotClean:
        raise
    except MemoryError:
        raise TooCostly("could not be cleaned: too costly (decoding it needs more memory than allowed)") from None
    except Exception as exc:  # noqa: BLE001 - a hostile file must never stop the export
        if type(exc).__name__.startswith("DecompressionBomb"):
            raise TooCostly("could not be cleaned: too costly (a decompression bomb)") from None
        raise CannotClean(f"could not be parsed ({type(exc).__name__}): kept as it is, treat it as hostile") from exc


def thumbnail(data: bytes, kind: str | None) -> bytes:
    """A new small JPEG drawn from the decoded pixels of `data` (never its bytes), or CannotClean saying why."""
    if kind not in PREVIEWABLE:
        raise CannotClean(f"no preview for {kind or 'this type'}")
    return decoded(lambda: _thumbnail(data, PREVIEWABLE[kind]), "no preview")


def decoded(decode: Callable[[], T], failed: str) -> T:
    """`decode()` of a stranger's photo with only a decompression bomb's warning raised; any failure is CannotClean
    (TooCostly for a bomb or too little memory) saying `failed` and why, never a stopped run."""
    from PIL import Image

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # a quirk a viewer would forgive; only a bomb's warning stops it
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            return decode()
    except MemoryError:
        raise TooCostly(f"{failed}: decoding it needs more memory than allowed") from None
    except Exception as exc:  # noqa: BLE001 - a hostile photo is one CannotClean, never a stopped digest or publish
        if type(exc).__name__.startswith("DecompressionBomb"):
            raise TooCostly(f"{failed}: a decompression bomb") from None
        raise CannotClean(f"{failed}: it could not be read ({type(exc).__name__})") from None


def _thumbnail(data: bytes, fmt: str) -> bytes:
    from PIL import Image, ImageOps

    with Image.open(io.BytesIO(data), formats=[fmt]) as img:
        img.draft("RGB", (PREVIEW_SIDE, PREVIEW_SIDE))  # a JPEG decodes at 1/2 to 1/8 of its size
        img.thumbnail((PREVIEW_SIDE, PREVIEW_SIDE))
        small = ImageOps.exif_transpose(img)
    if small.mode in ("RGBA", "LA", "P", "PA"):
        small = small.convert("RGBA")
        flat = Image.new("RGB", small.size, (255, 255, 255))
        flat.paste(small, mask=small.getchannel("A"))
        small = flat
    out = io.BytesIO()
    small.convert("RGB").save(out, "JPEG", quality=70)  # no EXIF, ICC, XMP or comment: only these pixels
    return out.getvalue()


def _image(data: bytes, kind: str) -> bytes:
    """The rebuilt image, decoded once in full to prove it is whole (and to meet the limits now, not in a viewer)."""
    from PIL import Image

    try:
        rebuilt = rebuild(data, kind)
    except Unparsed as exc:
        raise CannotClean(f"could not be parsed ({exc}): kept as it is, treat it as hostile") from None
    with Image.open(io.BytesIO(rebuilt)) as img:
        img.load()
    return rebuilt


def _pdf(data: bytes) -> bytes:
    from pypdf import PdfReader, PdfWriter
    from pypdf.generic import NameObject

    logging.getLogger("pypdf").setLevel(logging.ERROR)
    reader = PdfReader(io.BytesIO(data))
    if reader.is_encrypted:
        raise CannotClean("an encrypted PDF: kept as it is, it may still carry metadata")
    writer = PdfWriter(clone_from=reader)
    writer.metadata = None
    for holder in (writer.root_object, *writer.pages):
        for key in ("/Metadata", "/PieceInfo"):
            holder.pop(NameObject(key), None)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()
