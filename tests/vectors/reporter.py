"""Vectors 92-96: the reporter's stanza of format.md §4.1 (used by generate.py)."""

from __future__ import annotations

from collections.abc import Callable

import nacl.bindings as sodium

from intake.crypto.envelope import MAC_KEY_ID, STANZA_BYTES, derive, open_body, open_header, rewrap_header
from intake.crypto.keys import Identity, generichash
from intake.crypto.report import seal_report

Write = Callable[..., None]


def _signed(key: bytes, version: int, stanzas: list[bytes]) -> bytes:
    """A header with exactly these stanzas and a valid MAC under `key`."""
    signed = b"INTK" + bytes([version, len(stanzas)]) + b"".join(stanzas)
    return signed + generichash(32, signed, derive(key, MAC_KEY_ID))


def reporter_vectors(write: Write, envelope: Callable[..., bytes], fields: dict[str, str],
                     reporter: Identity) -> None:
    """Write vectors 92 to 96; `reporter` is the reply identity of the codename of 61."""
    team = [Identity.generate() for _ in range(3)]
    other = Identity.generate()
    report = seal_report([t.recipient for t in team], fields, reply_key=str(reporter.recipient))
    key = open_header(report.header, [team[0]]).report_key
    body = open_body(key, report.body)
    write("92-success-reporter-stanza", "success", [team[1]], envelope(report),
          "a version 2 header: stanza 0 seals K to the body's reply key, then three reviewers; a reviewer opens it",
          body)
    write("93-success-reporter-stanza-by-reporter", "success", [reporter], envelope(report),
          "the same report, opened by the reply identity the codename of 61 derives (§4.1)", body)
    newcomer = Identity.generate()
    moved = rewrap_header(open_header(report.header, [team[2]]), [team[0].recipient, newcomer.recipient])
    write("94-success-reporter-stanza-rewrapped", "success", [reporter], envelope(report, moved),
          "rewrapped to reviewer 0 and a newcomer: the reporter's stanza was kept and still opens", body)
    stanzas = [report.header[6 + i * STANZA_BYTES:6 + (i + 1) * STANZA_BYTES] for i in range(4)]
    alien = bytes.fromhex(other.recipient.key_id) + sodium.crypto_box_seal(key, other.recipient.public_key)
    swapped = _signed(key, 2, [alien, *stanzas[1:]])
    write("95-wrong-thread-reporter-stanza-not-reply-key", "wrong thread", [team[0]], envelope(report, swapped),
          "an authentic version 2 header whose stanza 0 is sealed to another key than the body's reply key")
    dropped = b"INTK" + bytes([1, 3]) + b"".join(stanzas[1:]) + report.header[-32:]
    write("96-header-mac-reporter-stanza-removed", "header mac", [team[0]], envelope(report, dropped),
          "the reporter's stanza removed (and the version set back to 1) by someone without K")
