"""`intake-review show`: a case's fields, attachments (checked, with their metadata), notes and thread."""

from __future__ import annotations

import hashlib
import io
from collections.abc import Callable, Iterator

from intake.crypto.body import ManifestEntry
from intake.crypto.errors import CryptoError
from intake.review.errors import DAMAGED_CASE, ReviewError
from intake.review.listing import dump_json, human_size
from intake.review.metadata import has_reader, sniff
from intake.review.names import terminal_text
from intake.review.opening import OpenCase, open_case
from intake.review.sandbox import inspect, limits
from intake.review.session import Session
from intake.review.terminal import GUTTER as GUTTER_ROW
from intake.review.terminal import echo, fold, width
from intake.text.answers import readable

MAX_INSPECT = 64 << 20


GUTTER = "\n" + GUTTER_ROW  # every continuation line of a text: no sender line, field or note ever starts with it


def check_attachment(case: OpenCase, idx: int) -> dict[str, object]:
    """Decrypt one attachment of the report in memory-bounded chunks: its checksum, real type and metadata."""
    entry = case.report.body.attachments[idx]
    return {**check_file(entry, case.plaintext(idx), idx), "original_sha256": entry.original_sha256}


def check_file(entry: ManifestEntry, plaintext: Iterator[bytes], idx: int) -> dict[str, object]:
    """Decrypt one file (a report's or a message's) in bounded chunks: its checksum, real type and metadata."""
    info: dict[str, object] = {"index": idx + 1, "name": entry.name, "type": entry.type, "size": entry.size,
                               "sha256": entry.sha256, "sha256_ok": False, "detected_type": None, "metadata": {}}
    sha, head, kept = hashlib.sha256(), b"", io.BytesIO()
    try:
        for chunk in plaintext:
            sha.update(chunk)
            if len(head) < 16:
                head += chunk[:16]
                info["detected_type"] = sniff(head)
            if has_reader(info["detected_type"]) and entry.size <= MAX_INSPECT:  # type: ignore[arg-type]
                kept.write(chunk)
    except CryptoError as exc:
        info["error"] = f"{exc.expect}: {exc}"
        return info
    info["sha256_ok"] = sha.hexdigest() == entry.sha256
    if has_reader(info["detected_type"]) and entry.size > MAX_INSPECT:  # type: ignore[arg-type]
        info["metadata"] = {"not checked": f"larger than {MAX_INSPECT >> 20} MiB: export it to clean it"}
    elif has_reader(info["detected_type"]):  # type: ignore[arg-type]
        info["metadata"] = inspect(kept.getvalue(), str(info["detected_type"]), clean=False).found
    else:
        info["metadata"] = {"not checked": "no reader for this type: it may carry GPS, camera or author data"}
    return info


def shown_thread(case: OpenCase) -> list[dict[str, object]]:
    """The thread as `show` prints it: each opened message's files checked like the report's attachments."""
    shown = []
    for message in case.thread():
        entry = dict(message.shown)
        if message.opened is not None and message.opened.body.attachments:
            entry["attachments"] = [check_file(item, case.message_plaintext(message, i), i)
                                    for i, item in enumerate(message.opened.body.attachments)]
        shown.append(entry)
    return shown


def case_data(session: Session, ref: str) -> tuple[OpenCase, dict[str, object]]:
    """Open one case and gather what `show` prints: summary, attachments checked, notes and thread."""
    from intake.review.notes import TAGS_KIND, current_tags

    limits()
    case = open_case(session, ref)
    entries = case.entries()
    for entry in entries:
        if "by" in entry:
            entry["by_name"] = session.reviewer_name(entry["by"])
    return case, {**case.summary(), "attachments": [check_attachment(case, i) for i in range(len(case.case.lengths))],
                  "tags": list(current_tags(entries)),
                  "tag_changes": [e for e in entries if e.get("kind") == TAGS_KIND],
                  "notes": [e for e in entries if e.get("kind") != TAGS_KIND], "thread": shown_thread(case)}


def seen(case: OpenCase, data: dict[str, object]) -> None:
    """After the case was shown: mark the reporter's messages read; the damaged-case error if a file failed."""
    if any(m["from"] == "reporter" for m in data["thread"]):  # type: ignore[attr-defined, index]
        case.session.source.mark_read(case.case)
    bad = [a for a in data["attachments"] if not a["sha256_ok"]]  # type: ignore[attr-defined, index]
    if bad:
        raise ReviewError(f"case {case.case.ref}: attachment {bad[0]['index']} is damaged ({bad[0].get('error')})",
                          "restore the case from a backup or a fresh export", DAMAGED_CASE)


def show_case(session: Session, ref: str, as_json: bool, custody=None) -> None:  # noqa: ANN001
    """Print one case; exit with the damaged-case code if an attachment fails its check. With `custody`
    (intake.evidence.record.Custody) the showing is appended to the case's custody record, which is printed."""
    case, data = case_data(session, ref)
    if custody is not None:
        hashes = {f"attachment {a['index']}": str(a["sha256"]) for a in data["attachments"]}  # type: ignore[attr-defined]
        data["custody"] = custody.append(case, "show", hashes).as_json()
    if as_json:
        echo(dump_json(data))
    else:
        cells = width()
        for line in case_lines(data):
            for row in fold(line, cells):  # the terminal never wraps a row itself
                echo(row)
    seen(case, data)


def case_lines(data: dict[str, object]) -> list[str]:
    """The case as `show` prints it: lines escaped for a terminal (each may hold newlines, gutter included)."""
    lines: list[str] = []

    def out(line: str) -> None:
        lines.append(terminal_text(line, keep_newlines=True))

    one = {k: terminal_text(str(data[k])) for k in ("id", "received", "status", "sealed_by")}
    out(f"case {one['id']}  received {one['received']}  status {one['status']}  "
        f"sealed by {one['sealed_by']}  opened with {terminal_text(str(data['opened_with']['identity']))}")
    out(f"tags: {' '.join(map(str, data.get('tags') or ())) or 'none'}")
    for change in data.get("tag_changes") or ():
        if "error" in change:
            out(f"  {change['created']}  a tag change not opened: {change['error']}")
    out("fields:")
    converted = {w["field"]: w["unicode"] for w in data["warnings"]}
    for name, value in data["fields"].items():
        out(f"  {terminal_text(name)}: {block(readable(name, value))}")
        if name in converted:
            out(f"    [probably Zawgyi] {_unicode(converted[name])}")
    out(f"attachments: {len(data['attachments']) or 'none'}")
    for a in data["attachments"]:
        _print_file(out, f"  {a['index']}. ", a)
    if data["notes"]:
        out("notes:")
    for note in data["notes"]:
        if "error" in note:
            out(f"  {terminal_text(str(note['created']))}  (not opened: {note['error']})")
        else:
            who = terminal_text(reviewer(note))
            out(f"  {terminal_text(str(note['created']))}  {terminal_text(str(note['status']))}  by {who}: "
                f"{block(str(note['note']))}")
    if data["thread"]:
        out("thread (oldest first; a line of a message after its first starts with |):")
    for message in data["thread"]:
        head = f"  {terminal_text(str(message['day']))}  {terminal_text(str(message['from']))}"
        if "error" in message:
            why = f" - {message['why']}" if "why" in message else ""
            out(f"{head}  (not opened: {terminal_text(str(message['error']))}){why}")
            continue
        if "unverified" in message:
            head += f"  [UNVERIFIED: {message['unverified']}]"
        out(f"{head}: " + block(str(message["text"])))
        for a in message["attachments"]:
            _print_file(out, f"     file {a['index']}. ", a)
    if "custody" in data:
        custody_lines(out, data["custody"])  # type: ignore[arg-type]
    return lines


def reviewer(entry: dict[str, object]) -> str:
    """Who wrote a note: the keyring's name beside the key id (`alice (5f3a1b2c)`), or the key id alone."""
    key_id = str(entry.get("by"))[:16]
    return f"{entry['by_name']} ({key_id})" if entry.get("by_name") else key_id


def custody_lines(out: Callable[[str], None], record: dict[str, object]) -> None:
    """The custody record: one line an entry (number, day, action, reviewer key, what it hashed), then any break."""
    entries: list[dict[str, object]] = record["entries"]  # type: ignore[assignment]
    state = "chain intact" if record["intact"] else "CHAIN BROKEN"
    out(f"custody ({len(entries)} entries, {state}; head {record['head']}):")
    for e in entries:
        detail = f" {e['detail']}" if e["detail"] else ""
        out(terminal_text(f"  {e['seq']}. {e['day']}  {e['action']}{detail}  by {str(e['by'])[:16]}  "
                          f"({len(e['hashes'])} hashes)"))  # type: ignore[arg-type]
    for problem in record["problems"]:  # type: ignore[attr-defined]
        out(terminal_text(f"  ! {problem}"))
    for branch in record.get("branches") or ():  # type: ignore[attr-defined]
        out(terminal_text(f"  ~ {branch}"))


def block(text: str) -> str:
    """Text for the terminal, every line after the first behind the gutter (a reporter cannot draw a sender line)."""
    return terminal_text(text, keep_newlines=True).replace("\n", GUTTER)


def _print_file(out: Callable[[str], None], label: str, a: dict[str, object]) -> None:
    """One file (a report's attachment or a message's): name, types, size, checksum and metadata lines."""
    check = "sha256 ok" if a["sha256_ok"] else f"DAMAGED: {a.get('error')}"
    found = a["detected_type"] or "unknown type"
    pad = " " * len(label)
    out(f"{label}{terminal_text(str(a['name']))}  {terminal_text(str(a['type']))} (looks like {found})  "
        f"{human_size(int(a['size']))}  {check}")
    out(f"{pad}sha256 {a['sha256']}")
    if "original_sha256" in a:  # a report's file (format.md §5.1); a message's has none
        original = a["original_sha256"]
        out(f"{pad}original sha256 " + ("not recorded (sent before it was)" if original is None else
                                        "the same (sealed as chosen)" if original == a["sha256"] else
                                        f"{original} (before the page cleaned it: the reporter's copy)"))
    meta = "; ".join(f"{terminal_text(k)}: {terminal_text(v)}" for k, v in a["metadata"].items())  # type: ignore[union-attr]
    out(f"{pad}metadata: {meta or 'none found'}")


def _unicode(text: object) -> str:
    if text is None:
        return "no converter installed (pip install PyICU): read it with a Zawgyi font"
    return f"Unicode conversion (beside the original, check it): {block(str(text))}"
