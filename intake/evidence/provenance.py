"""Proof of a file's origin that it carries: C2PA manifests (JUMBF boxes) and ProofMode's files, found, not verified.

The same rules as the page's static/js/provenance.js: a C2PA manifest is a JUMBF superbox (ISO/IEC 19566-5)
labelled "c2pa", in a JPEG's APP11 "JP" segments, a PNG's caBX chunk or a WebP's C2PA chunk. A box whose declared
size does not match the bytes it holds is refused (`ProvenanceError`): it is never reported as a manifest.
"""

from __future__ import annotations

import re
import struct

from intake.errors import IntakeError

C2PA_LABEL = "c2pa"
PROOFMODE_NAME = re.compile(r"\.(proof\.json|proof\.csv|ots|gst|asc)$", re.IGNORECASE)
_JPEG_STOP = (0xDA, 0xD9)


class ProvenanceError(IntakeError, ValueError):
    """A C2PA (JUMBF) box whose sizes do not add up: refused, never reported as proof of origin."""


def jumbf_label(box: bytes) -> str:
    """The label of a whole JUMBF superbox (its first child a description box), or ProvenanceError."""
    if len(box) < 8:
        raise ProvenanceError("a JUMBF box is shorter than its own header")
    size, kind = struct.unpack(">I4s", box[:8])
    head = 8
    if size == 1:
        if len(box) < 16:
            raise ProvenanceError("a JUMBF box is shorter than its own header")
        size, head = struct.unpack(">Q", box[8:16])[0], 16
    if kind != b"jumb":
        raise ProvenanceError("a C2PA segment does not hold a JUMBF superbox")
    if size != len(box):
        raise ProvenanceError(f"a JUMBF box declares {size} bytes but holds {len(box)}")
    if len(box) < head + 8:
        raise ProvenanceError("a JUMBF box has no description box")
    inner, inner_kind = struct.unpack(">I4s", box[head:head + 8])
    if inner_kind != b"jumd" or inner < 25 or head + inner > len(box):
        raise ProvenanceError(f"a JUMBF description box declares {inner} bytes, which its box cannot hold")
    label = box[head + 25:head + inner]
    end = label.find(b"\0")
    if end < 0:
        raise ProvenanceError("a JUMBF label has no end")
    return label[:end].decode("utf-8", "replace")


def _jpeg_boxes(data: bytes) -> list[bytes]:
    """The APP11 "JP" boxes before the first scan, each joined from its packets (later packets repeat the box
    header, which is dropped)."""
    boxes: dict[int, list[bytes]] = {}
    at = 2
    while at + 4 <= len(data) and data[at] == 0xFF and data[at + 1] not in _JPEG_STOP:
        length = int.from_bytes(data[at + 2:at + 4], "big")
        if length < 2 or at + 2 + length > len(data):
            break  # a cut or damaged file: what came before is all there is (cleaning reports the damage)
        if data[at + 1] == 0xEB and length >= 16 and data[at + 4:at + 6] == b"JP":
            instance = int.from_bytes(data[at + 6:at + 8], "big")
            payload = data[at + 12:at + 2 + length]
            pieces = boxes.setdefault(instance, [])
            pieces.append(payload[8:] if pieces else payload)
        at += 2 + length
    return [b"".join(p) for p in boxes.values()]


def _chunk_boxes(data: bytes, png: bool) -> list[bytes]:
    """The payload of a PNG's caBX chunks or a WebP's C2PA chunks."""
    out = []
    at = 8 if png else 12
    while at + 8 <= len(data):
        if png:
            length, kind = struct.unpack(">I4s", data[at:at + 8])
        else:
            kind, length = data[at:at + 4], struct.unpack("<I", data[at + 4:at + 8])[0]
        end = at + 8 + length
        if end > len(data) or kind == b"IEND":
            break  # a cut file, or the image's end: nothing after it is the image's
        if kind == (b"caBX" if png else b"C2PA"):
            out.append(data[at + 8:end])
        at = end + (4 if png else length % 2)
    return out


def c2pa_boxes(data: bytes) -> list[bytes]:
    """The C2PA manifest stores (JUMBF superboxes labelled c2pa) in a JPEG, PNG or WebP; ProvenanceError on a lie."""
    if data[:2] == b"\xff\xd8":
        boxes = _jpeg_boxes(data)
    elif data[:8] == b"\x89PNG\r\n\x1a\n":
        boxes = _chunk_boxes(data, True)
    elif data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        boxes = _chunk_boxes(data, False)
    else:
        return []
    return [box for box in boxes if jumbf_label(box) == C2PA_LABEL]


def provenance(name: str, data: bytes) -> dict[str, str]:
    """What proof of origin a file carries, in words: {"c2pa": ...} and/or {"proofmode": ...}; never verified."""
    found: dict[str, str] = {}
    try:
        boxes = c2pa_boxes(data)
    except ProvenanceError as exc:
        found["c2pa"] = f"refused: {exc}"
    else:
        if boxes:
            found["c2pa"] = f"a C2PA manifest store ({sum(map(len, boxes))} bytes), kept in the evidentiary copy; " \
                            "check it with a C2PA tool (c2patool): intake does not verify it"
    if PROOFMODE_NAME.search(name) or (data[:4] == b"PK\x03\x04" and _zip_has_proof(data)):
        found["proofmode"] = "ProofMode proof files; check them with ProofMode's own tools: intake does not verify them"
    return found


def _zip_has_proof(data: bytes) -> bool:
    """Whether a zip's central directory names a ProofMode proof file."""
    at = data.rfind(b"PK\x01\x02")
    while at >= 0:
        length = int.from_bytes(data[at + 28:at + 30], "little")
        if PROOFMODE_NAME.search(data[at + 46:at + 46 + length].decode("utf-8", "replace")):
            return True
        at = data.rfind(b"PK\x01\x02", 0, at)
    return False
