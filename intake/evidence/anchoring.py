"""The anchor of an evidence package: the inclusion proofs of the case and its messages in their days' anchors,
with each day's root and RFC 3161 timestamp token as files that `openssl ts -verify` reads (docs/review.md)."""

from __future__ import annotations

import base64
import hashlib
import os

from intake.review.folder import Folder
from intake.review.opening import OpenCase

FOLDER = "anchor"
PROVES = ("an anchored item's sealed bytes (header, body, every file) existed when the TSA stamped its day's root, "
          "shortly after the end of that day: this exact report (or message) existed by the end of that day. It "
          "does not prove when during the day it arrived, who sent it, or that what it says is true.")
NOT_YET = ("not anchored yet: `intake anchor` covers a day once it has ended (a partial anchor while it runs); "
           "make the package again after it ran")
FROM_BUNDLE = "a bundle carries no anchors: make the package on the server's database to include them"


def package_anchor(case: OpenCase, folder: Folder) -> dict[str, object]:
    """The manifest's `anchor`: a proof for the report (seq 0) and each message, or why there is none; each
    anchored day's root (32 bytes) and token (DER) written as anchor/DAY.root and anchor/DAY.tsr."""
    from intake.anchor.day import AnchorError, case_proof
    from intake.storage.anchors import REPORT_SEQ

    source = case.session.source
    if source.read_only:
        return {"items": [], "not_anchored": [], "note": FROM_BUNDLE, "files": {}, "proves": PROVES}
    wanted = [("report", REPORT_SEQ), *((f"message {m.seq}", m.seq) for m in source.thread(case.case))]
    items: list[dict[str, object]] = []
    missing: list[str] = []
    files: dict[str, str] = {}
    days: dict[str, dict[str, str | None]] = {}
    anchor_folder = None
    for what, seq in wanted:
        try:
            proof = case_proof(source.engine, case.case.id, seq)
        except AnchorError as exc:
            items.append({"what": what, "seq": seq, "problem": exc.message})
            continue
        if proof is None:
            missing.append(what)
            continue
        day = str(proof["day"])
        if day not in days:
            anchor_folder = anchor_folder or folder.folder(FOLDER)
            days[day] = _day_files(anchor_folder, day, proof, files)
        items.append({"what": what, "seq": seq, "proof": proof, "files": days[day]})
    note = NOT_YET if not items else (f"{', '.join(missing)}: {NOT_YET}" if missing else "")
    return {"items": items, "not_anchored": missing, "note": note, "files": files, "proves": PROVES}


def _day_files(anchor: Folder, day: str, proof: dict[str, object], files: dict[str, str]) -> dict[str, str | None]:
    """Write a day's root and token; note each file's SHA-256 in `files` (what verify and SHA256SUMS check)."""
    written: dict[str, str | None] = {"root": None, "timestamp": None}
    token = base64.b64decode(str(proof["timestamp"])) if proof["timestamp"] else None
    for kind, suffix, data in (("root", "root", bytes.fromhex(str(proof["root"]))), ("timestamp", "tsr", token)):
        if data is None:
            continue
        name = f"{day}.{suffix}"
        with os.fdopen(anchor.create(name), "wb") as f:
            f.write(data)
        path = anchor.prefix + name
        files[path] = hashlib.sha256(data).hexdigest()
        written[kind] = path
    return written
