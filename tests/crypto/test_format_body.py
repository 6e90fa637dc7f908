"""The body JSON rules of docs/format.md §5.1 in Python: every input ends in a body or a ValueError, quickly."""

from __future__ import annotations

import json
import struct
import time

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from intake.crypto.bodyjson import MAX_DEPTH, check_depth
from intake.crypto.envelope import Body, open_body, padded_size, parse_body, seal_body
from intake.crypto.errors import DamagedBody
from intake.crypto.keys import Identity
from intake.crypto.stream import padme
from tests.vectors.generate import authentic_body

KEY = bytes(range(32))
VALID = b'{"version":2,"fields":{"a":"b"},"attachments":[],"reply_key":null}'
# Inputs near the 1 MiB limit that a careless scanner spends quadratic time or deep recursion on.
HOSTILE = {
    "escaped quotes": b'"' + b'\\"' * 500000,
    "backslashes": b'{"a":"' + b"\\" * 1000000,
    "open arrays": b"[" * 1000000,
    "open objects": b'{"a":' * 200000,
    "pairs": b"[]" * 500000,
    "quotes": b'"' * 1000000,
    "mixed": b'["\\"[' * 200000,
}


@pytest.mark.parametrize("name", sorted(HOSTILE))
def test_hostile_text_is_refused_in_bounded_time(name: str) -> None:
    """Each 1 MiB hostile text is a ValueError, in well under a second on an idle machine (10 s allowed)."""
    started = time.monotonic()
    with pytest.raises(ValueError):  # noqa: PT011 (the message varies with the rule that fails)
        parse_body(HOSTILE[name])
    assert time.monotonic() - started < 10


def test_depth_limit_is_exact() -> None:
    """Depth 16 passes, 17 fails, brackets inside strings do not count."""
    check_depth(b"[" * MAX_DEPTH + b"]" * MAX_DEPTH)
    check_depth(b'["' + b"[" * 100 + b'"]')
    with pytest.raises(ValueError, match="nested more than 16"):
        check_depth(b"[" * (MAX_DEPTH + 1) + b"]" * (MAX_DEPTH + 1))


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=300) | st.text(max_size=300).map(lambda t: t.encode("utf-8", "surrogatepass")))
def test_any_bytes_give_a_body_or_damaged_body(data: bytes) -> None:
    """Opening an authentic body of any bytes never raises anything but DamagedBody."""
    padded = struct.pack(">I", len(data)) + data + bytes(padded_size(len(data)) - 4 - len(data))
    try:
        open_body(KEY, authentic_body(KEY, padded))
    except DamagedBody:
        pass


JSONISH = st.recursive(st.none() | st.booleans() | st.integers(-5, (1 << 54)) | st.floats() | st.text(max_size=8),
                       lambda kids: st.lists(kids, max_size=4) | st.dictionaries(st.text(max_size=4), kids, max_size=4),
                       max_leaves=20)


@settings(max_examples=300, deadline=None)
@given(st.dictionaries(st.sampled_from(["version", "fields", "attachments", "reply_key", "x"]), JSONISH))
def test_any_json_object_gives_a_body_or_value_error(members: dict[str, object]) -> None:
    """Any mix of members and values: a Body whose JSON round-trips, or ValueError."""
    text = json.dumps(members).encode()
    try:
        body = parse_body(text)
    except ValueError:
        return
    assert parse_body(body.to_json()) == body


def test_sealed_bodies_round_trip_with_every_version() -> None:
    """Writers write version 2; a version 1 body still opens as version 1."""
    reply = str(Identity.generate().recipient)
    for version in (1, 2):
        body = Body({"a": "b"}, [], reply, version)
        assert open_body(KEY, seal_body(KEY, body)) == body
    assert Body({}).version == 2


@pytest.mark.parametrize(("size", "padded"), [(0, 0), (1, 1), (2, 2), (3, 3), (9, 10), (100, 104), (1000, 1024),
                                              (65535, 65536), (1_000_000, 1_015_808), (1 << 32, 1 << 32)])
def test_padme_examples(size: int, padded: int) -> None:
    """Padmé sizes from the definition in §7.1."""
    assert padme(size) == padded


@given(st.integers(2, 1 << 32))
def test_padme_bounds(size: int) -> None:
    """padme(s) >= s, at most 12 % more, and a Padmé size pads to itself."""
    padded = padme(size)
    assert size <= padded <= size * 1.12
    assert padme(padded) == padded


def test_writer_replaces_lone_surrogates() -> None:
    """A lone surrogate given to the writer (argv decoded with surrogateescape can hold one) is sealed as U+FFFD."""
    body = Body({"note": "bad \udcff byte", "\ud800": "x"})
    assert open_body(KEY, seal_body(KEY, body)).fields == {"note": "bad \ufffd byte", "\ufffd": "x"}
