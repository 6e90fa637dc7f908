"""A case's files for its page: each listed; a photo's preview drawn anew by the sandbox (review/sandbox.py)."""

from __future__ import annotations

from dataclasses import dataclass

from intake.crypto.errors import CryptoError
from intake.review.clean import PREVIEWABLE
from intake.review.listing import human_size
from intake.review.metadata import sniff
from intake.review.opening import OpenCase
from intake.review.sandbox import MAX_PREVIEW_INPUT, Previews


@dataclass
class Listed:
    """One file of the report as its page lists it; `preview` is the JPEG's name beside the page, if any."""

    index: int
    name: str
    type: str
    size: str
    detected: str | None = None
    preview: str | None = None
    why: str | None = None


def list_files(case: OpenCase, page: str, previews: Previews, write) -> list[Listed]:  # noqa: ANN001
    """Each attachment of the report; a photo gets a preview, written by `write(name, bytes)` as PAGE-N.jpg."""
    listed = []
    for idx, entry in enumerate(case.report.body.attachments):
        item = Listed(idx + 1, entry.name, entry.type, human_size(entry.size))
        try:
            data, item.detected = _photo(case, idx, entry.size)
        except CryptoError as exc:
            data, item.why = None, f"damaged ({exc.expect}): no preview"
        if data is not None:
            made = previews.make(data, item.detected)
            if isinstance(made, bytes):
                item.preview = f"{page}-{idx + 1}.jpg"
                write(item.preview, made)
            else:
                item.why = made
        listed.append(item)
    return listed


def _photo(case: OpenCase, idx: int, size: int) -> tuple[bytes | None, str | None]:
    """The file in clear if it is a photo small enough to preview (its real type read from its first bytes)."""
    chunks = case.plaintext(idx)
    first = next(chunks, b"")
    kind = sniff(first[:16])
    if kind not in PREVIEWABLE or size > MAX_PREVIEW_INPUT:
        chunks.close()  # type: ignore[attr-defined]
        return None, kind
    return first + b"".join(chunks), kind  # the whole stream: its size and checksum are checked at its end
