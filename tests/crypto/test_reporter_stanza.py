"""The reporter's stanza (format.md §4.1) and the thread MAC (§12.4), attacked at the crypto layer."""

from __future__ import annotations

import pytest

from intake.crypto.codename import derive_keys
from intake.crypto.envelope import MAC_KEY_ID, STANZA_BYTES, derive, open_header, rewrap_header, seal_header
from intake.crypto.errors import HeaderMacError, NoMatchingIdentity, ThreadMacError, WrongThread
from intake.crypto.keys import Identity, generichash
from intake.crypto.message import open_message, seal_message
from intake.crypto.report import open_report, seal_report

TEAM = [Identity.generate() for _ in range(3)]
ME = derive_keys("0" * 25, bytes(16)).identity
KEY = bytes(range(32))


def _stanzas(header: bytes) -> list[bytes]:
    return [header[6 + i * STANZA_BYTES:6 + (i + 1) * STANZA_BYTES] for i in range(header[5])]


def test_reordered_or_removed_reporter_stanza_fails_the_mac() -> None:
    """Moving the reporter's stanza, dropping it or lowering the version, without K, breaks the header MAC."""
    report = seal_report([t.recipient for t in TEAM], {"a": "b"}, reply_key=str(ME.recipient))
    s = _stanzas(report.header)
    moved = b"INTK\x02\x04" + s[1] + s[0] + s[2] + s[3] + report.header[-32:]
    dropped = b"INTK\x01\x03" + b"".join(s[1:]) + report.header[-32:]
    lowered = b"INTK\x01" + report.header[5:]
    for header in (moved, dropped, lowered):
        with pytest.raises(HeaderMacError):
            open_report(header, report.body, 0, [TEAM[0]])
    with pytest.raises(HeaderMacError):
        open_report(lowered, report.body, 0, [ME])


def test_a_reporter_stanza_for_another_key_is_refused_by_the_reader() -> None:
    """A sender holding K may seal a version 2 header whose stanza 0 is someone else's: readers say *wrong thread*."""
    report = seal_report([t.recipient for t in TEAM], {"a": "b"}, reply_key=str(ME.recipient), report_key=KEY)
    other = Identity.generate()
    signed = b"INTK\x02\x04" + _stanzas(seal_header(KEY, [other.recipient]))[0] + b"".join(_stanzas(report.header)[1:])
    header = signed + generichash(32, signed, derive(KEY, MAC_KEY_ID))
    with pytest.raises(WrongThread):
        open_report(header, report.body, 0, [TEAM[1]])
    with pytest.raises(NoMatchingIdentity):
        open_report(header, report.body, 0, [ME])
    no_reply = seal_report([t.recipient for t in TEAM], {"a": "b"}, report_key=KEY)
    with pytest.raises(WrongThread):
        open_report(header, no_reply.body, 0, [TEAM[1]])


def test_writers_refuse_a_reporter_stanza_with_a_reviewers_key_id() -> None:
    """Sealing, and rewrapping, to a reviewer key that is also the reporter's are refused."""
    with pytest.raises(ValueError, match="reviewer's key"):
        seal_header(KEY, [t.recipient for t in TEAM], TEAM[0].recipient)
    header = seal_header(KEY, [t.recipient for t in TEAM], ME.recipient)
    with pytest.raises(ValueError, match="reviewer's key"):
        rewrap_header(open_header(header, [TEAM[0]]), [TEAM[0].recipient, ME.recipient])
    with pytest.raises(ValueError, match="1 to 15"):
        seal_header(KEY, [Identity.generate().recipient for _ in range(16)], ME.recipient)


def test_rewrap_keeps_the_reporter_stanza_and_a_version_1_header_gains_none() -> None:
    """Rewrap copies stanza 0 of a version 2 header byte for byte; a version 1 header stays version 1."""
    header = seal_header(KEY, [t.recipient for t in TEAM], ME.recipient)
    newcomer = Identity.generate()
    moved = rewrap_header(open_header(header, [TEAM[2]]), [newcomer.recipient])
    assert moved[:5] == b"INTK\x02"
    assert moved[6:6 + STANZA_BYTES] == header[6:6 + STANZA_BYTES]
    assert open_header(moved, [ME]).report_key == KEY == open_header(moved, [newcomer]).report_key
    old = seal_header(KEY, [t.recipient for t in TEAM])
    again = rewrap_header(open_header(old, [TEAM[0]]), [newcomer.recipient])
    assert again[4] == 1
    with pytest.raises(NoMatchingIdentity):
        open_header(again, [ME])


def test_thread_mac_of_another_thread_or_message_is_refused() -> None:
    """A version 2 message checks its thread MAC: moved into another thread, or its body swapped in from another
    message of the same thread, it fails (*thread mac* or the body's AEAD)."""
    mine = seal_message([t.recipient for t in TEAM], ME.recipient, "reviewer", "which street?")
    assert open_message(mine.header, mine.body, 0, [TEAM[0]], ME.recipient, "reviewer").bound
    elsewhere = derive_keys("1" * 25, bytes(16)).identity
    theirs = seal_message([t.recipient for t in TEAM], elsewhere.recipient, "reviewer", "hello")
    forged = mine.header[:6 + STANZA_BYTES] + theirs.header[6 + STANZA_BYTES:-32]
    key = open_header(theirs.header, [TEAM[0]]).report_key
    forged += generichash(32, forged, derive(key, MAC_KEY_ID))
    with pytest.raises(ThreadMacError):
        open_message(forged, theirs.body, 0, [TEAM[0]], ME.recipient, "reviewer")
