"""The export folder: every file created inside the open folder, nothing overwritten, nothing partial left."""

from __future__ import annotations

import os
from pathlib import Path

from intake.review.errors import ReviewError
from intake.review.names import numbered

CREATE = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | getattr(os, "O_CLOEXEC", 0)
DIRECTORY = os.O_RDONLY | os.O_DIRECTORY | getattr(os, "O_CLOEXEC", 0)
MAX_TRIES = 1000


class Folder:
    """A folder held open, so that every file is created inside it and nothing is overwritten."""

    def __init__(self, path: Path, fd: int, made_folder: bool, parent: Folder | None = None) -> None:
        self.path, self.fd, self.made_folder, self.parent = path, fd, made_folder, parent
        self.made: list[str] = []
        self.used: set[str] = set()
        self.subfolders: list[Folder] = []

    @classmethod
    def at(cls, path: Path) -> Folder:
        """Open the export folder `path`, making it (mode 0700) if it is missing."""
        made = not path.exists()
        try:
            path.mkdir(mode=0o700, parents=True, exist_ok=True)
            return cls(path, os.open(path, DIRECTORY), made)
        except OSError as exc:
            raise ReviewError(f"cannot use {path} as the export folder: {exc.strerror}",
                              "give --out a folder you can write to") from None

    @property
    def prefix(self) -> str:
        """How the files of this folder are named from the export folder: '' or 'thread/'."""
        return "" if self.parent is None else f"{self.parent.prefix}{self.path.name}/"

    def folder(self, name: str) -> Folder:
        """The subfolder `name`, made if missing and never reached through a symlink; discarded with this one."""
        made = False
        try:
            try:
                os.mkdir(name, 0o700, dir_fd=self.fd)
                made = True
            except FileExistsError:
                pass
            sub = Folder(self.path / name, os.open(name, DIRECTORY | os.O_NOFOLLOW, dir_fd=self.fd), made, self)
        except OSError as exc:
            raise ReviewError(f"cannot use {self.path / name} for the exported files: {exc.strerror}",
                              "export each case into its own empty folder") from None
        self.subfolders.append(sub)
        return sub

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
        """Remove every file this export made (and each folder it made): nothing partial stays."""
        for sub in self.subfolders:
            sub.discard()
        for name in reversed(self.made):
            try:
                os.unlink(name, dir_fd=self.fd)
            except FileNotFoundError:
                pass
        self.made.clear()
        os.close(self.fd)
        if not self.made_folder:
            return
        try:
            if self.parent is None:
                self.path.rmdir()
            else:
                os.rmdir(self.path.name, dir_fd=self.parent.fd)
        except OSError:
            pass
