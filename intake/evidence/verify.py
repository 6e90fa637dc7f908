"""`intake-review verify DIR`: check an evidence package offline, naming every file that changed."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path, PurePosixPath

from intake.evidence.custody import chain, link
from intake.evidence.package import ALLOWED, MANIFEST, SIGNATURE, SIGNER, SUMS
from intake.evidence.signing import SigningError, allowed_signers, fingerprint, verify
from intake.evidence.verifyanchor import anchor_files, check_anchor
from intake.review.errors import DAMAGED_CASE, ReviewError

MAX_MANIFEST = 64 << 20
MAX_SMALL = 64 << 10


def verify_package(folder: Path, key: str | None = None, tsa_ca: bytes | None = None) -> tuple[str, list[str]]:
    """Check the signature, every listed file, the custody chain and the anchor; return the signer's fingerprint
    and what was said of the anchor (what it proves, a check it could not do), or raise a ReviewError listing
    what is wrong (the manifest, the signature, which file, the anchor's proof or timestamp)."""
    problems: list[str] = []
    data = _read(folder / MANIFEST, MAX_MANIFEST)
    if not (folder / SIGNATURE).is_file():  # ssh-keygen would wait on a pipe or a device
        problems.append(f"{SIGNATURE}: missing or not a file")
    line = key or _read(folder / SIGNER, 4096).decode("ascii", "replace").strip()
    try:
        signer = fingerprint(line)
        if not problems:
            verify(allowed_signers(line), data, folder / SIGNATURE)
    except SigningError as exc:
        problems.append(f"{MANIFEST} / {SIGNATURE}: {exc.message} (one of them changed since it was signed, or "
                        "another key signed it)")
        signer = "?"
    try:
        manifest = json.loads(data)
        files = manifest["files"]
        expected = {str(f[k]["path"]): str(f[k]["sha256"]) for f in files for k in ("evidentiary_copy", "working_copy")
                    if f.get(k)}
        expected[SUMS] = str(manifest["package_files"][SUMS])
        expected |= anchor_files(manifest)
    except (ValueError, KeyError, TypeError, AttributeError, RecursionError) as exc:
        raise ReviewError(f"{folder / MANIFEST} is not an evidence manifest ({type(exc).__name__})",
                          "ask for the package again: it was changed or cut", DAMAGED_CASE) from None
    for path, sha in expected.items():
        problems += _check(folder, path, sha)
    problems += _sums(folder, expected)
    present = {p.relative_to(folder).as_posix() for p in folder.rglob("*") if not p.is_dir()}
    known = {*expected, MANIFEST, SIGNATURE}
    problems += [f"{p}: not in the manifest (added after signing)" for p in sorted(present - known)]
    problems += _chain(manifest.get("custody"))
    try:
        wrong, said = check_anchor(manifest, lambda path: _small(folder, path), tsa_ca)
    except (KeyError, TypeError, ValueError, AttributeError):
        wrong, said = ["anchor: malformed"], []
    problems += wrong
    if problems:
        raise ReviewError(f"package {folder} does not verify: " + "; ".join(problems),
                          "do not rely on it: ask for the package again from who made it", DAMAGED_CASE)
    return signer, said


def _read(path: Path, limit: int) -> bytes:
    if not path.is_file():  # a pipe or a device would block or never end
        raise ReviewError(f"cannot read {path}: {'not a file' if path.exists() else 'no such file'}",
                          "give the folder the package was written to", DAMAGED_CASE)
    try:
        with path.open("rb") as f:
            data = f.read(limit + 1)
    except OSError as exc:
        raise ReviewError(f"cannot read {path}: {exc.strerror}", "give the folder the package was written to",
                          DAMAGED_CASE) from None
    if len(data) > limit:
        raise ReviewError(f"{path} is larger than an evidence package's can be", "ask for the package again",
                          DAMAGED_CASE)
    return data


def _inside(folder: Path, path: str) -> Path | None:
    """The file a manifest path names, or None when it would leave the folder (.., absolute, a link)."""
    parts = PurePosixPath(path).parts
    if not parts or PurePosixPath(path).is_absolute() or ".." in parts or "\\" in path:
        return None
    target = folder.joinpath(*parts)
    return target if target.resolve().is_relative_to(folder.resolve()) and not target.is_symlink() else None


def _small(folder: Path, path: str) -> bytes | None:
    """An anchor file's bytes (at most 64 KiB and one), or None when it is missing or outside the package."""
    target = _inside(folder, path)
    if target is None or not target.is_file():
        return None
    with target.open("rb") as f:
        return f.read(MAX_SMALL + 1)


def _check(folder: Path, path: str, sha: str) -> list[str]:
    target = _inside(folder, path)
    if target is None:
        return [f"{path!r}: the manifest names a file outside the package"]
    if not target.is_file():
        return [f"{path}: missing"]
    digest = hashlib.sha256()
    with target.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return [] if digest.hexdigest() == sha else [f"{path}: changed (its SHA-256 differs from the manifest)"]


def _sums(folder: Path, expected: dict[str, str]) -> list[str]:
    """SHA256SUMS (checked above against the manifest) names every other file with its hash."""
    problems = []
    if not (folder / SUMS).is_file():
        return []  # already named by _check (a pipe would never end)
    try:
        lines = (folder / SUMS).read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError):
        return []  # already named by _check
    for row in lines:
        sha, _, path = row.partition("  ")
        if path in expected and expected[path] != sha:
            problems.append(f"{SUMS}: its line for {path} differs from the manifest")
        elif path not in expected and path not in (SIGNER, ALLOWED, "VERIFY.txt", "summary.html"):
            problems.append(f"{SUMS}: names {path!r}, which the manifest does not")
        elif path not in expected:
            expected[path] = sha
            problems += _check(folder, path, sha)
    return problems


def _chain(custody: object) -> list[str]:
    """Recompute the custody record's links (sha256 of each entry) and what each continues (custody.chain)."""
    try:
        entries = custody["entries"]  # type: ignore[index]
        for n, entry in enumerate(entries, 1):
            if entry["link"] != link(entry):
                return [f"custody record: entry {n} was changed (its link is not the SHA-256 of its members)"]
        return [f"custody record: {p}" for p in chain(entries)[0]]
    except (KeyError, TypeError, ValueError, AttributeError, RecursionError):
        return ["custody record: malformed"]
