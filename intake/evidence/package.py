"""`intake-review evidence`: a signed evidence package of one case (docs/review.md "Evidence packages").

DIR/evidence/ holds the files byte for byte as sealed, DIR/working-copies/ cleaned copies, labelled; manifest.json
describes the case, every file (both hashes, what its metadata claims), the status history and the custody record,
and manifest.json.sig is its SSHSIG signature by the organisation's ed25519 key, made by the stock ssh-keygen.
SHA256SUMS, VERIFY.txt (English, Khmer, Burmese) and summary.html (printable, no JavaScript) go beside them.
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

from intake.evidence.anchoring import package_anchor
from intake.evidence.files import package_file
from intake.evidence.record import Custody
from intake.evidence.signing import NAMESPACE, PRINCIPAL, allowed_signers, fingerprint, public_key, sign
from intake.review.errors import ReviewError
from intake.review.folder import Folder
from intake.review.names import terminal_text
from intake.review.opening import OpenCase, open_case
from intake.review.sandbox import limits
from intake.review.session import Session
from intake.review.terminal import echo

FORMAT = "intake-evidence-1"
MANIFEST, SIGNATURE, SUMS = "manifest.json", "manifest.json.sig", "SHA256SUMS"
SIGNER, ALLOWED, VERIFY, SUMMARY = "signer.pub", "allowed_signers", "VERIFY.txt", "summary.html"


def write_package(session: Session, ref: str, out: Path, key: Path, custody: Custody) -> None:
    """Write the evidence package of case `ref` into the new folder `out`, signed with `key`."""
    from intake.clock import today
    from intake.evidence.summary import summary_html
    from intake.evidence.verifytext import verify_text

    limits()
    line = public_key(key)  # before anything is written: a wrong key fails here
    print_ = fingerprint(line)
    if out.exists() and (not out.is_dir() or any(out.iterdir())):
        raise ReviewError(f"{out} is not a new, empty folder", "give --out a folder that does not exist yet")
    case = open_case(session, ref)
    folder = Folder.at(out)
    try:
        evidence, working = folder.folder("evidence"), folder.folder("working-copies")
        files = [package_file(case, i, evidence, working) for i in range(len(case.case.lengths))]
        hashes = {f"file {f['index']} sealed": str(f["sealed_sha256"]) for f in files}
        hashes |= {f"file {f['index']} working copy": f["working_copy"]["sha256"]  # type: ignore[index]
                   for f in files if f["working_copy"]}
        anchor = package_anchor(case, folder)
        record = custody.append(case, "evidence", hashes)
        manifest = _manifest(case, files, record.as_json(), anchor, today().isoformat(), line, print_)
        _write(folder, SIGNER, line + "\n")
        _write(folder, ALLOWED, allowed_signers(line))
        _write(folder, VERIFY, verify_text(manifest))
        _write(folder, SUMMARY, summary_html(manifest))
        listed = [str(f[k]["path"]) for f in files for k in ("evidentiary_copy", "working_copy") if f[k]]  # type: ignore[index]
        listed += list(anchor["files"])  # type: ignore[call-overload]
        sums = "".join(f"{_sha(folder.path / p)}  {p}\n" for p in [*listed, SIGNER, ALLOWED, VERIFY, SUMMARY])
        _write(folder, SUMS, sums)
        manifest["package_files"] = {SUMS: hashlib.sha256(sums.encode()).hexdigest()}
        text = json.dumps(manifest, ensure_ascii=False, indent=1, sort_keys=True).encode() + b"\n"
        _write(folder, MANIFEST, text)
        _write(folder, SIGNATURE, sign(key, text))
    except BaseException:
        folder.discard()
        raise
    for f in files:
        problem = f.get("problem") or f.get("working_copy_problem")
        if problem:
            echo(terminal_text(f"file {f['index']} ({f['name']}): {problem}"), err=True)
    for item in anchor["items"]:  # type: ignore[attr-defined]
        if "problem" in item:
            echo(terminal_text(f"anchor of the {item['what']}: {item['problem']}"), err=True)
    if anchor["note"]:
        echo(terminal_text(f"anchor: {anchor['note']}"), err=True)
    echo(terminal_text(f"evidence package of case {case.case.ref} written to {out}, signed by {print_}"), err=True)


def _manifest(case: OpenCase, files: list[dict[str, object]], custody: dict[str, object],
              anchor: dict[str, object], made: str, line: str, print_: str) -> dict[str, object]:
    """What manifest.json says, before the hash of SHA256SUMS is added."""
    summary = case.summary()
    history = [{"day": n["created"], "status": n["status"], "from": "a reviewer's note"}
               for n in case.notes() if "status" in n]
    history += [{"day": e["day"], "status": e["detail"], "from": "the custody record"}
                for e in custody["entries"] if e["action"] == "status"]  # type: ignore[index, union-attr]
    return {"format": FORMAT, "case": case.case.ref, "received": summary["received"], "made": made,
            "status": summary["status"], "status_history": sorted(history, key=lambda h: str(h["day"])),
            "sealed_by": summary["sealed_by"], "fields": summary["fields"],
            "fields_note": "as the reporter wrote them; untrusted",
            "zawgyi": [{"field": w["field"], "unicode": w["unicode"]} for w in summary["warnings"]],  # type: ignore[union-attr]
            "files": files, "sealed": _sealed(case), "custody": custody,
            "anchor": anchor,
            "signature": {"namespace": NAMESPACE, "principal": PRINCIPAL, "key": line, "fingerprint": print_}}


def _sealed(case: OpenCase) -> dict[str, object]:
    """The SHA-256 of the case as stored (header, body, each sealed stream): what an anchor's leaf is made of."""
    streams = []
    for idx in range(len(case.case.lengths)):
        sha = hashlib.sha256()
        for part in case.session.source.parts(case.case, idx):
            sha.update(part)
        streams.append(sha.hexdigest())
    return {"header_sha256": hashlib.sha256(case.case.header).hexdigest(),
            "body_sha256": hashlib.sha256(case.case.body).hexdigest(), "streams_sha256": streams}


def _write(folder: Folder, name: str, data: str | bytes) -> None:
    with os.fdopen(folder.create(name), "wb") as f:
        f.write(data.encode() if isinstance(data, str) else data)


def _sha(path: Path) -> str:
    sha = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            sha.update(block)
    return sha.hexdigest()
