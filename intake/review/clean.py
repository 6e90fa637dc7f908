"""Removing metadata from exported copies: JPEG and PNG with Pillow, PDF with pypdf."""

from __future__ import annotations

import logging
import warnings
from typing import BinaryIO

CLEANABLE = ("image/jpeg", "image/png", "application/pdf")
MAX_CLEAN = 256 << 20
ORIENTATION = 0x0112


class CannotClean(Exception):
    """This file was exported as it is, with whatever metadata it carries."""


def clean(src: BinaryIO, dst: BinaryIO, kind: str | None, size: int) -> None:
    """Write a copy of `src` without metadata to `dst`, or raise CannotClean saying why."""
    if kind not in CLEANABLE:
        raise CannotClean(f"no cleaner for {kind or 'this type'}: it may still carry GPS, camera or author data")
    if size > MAX_CLEAN:
        raise CannotClean(f"larger than {MAX_CLEAN >> 20} MiB: too large to clean in memory")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            (_pdf if kind == "application/pdf" else _image)(src, dst, kind)
    except CannotClean:
        raise
    except Exception as exc:  # noqa: BLE001 - a hostile file must never stop the export
        raise CannotClean(f"could not be parsed ({type(exc).__name__}): kept as it is, treat it as hostile") from exc


def _image(src: BinaryIO, dst: BinaryIO, kind: str) -> None:
    from PIL import Image, ImageOps

    with Image.open(src) as img:
        if getattr(img, "n_frames", 1) > 1 and img.format != "MPO":
            raise CannotClean("an animated image: kept as it is, it may still carry metadata")
        img.load()
        turned = ImageOps.exif_transpose(img) if img.getexif().get(ORIENTATION, 1) != 1 else img
        keep = {"transparency": img.info["transparency"]} if "transparency" in img.info else {}
        turned.info = dict(keep)
        if kind == "image/jpeg":
            quality = "keep" if turned is img else 95
            turned.save(dst, format="JPEG", quality=quality)
        else:
            turned.save(dst, format="PNG")


def _pdf(src: BinaryIO, dst: BinaryIO, kind: str) -> None:
    from pypdf import PdfReader, PdfWriter
    from pypdf.generic import NameObject

    logging.getLogger("pypdf").setLevel(logging.ERROR)
    reader = PdfReader(src)
    if reader.is_encrypted:
        raise CannotClean("an encrypted PDF: kept as it is, it may still carry metadata")
    writer = PdfWriter(clone_from=reader)
    writer.metadata = None
    for holder in (writer.root_object, *writer.pages):
        for key in ("/Metadata", "/PieceInfo"):
            holder.pop(NameObject(key), None)
    writer.write(dst)
