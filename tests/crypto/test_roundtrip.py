"""Whole reports: round trips of every size and recipient count, bit flips, and properties."""

from __future__ import annotations

import hashlib
import io
import os

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from intake.crypto.container import write_envelope
from intake.crypto.errors import CryptoError, NoMatchingIdentity, TruncatedAttachment
from intake.crypto.keys import Identity
from intake.crypto.report import open_report, seal_report
from intake.crypto.stream import CHUNK
from tests.support.vectorfile import open_envelope

PEOPLE = [Identity.generate() for _ in range(5)]


def to_file(report) -> bytes:
    """Serialise a sealed report (format.md §8)."""
    out = io.BytesIO()
    write_envelope(out, report.header, report.body, [(len(s), [s]) for s in report.streams])
    return out.getvalue()


@pytest.mark.parametrize("size", [0, 1, CHUNK, CHUNK + 1])
@pytest.mark.parametrize("recipients", [1, 2, 3, 4, 5])
def test_round_trip(size: int, recipients: int) -> None:
    """Every recipient opens the report and its attachment; a stranger gets no match."""
    data = os.urandom(size)
    report = seal_report([p.recipient for p in PEOPLE[:recipients]], {"description": "d"}, [("f", "t", [data])])
    for person in PEOPLE[:recipients]:
        body, files = open_envelope(to_file(report), [person])
        assert files == [data]
        assert body["fields"] == {"description": "d"}
    with pytest.raises(NoMatchingIdentity):
        open_envelope(to_file(report), [Identity.generate()])


@pytest.mark.slow
def test_round_trip_50_mib_streams_in_parts() -> None:
    """A 50 MiB attachment seals and opens as streams of 1 MiB parts."""
    block = os.urandom(1 << 20)
    report = seal_report([PEOPLE[0].recipient], {}, [("big", "video/mp4", (block for _ in range(50)))])
    opened = open_report(report.header, report.body, 1, [PEOPLE[0]])
    stream = report.streams[0]
    digest, size = hashlib.sha256(), 0
    for plain in opened.attachment(0, (stream[i:i + (1 << 20)] for i in range(0, len(stream), 1 << 20)), len(stream)):
        digest.update(plain)
        size += len(plain)
    assert size == 50 << 20
    assert digest.hexdigest() == hashlib.sha256(block * 50).hexdigest()


@pytest.mark.slow
def test_every_single_bit_flip_is_detected() -> None:
    """Flipping any one bit of a small sealed report file gives a named failure, never success."""
    report = seal_report([PEOPLE[0].recipient, PEOPLE[1].recipient], {"description": "flip"},
                         [("a", "t", [b"abc"])])
    data = to_file(report)
    kinds = set()
    for at in range(len(data)):
        for bit in range(8):
            flipped = data[:at] + bytes([data[at] ^ (1 << bit)]) + data[at + 1:]
            with pytest.raises(CryptoError) as caught:
                open_envelope(flipped, [PEOPLE[0]])
            kinds.add(caught.value.expect)
    assert {"malformed header", "unsupported version", "header mac", "no match", "damaged body",
            "damaged attachment"} <= kinds


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(fields=st.dictionaries(st.text(max_size=20), st.text(max_size=200), max_size=6),
       files=st.lists(st.binary(max_size=3 * CHUNK), max_size=3),
       recipients=st.integers(min_value=1, max_value=5))
def test_property_round_trip(fields: dict[str, str], files: list[bytes], recipients: int) -> None:
    """Any fields and files round-trip for any recipient."""
    report = seal_report([p.recipient for p in PEOPLE[:recipients]], fields,
                         [(str(i), "application/octet-stream", [f]) for i, f in enumerate(files)])
    body, opened = open_envelope(to_file(report), [PEOPLE[recipients - 1]])
    assert body["fields"] == fields
    assert opened == files


@settings(max_examples=60, deadline=None)
@given(data=st.data())
def test_property_truncation_is_never_accepted(data: st.DataObject) -> None:
    """Cutting a sealed report file anywhere before its end is always a named failure."""
    report = seal_report([PEOPLE[0].recipient], {"d": "x"}, [("a", "t", [os.urandom(CHUNK + 10)])])
    whole = to_file(report)
    cut = data.draw(st.integers(min_value=0, max_value=len(whole) - 1))
    with pytest.raises(CryptoError):
        open_envelope(whole[:cut], [PEOPLE[0]])


def test_truncated_stream_in_file_is_truncated_attachment() -> None:
    """A file cut inside its last stream reports a truncated attachment."""
    report = seal_report([PEOPLE[0].recipient], {}, [("a", "t", [os.urandom(CHUNK * 2)])])
    with pytest.raises(TruncatedAttachment):
        open_envelope(to_file(report)[:-1], [PEOPLE[0]])
