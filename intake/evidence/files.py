"""One file of an evidence package: its evidentiary copy (as sealed), its working copy (cleaned), what it carries."""

from __future__ import annotations

import hashlib
import os

from intake.review.clean import CLEANABLE, MAX_CLEAN
from intake.review.export import export_file
from intake.review.folder import Folder
from intake.review.names import file_name
from intake.review.opening import OpenCase
from intake.review.sandbox import inspect

HEAD = 8 << 20  # provenance (C2PA, ProofMode) is looked for in this much of a file, as the page does
NOT_VERIFIED = "supplied by the reporter, not verified"
# Capture metadata as review/metadata.py names it: what a court asks of a photo (when, where, with what).
CAPTURE = {"time": ("taken", "date"), "gps": ("gps",), "device": ("camera make", "camera model", "camera serial")}
WORKING_LABEL = "WORKING COPY: rebuilt without metadata for reading and sharing; not the evidence"


def package_file(case: OpenCase, idx: int, evidence: Folder, working: Folder) -> dict[str, object]:
    """Write attachment `idx` byte for byte as sealed into evidence/, a cleaned copy into working/; describe both."""
    from intake.evidence.provenance import provenance

    entry = case.report.body.attachments[idx]
    name = file_name(f"{idx + 1}-{entry.name}", idx)
    written = export_file(entry, idx, name, case.plaintext(idx), evidence, keep_metadata=True)
    item: dict[str, object] = {"index": idx + 1, "name": entry.name, "type": entry.type, "size": entry.size,
                               "original_sha256": entry.original_sha256, "sealed_sha256": entry.sha256,
                               "evidentiary_copy": None, "working_copy": None}
    if written["file"] is None:
        item["problem"] = f"could not be processed: {written['error']}"
        return item
    path = str(written["file"])  # evidence/NAME
    item["evidentiary_copy"] = {"path": path, "sha256": entry.sha256,
                                "label": "EVIDENTIARY COPY: byte for byte as sealed"}
    if entry.original_sha256 is None:
        item["original_note"] = "not recorded: the report was sent before intake recorded it"
    elif entry.original_sha256 == entry.sha256:
        item["original_note"] = "the same as sealed: the file was sealed as the reporter chose it"
    else:
        item["original_note"] = "the page cleaned the file before sealing it: the reporter's own copy hashes to this"
    kind = written.get("detected_type")
    item["detected_type"] = kind
    fd = evidence.open(path.removeprefix(evidence.prefix))
    with os.fdopen(fd, "rb") as f:
        data = f.read(MAX_CLEAN + 1)
    item["provenance"] = provenance(entry.name, data[:HEAD])
    if len(data) > MAX_CLEAN:
        item["working_copy_problem"] = f"could not be processed: larger than {MAX_CLEAN >> 20} MiB"
        return item
    result = inspect(data, str(kind) if kind else None, clean=kind in CLEANABLE)
    item["capture_metadata"] = capture(result.found)
    if result.cleaned is None:
        why = result.not_cleaned or f"no cleaner for {kind or 'this type'}"
        item["working_copy_problem"] = f"could not be processed: {why}"
        return item
    stored, fd = working.create_unique(file_name(f"working-copy-{idx + 1}-{entry.name}", idx))
    with os.fdopen(fd, "wb") as f:
        f.write(result.cleaned)
    item["working_copy"] = {"path": working.prefix + stored, "sha256": hashlib.sha256(result.cleaned).hexdigest(),
                            "label": WORKING_LABEL, "metadata_left": result.left or {}}
    return item


def capture(found: dict[str, str]) -> dict[str, object]:
    """The time, place and device a file's metadata claims, marked as the reporter's word."""
    claimed = {what: "; ".join(f"{label}: {found[label]}" for label in labels if label in found)
               for what, labels in CAPTURE.items()}
    return {"status": NOT_VERIFIED, **{k: v or None for k, v in claimed.items()},
            **({"unreadable": found["unreadable"]} if "unreadable" in found else {}),
            **({"not checked": found["not checked"]} if "not checked" in found else {})}
