"""A random canary and every way it could be written down: plain, UTF-16, base64 at each alignment, hex."""

from __future__ import annotations

import base64
import secrets
import tempfile
from pathlib import Path

READ = 1 << 20


def new_canary(kind: str) -> str:
    """A random marker that occurs nowhere by chance."""
    return f"cnry{kind}{secrets.token_hex(12)}"


def _base64_cores(data: bytes) -> list[tuple[str, bytes]]:
    """The base64 text that `data` produces wherever it starts, minus the groups it shares with its neighbours."""
    found = []
    for shift in range(3):
        text = base64.b64encode(bytes(shift) + data)
        core = text[4 if shift else 0:-4]
        found += [(f"base64+{shift}", core), (f"base64url+{shift}", core.replace(b"+", b"-").replace(b"/", b"_"))]
    return found


def needles(canary: str) -> list[tuple[str, bytes]]:
    """Every encoding of `canary` searched for: (label, bytes)."""
    raw = canary.encode()
    return [("plain", raw), ("utf-16-le", canary.encode("utf-16-le")), ("utf-16-be", canary.encode("utf-16-be")),
            ("hex", raw.hex().encode()), ("HEX", raw.hex().upper().encode()), *_base64_cores(raw)]


def _files(roots: list[Path]) -> list[Path]:
    found = []
    for root in roots:
        if root.is_file():
            found.append(root)
        elif root.is_dir():
            found += [p for p in root.rglob("*") if p.is_file() and not p.is_symlink()]
    return found


def hits(roots: list[Path], canaries: list[str], extra: dict[str, bytes] | None = None) -> list[str]:
    """Where any encoding of any canary occurs in the files under `roots` or in the named `extra` blobs."""
    searched = [(c, label, needle) for c in canaries for label, needle in needles(c)]
    overlap = max(len(n) for _, _, n in searched)
    found = []
    for name, blob in (extra or {}).items():
        found += [f"{name}: {label} of {c}" for c, label, needle in searched if needle in blob]
    for path in _files(roots):
        try:
            with path.open("rb") as f:
                tail = b""
                while chunk := f.read(READ):
                    window = tail + chunk
                    found += [f"{path}: {label} of {c}" for c, label, needle in searched if needle in window]
                    tail = window[-overlap:]
        except OSError:
            continue
    return sorted(set(found))


def temp_entries() -> set[Path]:
    """The entries of the system temp folder now (to find those a test created)."""
    root = Path(tempfile.gettempdir())
    try:
        return set(root.iterdir())
    except OSError:
        return set()
