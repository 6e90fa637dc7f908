"""docs/format.md §7: attachment streams, their lengths, damage and truncation."""

from __future__ import annotations

import os

import pytest

from intake.crypto.errors import DamagedAttachment, TruncatedAttachment
from intake.crypto.stream import (
    CHUNK,
    HEADER,
    SEALED_CHUNK,
    StreamSealer,
    open_stream,
    plain_size,
    seal_stream,
    sealed_length,
)

KEY = bytes(range(32))


@pytest.mark.parametrize("size", [0, 1, CHUNK - 1, CHUNK, CHUNK + 1, 5 * CHUNK, 5 * CHUNK + 77])
def test_sealed_length_formula_and_round_trip(size: int) -> None:
    """L = 24 + size + 17 * (size // 65536 + 1), and the stream opens to the same bytes (§7)."""
    data = os.urandom(size)
    sealed = b"".join(seal_stream(KEY, [data]))
    assert len(sealed) == sealed_length(size) == HEADER + size + 17 * (size // CHUNK + 1)
    assert plain_size(len(sealed)) == size
    assert b"".join(open_stream(KEY, [sealed], len(sealed))) == data


def test_plain_size_rejects_every_impossible_length() -> None:
    """Exactly the lengths of the form of §7 are accepted, for the first few chunks."""
    possible = {sealed_length(size) for size in range(3 * CHUNK + 10)}
    for length in range(0, sealed_length(3 * CHUNK + 9) + 1):
        assert (plain_size(length) is not None) == (length in possible)


def test_chunking_does_not_depend_on_how_data_arrives() -> None:
    """Pushing in odd pieces gives the same framing as one piece (§7)."""
    data = os.urandom(3 * CHUNK + 5)
    sealer = StreamSealer(KEY)
    pieces = [sealer.start()]
    for at in range(0, len(data), 1000):
        pieces.extend(sealer.push(data[at:at + 1000]))
    pieces.append(sealer.finish())
    sealed = b"".join(pieces)
    assert len(sealed) == sealed_length(len(data))
    assert [len(p) for p in pieces[1:]] == [SEALED_CHUNK] * 3 + [5 + 17]
    assert b"".join(open_stream(KEY, [sealed[i:i + 999] for i in range(0, len(sealed), 999)])) == data


def test_empty_file_is_one_empty_final_chunk() -> None:
    """An empty attachment is a header and one 17-byte final chunk (§7)."""
    sealed = b"".join(seal_stream(KEY, []))
    assert len(sealed) == HEADER + 17
    assert b"".join(open_stream(KEY, [sealed])) == b""


def test_damage_and_truncation_are_told_apart() -> None:
    """A flipped byte is damage; a missing final chunk or short length is truncation (§7)."""
    data = os.urandom(2 * CHUNK + 3)
    sealed = b"".join(seal_stream(KEY, [data]))
    flipped = sealed[:HEADER + 5] + bytes([sealed[HEADER + 5] ^ 1]) + sealed[HEADER + 6:]
    with pytest.raises(DamagedAttachment) as caught:
        list(open_stream(KEY, [flipped]))
    assert type(caught.value) is DamagedAttachment
    with pytest.raises(TruncatedAttachment):
        list(open_stream(KEY, [sealed[:HEADER + 2 * SEALED_CHUNK]]))
    with pytest.raises(TruncatedAttachment):
        list(open_stream(KEY, [sealed[:10]]))
    with pytest.raises(TruncatedAttachment):
        list(open_stream(KEY, [sealed[:-5]], len(sealed)))
    with pytest.raises(DamagedAttachment, match="longer"):
        list(open_stream(KEY, [sealed + b"x"], len(sealed)))
    with pytest.raises(DamagedAttachment):
        list(open_stream(bytes(32), [sealed]))


def test_data_after_final_chunk_is_damage() -> None:
    """Nothing may follow the final chunk (§7)."""
    sealed = b"".join(seal_stream(KEY, [b"abc"]))
    with pytest.raises(DamagedAttachment):
        list(open_stream(KEY, [sealed + sealed[HEADER:]]))


def test_sealer_refuses_push_after_finish() -> None:
    """A finished stream takes no more data."""
    sealer = StreamSealer(KEY)
    sealer.start()
    sealer.finish()
    with pytest.raises(ValueError, match="finished"):
        list(sealer.push(b"x"))
