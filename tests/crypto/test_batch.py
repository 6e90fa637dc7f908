"""open_reports (crypto/batch.py) against open_report, report by report, on a hostile mix in any order."""

from __future__ import annotations

import random

import pytest

from intake.crypto.batch import open_reports
from intake.crypto.codename import derive_keys
from intake.crypto.envelope import BODY_KEY_ID, MAC_KEY_ID, STANZA_BYTES, derive, seal_header, seal_padded
from intake.crypto.keys import Identity, generichash
from intake.crypto.report import open_report, seal_report

ME, OTHER, STRANGER = (Identity.generate() for _ in range(3))
REPORTER = derive_keys("0" * 25, bytes(16)).identity
KEY = bytes(range(32))


def _flip(data: bytes, at: int) -> bytes:
    return data[:at] + bytes([data[at] ^ 1]) + data[at + 1:]


def _hostile_json(json: bytes) -> tuple[bytes, bytes, int]:
    """A report whose body, sealed under its own K, holds `json` as it is."""
    header = seal_header(KEY, [ME.recipient])
    return header, seal_padded(derive(KEY, BODY_KEY_ID), json), 0


def _wrong_thread() -> tuple[bytes, bytes, int]:
    """A version 2 header whose reporter's stanza is sealed to a key that is not the body's reply key."""
    report = seal_report([ME.recipient], {"a": "b"}, reply_key=str(REPORTER.recipient), report_key=KEY)
    stanza = seal_header(KEY, [STRANGER.recipient])[6:6 + STANZA_BYTES]
    signed = b"INTK\x02\x02" + stanza + report.header[6 + STANZA_BYTES:-32]
    return signed + generichash(32, signed, derive(KEY, MAC_KEY_ID)), report.body, 0


def _mix() -> list[tuple[str, tuple[bytes, bytes, int]]]:
    good = seal_report([OTHER.recipient, ME.recipient], {"description": "good"})
    files = seal_report([ME.recipient], {"description": "with a file"}, [("a.txt", "text/plain", [b"x"])])
    replied = seal_report([ME.recipient], {"a": "b"}, reply_key=str(REPORTER.recipient))
    at = 6 + STANZA_BYTES + 16  # the sealed K of ME's stanza in `good`
    return [
        ("good", (good.header, good.body, 0)),
        ("good, with a file", (files.header, files.body, 1)),
        ("reporter's stanza", (replied.header, replied.body, 0)),
        ("not mine", (seal_report([STRANGER.recipient], {}).header, good.body, 0)),
        ("my stanza damaged", (_flip(good.header, at), good.body, 0)),
        ("MAC damaged", (_flip(good.header, len(good.header) - 1), good.body, 0)),
        ("magic", (b"XNTK" + good.header[4:], good.body, 0)),
        ("version", (good.header[:4] + b"\x09" + good.header[5:], good.body, 0)),
        ("cut short", (good.header[:-1], good.body, 0)),
        ("empty", (b"", b"", 0)),
        ("body damaged", (good.header, _flip(good.body, 40), 0)),
        ("body of another report", (good.header, files.body, 0)),
        ("attachments miscounted", (files.header, files.body, 2)),
        ("duplicate member", _hostile_json(b'{"version":1,"version":1,"fields":{},"attachments":[],"reply_key":null}')),
        ("lone surrogate", _hostile_json(b'{"version":1,"fields":{"a":"\\ud800"},"attachments":[],"reply_key":null}')),
        ("fraction", _hostile_json(b'{"version":1.5,"fields":{},"attachments":[],"reply_key":null}')),
        ("deep", _hostile_json(b'{"version":1,"fields":' + b"[" * 100_000 + b"]" * 100_000 + b"}")),
        ("not UTF-8", _hostile_json(b'{"version":1,"fields":{"a":"\xff"},"attachments":[],"reply_key":null}')),
        ("wrong thread", _wrong_thread()),
    ]


def _outcome(result: object) -> tuple[str, str]:
    if isinstance(result, Exception):
        return type(result).__name__, str(result)
    return result.opened.key_id, repr(sorted(result.body.fields.items())) + repr(result.body.attachments)


def _single(header: bytes, body: bytes, count: int, identities: list[Identity]) -> tuple[str, str]:
    try:
        return _outcome(open_report(header, body, count, identities))
    except (ValueError, TypeError, RecursionError) as exc:
        return _outcome(exc)


@pytest.mark.parametrize("seed", range(4))
def test_each_report_opens_as_it_would_alone(seed: int) -> None:
    """In any order, each report of a hostile mix opens, or fails with the same error, as open_report says."""
    mix = _mix() * 2
    random.Random(seed).shuffle(mix)
    identities = [ME, OTHER] if seed % 2 else [OTHER, ME]
    batch = open_reports([report for _, report in mix], identities)
    assert len(batch) == len(mix)
    for (name, report), result in zip(mix, batch, strict=True):
        assert _outcome(result) == _single(*report, identities), name
    opened = {name for (name, _), result in zip(mix, batch, strict=True) if not isinstance(result, Exception)}
    assert opened == {"good", "good, with a file", "reporter's stanza"}


def test_no_report_and_no_identity() -> None:
    """An empty batch is an empty list; with no identity every report is *no match*, none is skipped."""
    assert open_reports([], [ME]) == []
    results = open_reports([report for _, report in _mix()], [])
    assert len(results) == len(_mix())
    assert all(isinstance(r, Exception) for r in results)
