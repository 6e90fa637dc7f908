"""`intake-review export`: report.json and each attachment into DIR, checked, cleaned, never overwriting."""

from __future__ import annotations

import hashlib
import os
import secrets
from pathlib import Path

from intake.crypto.errors import CryptoError
from intake.review.clean import CLEANABLE, MAX_CLEAN, CannotClean, check_cleanable
from intake.review.errors import DAMAGED_CASE, ReviewError
from intake.review.listing import dump_json
from intake.review.metadata import sniff
from intake.review.names import file_name, numbered, terminal_text
from intake.review.opening import OpenCase, open_case
from intake.review.progress import progress
from intake.review.sandbox import inspect, limits
from intake.review.session import Session
from intake.review.terminal import echo

CREATE = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | getattr(os, "O_CLOEXEC", 0)
MAX_TRIES = 1000


class Folder:
    """The export folder, held open so that every file is created inside it and nothing is overwritten."""

    def __init__(self, path: Path) -> None:
        self.made_folder = not path.exists()
        self.made: list[str] = []
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
        self.made.append(name)
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
        self.made.remove(name)

    def rename(self, old: str, new: str) -> None:
        """Move a file of the folder onto a name this export created."""
        os.replace(old, new, src_dir_fd=self.fd, dst_dir_fd=self.fd)
        self.made.remove(old)

    def discard(self) -> None:
        """Remove every file this export made (and the folder, if it made it): nothing partial stays."""
        for name in reversed(self.made):
            try:
                os.unlink(name, dir_fd=self.fd)
            except FileNotFoundError:
                pass
        self.made.clear()
        os.close(self.fd)
        if self.made_folder:
            try:
                self.path.rmdir()
            except OSError:
                pass


def export_case(session: Session, ref: str, out: Path, keep_metadata: bool) -> None:
    """Export one case into `out`; exit with the damaged-case code if an attachment failed its check."""
    limits()
    case = open_case(session, ref)
    folder = Folder(out)
    try:
        report_fd = folder.create("report.json")
    except FileExistsError:
        raise ReviewError(f"{out} already holds a report.json", "export each case into its own empty folder") from None
    handed = False
    try:
        files = [export_attachment(case, i, folder, keep_metadata) for i in range(len(case.case.lengths))]
        text = dump_json({**case.summary(), "attachments": files, "notes": case.notes()}) + "\n"
        handed = True
        with os.fdopen(report_fd, "w", encoding="utf-8") as f:
            f.write(text)
    except BaseException:
        if not handed:
            os.close(report_fd)
        folder.discard()
        raise
    for item in files:
        where = out / str(item["file"]) if item["file"] else f"attachment {item['index']}"
        echo(terminal_text(f"{where}: {_state(item)}"), err=True)
    echo(terminal_text(f"exported case {case.case.ref} into {out}"), err=True)
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
    """Clean the staged plaintext in a bounded child process; keep it as it is when that fails, saying why."""
    kind, size = item["detected_type"], int(item["size"])
    try:
        if kind and size <= MAX_CLEAN:
            with os.fdopen(folder.open(stage), "rb") as src:
                result = inspect(src.read(), str(kind), clean=kind in CLEANABLE)
            item["metadata_found"] = result.found
        check_cleanable(kind, size)
        if result.cleaned is None:
            raise CannotClean(result.not_cleaned)
    except CannotClean as exc:
        os.close(final_fd)
        item["not_cleaned"] = str(exc)
        folder.rename(stage, str(item["file"]))
        return
    with os.fdopen(final_fd, "wb") as dst:
        dst.write(result.cleaned)
    folder.remove(stage)
    item["exported_sha256"] = hashlib.sha256(result.cleaned).hexdigest()
    item["metadata_left"] = result.left or {}
    item["cleaned"] = True
