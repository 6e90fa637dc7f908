"""`intake-review show`: a case's fields, attachments (checked, with their metadata), notes and thread."""

from __future__ import annotations

import hashlib
import io

from intake.crypto.errors import CryptoError
from intake.review.errors import DAMAGED_CASE, ReviewError
from intake.review.listing import dump_json, human_size
from intake.review.metadata import sniff
from intake.review.names import terminal_text
from intake.review.opening import OpenCase, open_case
from intake.review.sandbox import inspect, limits
from intake.review.session import Session
from intake.review.terminal import echo

MAX_INSPECT = 64 << 20


def check_attachment(case: OpenCase, idx: int) -> dict[str, object]:
    """Decrypt one attachment in memory-bounded chunks: its checksum, real type and metadata."""
    entry = case.report.body.attachments[idx]
    info: dict[str, object] = {"index": idx + 1, "name": entry.name, "type": entry.type, "size": entry.size,
                               "sha256": entry.sha256, "sha256_ok": False, "detected_type": None, "metadata": {}}
    sha, head, kept = hashlib.sha256(), b"", io.BytesIO()
    try:
        for chunk in case.plaintext(idx):
            sha.update(chunk)
            if len(head) < 16:
                head += chunk[:16]
                info["detected_type"] = sniff(head)
            if info["detected_type"] and entry.size <= MAX_INSPECT:
                kept.write(chunk)
    except CryptoError as exc:
        info["error"] = f"{exc.expect}: {exc}"
        return info
    info["sha256_ok"] = sha.hexdigest() == entry.sha256
    if info["detected_type"] and entry.size > MAX_INSPECT:
        info["metadata"] = {"not checked": f"larger than {MAX_INSPECT >> 20} MiB: export it to clean it"}
    elif info["detected_type"]:
        info["metadata"] = inspect(kept.getvalue(), str(info["detected_type"]), clean=False).found
    else:
        info["metadata"] = {"not checked": "no reader for this type: it may carry GPS, camera or author data"}
    return info


def show_case(session: Session, ref: str, as_json: bool) -> None:
    """Print one case; exit with the damaged-case code if an attachment fails its check."""
    limits()
    case = open_case(session, ref)
    data = {**case.summary(), "attachments": [check_attachment(case, i) for i in range(len(case.case.lengths))],
            "notes": case.notes(), "thread": [message.shown for message in case.thread()]}
    if as_json:
        echo(dump_json(data))
    else:
        _print(data)
    if any(m["from"] == "reporter" for m in data["thread"]):  # type: ignore[attr-defined, index]
        case.session.source.mark_read(case.case)
    bad = [a for a in data["attachments"] if not a["sha256_ok"]]
    if bad:
        raise ReviewError(f"case {case.case.ref}: attachment {bad[0]['index']} is damaged ({bad[0].get('error')})",
                          "restore the case from a backup or a fresh export", DAMAGED_CASE)


def _print(data: dict[str, object]) -> None:
    def out(line: str) -> None:
        echo(terminal_text(line, keep_newlines=True))

    one = {k: terminal_text(str(data[k])) for k in ("id", "received", "status", "sealed_by")}
    out(f"case {one['id']}  received {one['received']}  status {one['status']}  "
        f"sealed by {one['sealed_by']}  opened with {terminal_text(str(data['opened_with']['identity']))}")
    out("fields:")
    converted = {w["field"]: w["unicode"] for w in data["warnings"]}
    for name, value in data["fields"].items():
        text = terminal_text(value, keep_newlines=True).replace("\n", "\n    ")
        out(f"  {terminal_text(name)}: {text}")
        if name in converted:
            out(f"    [probably Zawgyi] {_unicode(converted[name])}")
    out(f"attachments: {len(data['attachments']) or 'none'}")
    for a in data["attachments"]:
        check = "sha256 ok" if a["sha256_ok"] else f"DAMAGED: {a.get('error')}"
        found = a["detected_type"] or "unknown type"
        out(f"  {a['index']}. {terminal_text(a['name'])}  {terminal_text(a['type'])} (looks like {found})  "
            f"{human_size(a['size'])}  {check}")
        out(f"     sha256 {a['sha256']}")
        meta = "; ".join(f"{terminal_text(k)}: {terminal_text(v)}" for k, v in a["metadata"].items())
        out(f"     metadata: {meta or 'none found'}")
    if data["notes"]:
        out("notes:")
    for note in data["notes"]:
        if "error" in note:
            out(f"  {terminal_text(str(note['created']))}  (not opened: {note['error']})")
        else:
            text = terminal_text(str(note["note"]), keep_newlines=True).replace("\n", "\n    ")
            who = terminal_text(str(note["by"])[:16])
            out(f"  {terminal_text(str(note['created']))}  {terminal_text(str(note['status']))}  by {who}: {text}")
    if data["thread"]:
        out("thread (oldest first):")
    for message in data["thread"]:
        head = f"  {terminal_text(str(message['day']))}  {terminal_text(str(message['from']))}"
        if "error" in message:
            why = f" - {message['why']}" if "why" in message else ""
            out(f"{head}  (not opened: {terminal_text(str(message['error']))}){why}")
            continue
        if "unverified" in message:
            head += f"  [UNVERIFIED: {message['unverified']}]"
        out(f"{head}: " + terminal_text(str(message["text"]), keep_newlines=True).replace("\n", "\n    "))
        for n, a in enumerate(message["attachments"], 1):
            out(f"     file {n}. {terminal_text(a['name'])}  {terminal_text(a['type'])}  {human_size(a['size'])}")


def _unicode(text: object) -> str:
    if text is None:
        return "no converter installed (pip install PyICU): read it with a Zawgyi font"
    shown = terminal_text(str(text), keep_newlines=True).replace("\n", "\n    ")
    return f"Unicode conversion (beside the original, check it): {shown}"
