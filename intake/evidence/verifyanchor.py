"""`verify` of a package's anchor: each inclusion proof against its root, each root and token against its file,
the report's proof against the package's sealed hashes, and each token against its root (and the TSA's CA)."""

from __future__ import annotations

import base64
from collections.abc import Callable
from typing import Any

from intake.anchor import merkle, timestamp
from intake.anchor.day import check_inclusion, check_stamp
from intake.storage.anchors import REPORT_SEQ

NO_CA = ("its signature NOT checked: give --tsa-ca FILE, the TSA's CA certificate (PEM) from the TSA itself, or run "
         "the openssl command of VERIFY.txt")


def anchor_files(manifest: dict[str, Any]) -> dict[str, str]:
    """The anchor's files (path: SHA-256) the manifest lists, checked like every other file."""
    anchor = manifest.get("anchor")
    if anchor is None:
        return {}
    return {str(path): str(sha) for path, sha in anchor["files"].items()}


Reader = Callable[[str], bytes | None]  # a package file's bytes by its manifest path, None if missing or outside


def check_anchor(manifest: dict[str, Any], read: Reader, tsa_ca: bytes | None) -> tuple[list[str], list[str]]:
    """What is wrong with the package's anchor, and what verify says of it besides (checked, or not, and why)."""
    anchor = manifest.get("anchor")
    if anchor is None:
        return [], ["anchor: none (the package was made before intake anchored days)"]
    problems: list[str] = []
    said: list[str] = [f"anchor: {anchor['note']}"] if anchor.get("note") else []
    for item in anchor["items"]:
        what = f"anchor of the {item['what']}"
        if "problem" in item:
            said.append(f"{what}: NOT PROVED, as the package's maker found: {item['problem']}")
            continue
        problems += _files(item, read)
        try:
            problems += _item(item, manifest, tsa_ca, said)
        except (merkle.ProofError, timestamp.TimestampError) as exc:
            problems.append(f"{what}: {getattr(exc, 'message', None) or exc}")
    return problems, said


def _files(item: dict[str, Any], read: Reader) -> list[str]:
    """The day's root and token files must hold the proof's root and token (their hashes are checked already)."""
    proof, files = item["proof"], item["files"]
    problems = []
    if (read(str(files["root"])) or b"").hex() != proof["root"]:
        problems.append(f"{files['root']}: not the root of the proof")
    token = read(str(files["timestamp"])) if files["timestamp"] else None
    if proof["timestamp"] and (token is None or base64.b64encode(token).decode() != proof["timestamp"]):
        problems.append(f"{files['timestamp']}: not the timestamp of the proof")
    return problems


def _item(item: dict[str, Any], manifest: dict[str, Any], tsa_ca: bytes | None, said: list[str]) -> list[str]:
    """Check one anchored item; append what was checked to `said`, return what is wrong."""
    proof, what = item["proof"], f"anchor of the {item['what']}"
    root, token, day = check_inclusion(proof)
    problems = []
    if item["seq"] == REPORT_SEQ or item["what"] == "report":  # the report's proof is of the package's own bytes
        sealed = manifest["sealed"]
        if (proof["body_sha256"], proof["stream_sha256"]) != (sealed["body_sha256"], sealed["streams_sha256"]):
            problems.append(f"{what}: its proof is of other sealed bytes (body, files) than the package's "
                            "\"sealed\" hashes")
    if token is None:
        said.append(f"{what}: in the {'partial ' if proof['partial'] else ''}anchor of {day}, which has no "
                    "timestamp: it proves nothing about time yet")
        return problems
    when = check_stamp(token, root, day, tsa_ca)
    signed = "signed by a TSA under the given CA" if tsa_ca is not None else NO_CA
    said.append(f"{what}: in the anchor of {day}, root {root.hex()[:16]}..., timestamped {when:%Y-%m-%d %H:%M} "
                f"UTC; {signed}")
    return problems
