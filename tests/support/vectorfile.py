"""Reading the language-neutral vector files of tests/vectors (see generate.py there)."""

from __future__ import annotations

import io
import json
from dataclasses import dataclass
from pathlib import Path

from intake.crypto.container import read_envelope, stream_parts
from intake.crypto.keys import Identity
from intake.crypto.report import open_report
from tests.support import VECTORS


@dataclass(frozen=True)
class Vector:
    """One vector: what it expects, the identities to open it with, and the sealed bytes."""

    name: str
    expect: str
    identities: list[Identity]
    body: dict | None
    data: bytes


def load(path: Path) -> Vector:
    """Parse a vector file: `key: value` lines, a blank line, then the sealed report file."""
    head, data = path.read_bytes().split(b"\n\n", 1)
    pairs = [line.split(": ", 1) for line in head.decode().splitlines()]
    values = {k: v for k, v in pairs}
    identities = [Identity.parse(v) for k, v in pairs if k == "identity"]
    body = json.loads(values["body"]) if "body" in values else None
    return Vector(path.stem, values["expect"], identities, body, data)


def all_vectors() -> list[Vector]:
    """Every vector file, in name order."""
    return [load(p) for p in sorted(VECTORS.glob("*.vec"))]


def open_envelope(data: bytes, identities: list[Identity]) -> tuple[dict, list[bytes]]:
    """Open a whole sealed report file: return the body as JSON and every attachment's plaintext."""
    f = io.BytesIO(data)
    env = read_envelope(f)
    report = open_report(env.header, env.body, len(env.streams), identities)
    files = [b"".join(report.attachment(i, stream_parts(f, off, n), n)) for i, (off, n) in enumerate(env.streams)]
    return json.loads(report.body.to_json()), files
