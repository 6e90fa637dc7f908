"""Hostile sealed reports: every mutation an attacker can make is a named failure, never a crash."""

from __future__ import annotations

import io
import struct

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from intake.crypto.container import write_envelope
from intake.crypto.envelope import parse_header
from intake.crypto.errors import CryptoError
from intake.crypto.keys import Identity
from intake.crypto.report import seal_report
from intake.crypto.stream import CHUNK, HEADER, SEALED_CHUNK
from tests.support.vectorfile import open_envelope

ME = Identity.generate()
OTHERS = [Identity.generate() for _ in range(2)]
REPORT = seal_report([ME.recipient, *(o.recipient for o in OTHERS)], {"description": "hostile"},
                     [("a", "t", [bytes(range(256)) * 1024]), ("b", "t", [b"tiny"])])
CHUNKS = [REPORT.streams[0][HEADER + i * SEALED_CHUNK:HEADER + (i + 1) * SEALED_CHUNK]
          for i in range(-(-(len(REPORT.streams[0]) - HEADER) // SEALED_CHUNK))]


def serialise(header: bytes, body: bytes, streams: list[bytes], count: int | None = None) -> bytes:
    """A sealed report file (format.md §8), with an optionally lying attachment count."""
    out = io.BytesIO()
    write_envelope(out, header, body, [(len(s), [s]) for s in streams])
    data = out.getvalue()
    if count is not None:
        at = len(header) + 4 + len(body)
        data = data[:at] + bytes([count % 256]) + data[at + 1:]
    return data


ORIGINAL = serialise(REPORT.header, REPORT.body, list(REPORT.streams))


def assert_refused(data: bytes) -> None:
    """The mutated file must fail with a named error (success only if it is the original)."""
    try:
        open_envelope(data, [ME])
    except CryptoError:
        return
    assert data == ORIGINAL, "a mutated sealed report was accepted"


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.data())
def test_byte_edits(data: st.DataObject) -> None:
    """Flipped, inserted and deleted bytes anywhere."""
    blob = bytearray(ORIGINAL)
    for _ in range(data.draw(st.integers(1, 4))):
        at = data.draw(st.integers(0, len(blob) - 1))
        action = data.draw(st.sampled_from(["flip", "insert", "delete", "set"]))
        if action == "flip":
            blob[at] ^= 1 << data.draw(st.integers(0, 7))
        elif action == "insert":
            blob[at:at] = data.draw(st.binary(min_size=1, max_size=40))
        elif action == "delete":
            del blob[at:at + data.draw(st.integers(1, 40))]
        else:
            blob[at] = data.draw(st.integers(0, 255))
    assert_refused(bytes(blob))


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(version=st.integers(0, 255), count=st.integers(0, 255), extra=st.binary(max_size=200))
def test_header_fields_varied(version: int, count: int, extra: bytes) -> None:
    """Any version, stanza count and header length other than the sealed ones is refused."""
    header = REPORT.header[:4] + bytes([version, count]) + REPORT.header[6:] + extra
    try:
        parse_header(header)
    except CryptoError:
        return
    assert_refused(serialise(header, REPORT.body, list(REPORT.streams)))


@settings(max_examples=60, deadline=None)
@given(order=st.permutations(range(len(CHUNKS))), drop=st.sets(st.integers(0, len(CHUNKS) - 1), max_size=2),
       repeat=st.lists(st.integers(0, len(CHUNKS) - 1), max_size=2))
def test_chunks_reordered_dropped_repeated(order: list[int], drop: set[int], repeat: list[int]) -> None:
    """Reordering, dropping or repeating sealed chunks of a stream is never accepted."""
    chosen = [i for i in order if i not in drop] + repeat
    stream = REPORT.streams[0][:HEADER] + b"".join(CHUNKS[i] for i in chosen)
    assert_refused(serialise(REPORT.header, REPORT.body, [stream, REPORT.streams[1]]))


@pytest.mark.parametrize("count", [0, 1, 3, 32, 33, 255])
def test_attachment_count_lies(count: int) -> None:
    """A count that disagrees with the streams or the manifest is refused."""
    assert_refused(serialise(REPORT.header, REPORT.body, list(REPORT.streams), count))


@pytest.mark.parametrize("body_length", [0, 1, 1063, 1065, 1 << 20, (1 << 32) - 1])
def test_body_length_lies(body_length: int) -> None:
    """A body length field that does not match is refused."""
    at = len(REPORT.header)
    assert_refused(ORIGINAL[:at] + struct.pack(">I", body_length) + ORIGINAL[at + 4:])


def test_streams_swapped_between_attachments() -> None:
    """Attachment streams are bound to their index: swapping them is detected."""
    assert_refused(serialise(REPORT.header, REPORT.body, [REPORT.streams[1], REPORT.streams[0]]))


def test_body_and_streams_from_another_report() -> None:
    """Parts of two reports cannot be mixed: each is bound to its own K."""
    other = seal_report([ME.recipient], {"description": "other"}, [("a", "t", [b"x" * CHUNK]), ("b", "t", [b"y"])])
    assert_refused(serialise(REPORT.header, other.body, list(REPORT.streams)))
    assert_refused(serialise(REPORT.header, REPORT.body, [other.streams[0], REPORT.streams[1]]))
    assert_refused(serialise(other.header, REPORT.body, list(REPORT.streams)))
