"""`intake-review export`: report.json and each attachment into DIR, checked, cleaned, never overwriting."""

from __future__ import annotations

import hashlib
import json
import os
import secrets
from pathlib import Path

from intake.crypto.errors import CryptoError
from intake.review.clean import CannotClean, clean
from intake.review.errors import DAMAGED_CASE, ReviewError
from intake.review.metadata import describe, sniff
from intake.review.names import file_name, numbered, terminal_text
from intake.review.opening import OpenCase, open_case
from intake.review.progress import progress
from intake.review.session import Session
from intake.review.terminal import echo

CREATE = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | getattr(os, "O_CLOEXEC", 0)
MAX_TRIES = 1000


class Folder:
    """The export folder, held open so that every file is created inside it and nothing is overwritten."""

    def __init__(self, path: Path) -> None:
        try:
            path.mkdir(mode=0o700, parents=True, exist_ok=True)
            self.fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
        except OSError as exc:
            raise ReviewError(f"cannot use {path} as the export folder: {exc.strerror}",
                              "give --out a folder you can write to") from None
        self.path = path
        self.used: set[str] = set()

    def create(self, name: str) -> int:
        """Create a new file `name` (mode 0600), failing if anything, even a symlink, has that name."""
        fd = os.open(name, CREATE, 0o600, dir_fd=self.fd)
        self.used.add(name.casefold())
        return fd

    def create_unique(self, name: str) -> tuple[str, int]:
        """Create `name`, or `name (2)`, `name (3)`..., whichever is free first."""
        for n in range(1, MAX_TRIES):
            candidate = name if n == 1 else numbered(name, n)
            if candidate.casefold() in self.used:
                continue
            try:
                return candidate, self.create(candidate)
            except FileExistsError:
                continue
        raise ReviewError(f"{self.path} already holds {MAX_TRIES} files named like {name}",
                          "export into an empty folder")

    def open(self, name: str) -> int:
        """Open a file of the folder for reading."""
        return os.open(name, os.O_RDONLY | os.O_NOFOLLOW, dir_fd=self.fd)

    def remove(self, name: str) -> None:
        """Remove a file of the folder."""
        os.unlink(name, dir_fd=self.fd)

    def rename(self, old: str, new: str) -> None:
        """Move a file of the folder onto a name this export created."""
        os.replace(old, new, src_dir_fd=self.fd, dst_dir_fd=self.fd)


def export_case(session: Session, ref: str, out: Path, keep_metadata: bool) -> None:
    """Export one case into `out`; exit with the damaged-case code if an attachment failed its check."""
    case = open_case(session, ref)
    folder = Folder(out)
    try:
        report_fd = folder.create("report.json")
    except FileExistsError:
        raise ReviewError(f"{out} already holds a report.json", "export each case into its own empty folder") from None
    files = [export_attachment(case, i, folder, keep_metadata) for i in range(len(case.case.lengths))]
    data = {**case.summary(), "attachments": files, "notes": case.notes()}
    with os.fdopen(report_fd, "w", encoding="utf-8") as f:
        f.write(json.dumps(data, indent=2, ensure_ascii=False) + "\n")
    for item in files:
        echo(f"{out / item['file'] if item['file'] else 'attachment ' + str(item['index'])}: {_state(item)}",
                   err=True)
    echo(f"exported case {case.case.ref} into {out}", err=True)
    bad = [item for item in files if item["file"] is None]
    if bad:
        raise ReviewError(f"case {case.case.ref}: attachment {bad[0]['index']} is damaged ({bad[0]['error']}); "
                          "its partial file was removed", "restore the case from a backup or a fresh export",
                          DAMAGED_CASE)


def _state(item: dict[str, object]) -> str:
    if item["file"] is None:
        return f"not exported ({item['error']})"
    if "not_cleaned" in item:
        return f"kept as it is ({item['not_cleaned']})"
    if item["metadata_left"]:
        return f"cleaned, but it still carries: {terminal_text(', '.join(item['metadata_left']))}"
    return "cleaned"


def export_attachment(case: OpenCase, idx: int, folder: Folder, keep_metadata: bool) -> dict[str, object]:
    """Decrypt attachment `idx` into the folder, verify it, then clean it unless asked to keep it."""
    entry = case.report.body.attachments[idx]
    item: dict[str, object] = {"index": idx + 1, "name": entry.name, "file": None, "type": entry.type,
                               "size": entry.size, "sha256": entry.sha256, "cleaned": False}
    name, final_fd = folder.create_unique(file_name(entry.name, idx))
    stage = f".intake-partial-{secrets.token_hex(8)}"
    head = b""
    try:
        with os.fdopen(folder.create(stage), "wb") as f, progress(entry.size, name) as advance:
            for chunk in case.plaintext(idx):
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
    item.update(file=name, detected_type=sniff(head))
    if keep_metadata:
        os.close(final_fd)
        folder.rename(stage, name)
        item["not_cleaned"] = "--keep-metadata: the original, byte for byte"
        return item
    _clean_into(item, folder, stage, final_fd)
    return item


def _clean_into(item: dict[str, object], folder: Folder, stage: str, final_fd: int) -> None:
    with os.fdopen(folder.open(stage), "rb") as src:
        item["metadata_found"] = describe(src, item["detected_type"])
        src.seek(0)
        try:
            with os.fdopen(final_fd, "wb") as dst:
                clean(src, dst, item["detected_type"], int(item["size"]))
        except CannotClean as exc:
            item["not_cleaned"] = str(exc)
            folder.rename(stage, str(item["file"]))
            return
    folder.remove(stage)
    with os.fdopen(folder.open(str(item["file"])), "rb") as result:
        item["exported_sha256"] = hashlib.file_digest(result, "sha256").hexdigest()
        result.seek(0)
        item["metadata_left"] = describe(result, item["detected_type"])
    item["cleaned"] = True
