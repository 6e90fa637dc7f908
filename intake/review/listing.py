"""Output helpers of the reviewer's commands: JSON safe for a terminal, and sizes (triage/ lists the cases)."""

from __future__ import annotations

import json

from intake.review.names import safe_json


def dump_json(data: object) -> str:
    """JSON that keeps Khmer and Burmese readable but escapes every character that could drive a terminal."""
    return safe_json(json.dumps(data, indent=2, ensure_ascii=False))


def human_size(n: float) -> str:
    """A size in B, KiB, MiB or GiB."""
    for unit in ("B", "KiB", "MiB"):
        if n < 1024:
            return f"{int(n)} B" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024
    return f"{n:.1f} GiB"
