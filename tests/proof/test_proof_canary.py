"""The canary search itself: it finds every encoding it claims to, anywhere in a file, across read boundaries."""

from __future__ import annotations

import base64
import random
from pathlib import Path

import pytest

from tests.support.canary import READ, hits, needles, new_canary


def encodings(canary: str) -> dict[str, bytes]:
    """The canary written down in each way a careless program might."""
    raw = canary.encode()
    return {"plain": raw, "utf-16-le": canary.encode("utf-16-le"), "utf-16-be": canary.encode("utf-16-be"),
            "hex": raw.hex().encode(), "HEX": raw.hex().upper().encode(),
            **{f"base64 after {n}": base64.b64encode(b"x" * n + raw + b"tail") for n in range(3)},
            **{f"base64url after {n}": base64.urlsafe_b64encode(b"\xfb" * n + raw) for n in range(3)}}


@pytest.mark.parametrize("where", [0, READ - 7, 3 * READ // 2])
def test_every_encoding_found(tmp_path: Path, where: int) -> None:
    """Each encoding is found at the start, across the read boundary and further on; a clean file has no hit."""
    canary = new_canary("t")
    rng = random.Random(where)
    for name, blob in encodings(canary).items():
        path = tmp_path / "blob"
        path.write_bytes(rng.randbytes(where) + blob + rng.randbytes(1000))
        assert hits([tmp_path], [canary]), name
    path.write_bytes(rng.randbytes(2 * READ))
    assert hits([tmp_path], [canary]) == []
    assert hits([], [canary], {"log": b"..." + canary.encode("utf-16-be")}) == [f"log: utf-16-be of {canary}"]
    assert len(needles(canary)) == 11
