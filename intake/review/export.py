"""`intake-review export`: report.json, the attachments and the thread's files into DIR, checked, cleaned."""

from __future__ import annotations

import hashlib
import os
import secrets
from collections.abc import Iterator
from pathlib import Path

from intake.crypto.body import ManifestEntry
from intake.crypto.errors import CryptoError
from intake.review.clean import CLEANABLE, MAX_CLEAN, CannotClean, check_cleanable
from intake.review.errors import DAMAGED_CASE, ReviewError
from intake.review.folder import Folder
from intake.review.listing import dump_json
from intake.review.metadata import has_reader, sniff
from intake.review.names import file_name, message_file_name, terminal_text
from intake.review.opening import OpenCase, open_case
from intake.review.progress import progress
from intake.review.sandbox import inspect, limits
from intake.review.session import Session
from intake.review.terminal import echo

THREAD_FOLDER = "thread"


def export_case(session: Session, ref: str, out: Path, keep_metadata: bool, metadata_out: Path | None = None,
                custody=None) -> None:  # noqa: ANN001
    """Export one case into `out`; exit with the damaged-case code if a file failed its check. With `custody`
    (intake.evidence.record.Custody) the export and the SHA-256 of each file written join the custody record.

    The metadata found in the originals (GPS, serial numbers, names) never goes into `out`, which is
    meant to be handed on: only with `metadata_out`, into that file, outside `out` (docs/review.md).
    """
    limits()
    _check_outside(metadata_out, out)
    case = open_case(session, ref)
    folder = Folder.at(out)
    try:
        report_fd = folder.create("report.json")
    except FileExistsError:
        raise ReviewError(f"{out} already holds a report.json", "export each case into its own empty folder") from None
    handed = False
    try:
        files = [export_attachment(case, i, folder, keep_metadata) for i in range(len(case.case.lengths))]
        thread = export_thread(case, folder, keep_metadata)
        found = _set_aside(files, thread)
        text = dump_json({**case.summary(), "attachments": files, "notes": case.notes(), "thread": thread}) + "\n"
        handed = True
        with os.fdopen(report_fd, "w", encoding="utf-8") as f:
            f.write(text)
    except BaseException:
        if not handed:
            os.close(report_fd)
        folder.discard()
        raise
    named = [(f"attachment {item['index']}", item) for item in files] + [
        (f"message {message['seq']} file {item['index']}", item)
        for message in thread for item in message.get("attachments", ())]
    for label, item in named:
        echo(terminal_text(f"{out / str(item['file']) if item['file'] else label}: {_state(item)}"), err=True)
    for message in thread:
        if "error" in message:
            echo(terminal_text(f"message {message['seq']}: not opened ({message['error']})"), err=True)
        elif "unverified" in message:
            echo(terminal_text(f"message {message['seq']}: UNVERIFIED ({message['unverified']})"), err=True)
    echo(terminal_text(f"exported case {case.case.ref} into {out}"), err=True)
    if custody is not None:
        custody.append(case, "export", {label: str(item.get("exported_sha256") or item["sha256"])
                                        for label, item in named if item["file"] is not None})
    _report_found(case.case.ref, found, out, metadata_out)
    bad = [(label, item) for label, item in named if item["file"] is None]
    if bad:
        label, item = bad[0]
        raise ReviewError(f"case {case.case.ref}: {label} is damaged ({item['error']}); its partial file was removed",
                          "restore the case from a backup or a fresh export", DAMAGED_CASE)


def _check_outside(metadata_out: Path | None, out: Path) -> None:
    """Refuse a metadata file inside the export folder, or one that exists, before anything is written."""
    if metadata_out is None:
        return
    if metadata_out.resolve().is_relative_to(out.resolve()):
        raise ReviewError(f"{metadata_out} is inside {out}, the folder meant to be handed on",
                          "give --metadata-out a file outside it")
    if metadata_out.exists() or metadata_out.is_symlink():
        raise ReviewError(f"{metadata_out} already exists", "give --metadata-out a new file name")


def _set_aside(files: list[dict[str, object]], thread: list[dict[str, object]]) -> list[dict[str, object]]:
    """Take the metadata found out of every exported item (leaving a count); return it, item by item."""
    items = [(f"attachment {f['index']}", f) for f in files] + [
        (f"message {m['seq']} file {f['index']}", f) for m in thread for f in m.get("attachments", ())]
    found = []
    for label, item in items:
        values = item.pop("metadata_found", None)
        if values:
            item["metadata_count"] = len(values)
            found.append({"item": label, "name": item["name"], "file": item["file"], "metadata_found": values})
    return found


def _report_found(ref: str, found: list[dict[str, object]], out: Path, metadata_out: Path | None) -> None:
    """Say on stderr that the originals carried metadata, and write it to metadata_out (mode 0600) if asked."""
    if metadata_out is not None:
        text = dump_json({"case": ref, "warning": "SENSITIVE: the metadata of the originals (places, devices, "
                          "names); never hand this file on with the export", "files": found}) + "\n"
        with os.fdopen(os.open(metadata_out, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600), "w",
                       encoding="utf-8") as f:
            f.write(text)
    if not found:
        return
    kinds = sorted({str(label) for entry in found for label in entry["metadata_found"]})  # type: ignore[attr-defined]
    where = (f"written to {metadata_out} (SENSITIVE: keep it apart from {out})" if metadata_out else
             f"`show {ref}` prints them, or export again with --metadata-out FILE (outside {out})")
    echo(terminal_text(f"warning: the originals carried metadata ({', '.join(kinds[:8])}"
                       f"{', ...' if len(kinds) > 8 else ''}): its values are not in {out}; {where}"), err=True)


def export_thread(case: OpenCase, folder: Folder, keep_metadata: bool) -> list[dict[str, object]]:
    """The thread as `show` lists it, each opened message's files exported into DIR/thread/ (made if needed)."""
    entries: list[dict[str, object]] = []
    into: Folder | None = None
    for message in case.thread():
        entry = dict(message.shown)
        manifest = message.opened.body.attachments if message.opened else []
        if manifest:
            into = into or folder.folder(THREAD_FOLDER)
            entry["attachments"] = [
                export_file(item, i, message_file_name(message.message.seq, i, item.name),
                            case.message_plaintext(message, i), into, keep_metadata)
                for i, item in enumerate(manifest)]
        entries.append(entry)
    return entries


def _state(item: dict[str, object]) -> str:
    if item["file"] is None:
        return f"not exported ({item['error']})"
    if "not_cleaned" in item:
        return f"kept as it is ({item['not_cleaned']})"
    if item["metadata_left"]:
        return f"cleaned, but it still carries: {terminal_text(', '.join(item['metadata_left']))}"
    return "cleaned"


def export_attachment(case: OpenCase, idx: int, folder: Folder, keep_metadata: bool) -> dict[str, object]:
    """Export the report's attachment `idx` under its own safe name."""
    entry = case.report.body.attachments[idx]
    return export_file(entry, idx, file_name(entry.name, idx), case.plaintext(idx), folder, keep_metadata)


def export_file(entry: ManifestEntry, idx: int, name: str, plaintext: Iterator[bytes], folder: Folder,
                keep_metadata: bool) -> dict[str, object]:
    """Decrypt one file into the folder as `name`, verify it, then clean it unless asked to keep it."""
    item: dict[str, object] = {"index": idx + 1, "name": entry.name, "file": None, "type": entry.type,
                               "size": entry.size, "sha256": entry.sha256, "cleaned": False}
    if entry.original_sha256 is not None:
        item["original_sha256"] = entry.original_sha256
    name, final_fd = folder.create_unique(name)
    stage = f".intake-partial-{secrets.token_hex(8)}"
    head = b""
    try:
        with os.fdopen(folder.create(stage), "wb") as f, progress(entry.size, name) as advance:
            for chunk in plaintext:
                head = head or chunk[:16]
                f.write(chunk)
                advance(len(chunk))
    except BaseException as exc:
        os.close(final_fd)
        folder.remove(stage)
        folder.remove(name)
        if not isinstance(exc, CryptoError):
            raise
        item["error"] = f"{exc.expect}: {exc}"
        return item
    item.update(file=folder.prefix + name, detected_type=sniff(head))
    if keep_metadata:
        os.close(final_fd)
        folder.rename(stage, name)
        item["not_cleaned"] = "--keep-metadata: the original, byte for byte"
        return item
    _clean_into(item, folder, stage, name, final_fd)
    return item


def _clean_into(item: dict[str, object], folder: Folder, stage: str, name: str, final_fd: int) -> None:
    """Clean the staged plaintext in a bounded child process; keep it as it is when that fails, saying why."""
    kind, size = item["detected_type"], int(item["size"])
    try:
        if has_reader(kind) and size <= MAX_CLEAN:
            with os.fdopen(folder.open(stage), "rb") as src:
                result = inspect(src.read(), str(kind), clean=kind in CLEANABLE)
            item["metadata_found"] = result.found
        check_cleanable(kind, size)
        if result.cleaned is None:
            raise CannotClean(result.not_cleaned)
    except CannotClean as exc:
        os.close(final_fd)
        item["not_cleaned"] = str(exc)
        folder.rename(stage, name)
        return
    with os.fdopen(final_fd, "wb") as dst:
        dst.write(result.cleaned)
    folder.remove(stage)
    item["exported_sha256"] = hashlib.sha256(result.cleaned).hexdigest()
    item["metadata_left"] = result.left or {}
    item["cleaned"] = True
