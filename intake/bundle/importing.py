"""`intake import-replies`: a replies file's replies, notes (status changes) and tag changes, checked, then stored.

Every item is checked before any is stored (docs/bundle.md §6): made by an active reviewer of the verified
keyring, sealed to exactly its recipients, for a case on this server. Importing a file again stores nothing
twice: an item already stored (the same sealed header on the same case) is skipped with all it would do.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from intake.bundle.replies import RepliesError, Reply, read_replies, verify_reply
from intake.crypto.keys import Identity

if TYPE_CHECKING:
    from sqlalchemy import Engine

    from intake.keys.keyring import Keyring

DAY_AHEAD = dt.timedelta(days=1)  # a laptop's clock a time zone ahead of the server's UTC day


@dataclass
class Imported:
    """What an import stored: counts, and the cases it could not fully act on."""

    stored: dict[str, int] = field(default_factory=lambda: {"reply": 0, "note": 0, "tags": 0, "custody": 0})
    already: int = 0
    full: list[str] = field(default_factory=list)  # refs of cases whose full thread took no reply
    kept: list[tuple[str, str, str]] = field(default_factory=list)  # (ref, asked state, state kept): changed since


def import_replies(engine: Engine, path: Path, identity: Identity, keyring: Keyring) -> Imported:
    """Verify every item of a file against the verified keyring, then store them (replies, then notes and tags)."""
    from intake.storage.notes import import_notes
    from intake.storage.threads import add_replies

    reviewers = {entry.key_id: entry.recipient for entry in keyring.active}
    replies, notes, refs, kinds = [], [], {}, {}
    for item in read_replies(path):
        verify_reply(item, identity, reviewers)
        case = _check(engine, item, keyring)
        refs[case.id] = case.ref
        if item.kind == "reply":
            replies.append((case.id, item.header, item.body))
        else:
            notes.append((case.id, dt.date.fromisoformat(str(item.day)), item.header, item.body, item.state,
                           item.was))
            kinds[item.header] = item.kind
    done = Imported()
    stored, full = add_replies(engine, replies)
    done.stored["reply"], done.full = stored, [refs[case_id] for case_id in full]
    done.already = len(replies) - stored - len(full)
    added, already, kept = import_notes(engine, notes)
    for row in added:
        done.stored[kinds[row[2]]] += 1
    done.already += already
    done.kept = [(refs[case_id], asked, now) for case_id, asked, now in kept]
    return done


def _check(engine: Engine, item: Reply, keyring: Keyring):  # type: ignore[no-untyped-def]
    """The item's case, after checking its sealed parts and plain members; RepliesError otherwise."""
    from intake.crypto.envelope import BODY_SIZES, parse_header
    from intake.crypto.errors import CryptoError
    from intake.storage.cases import STATUSES, get_case

    what = {"reply": f"a reply to case {item.ref}", "note": f"a status change of case {item.ref}",
            "tags": f"a tag change of case {item.ref}", "custody": f"a custody entry of case {item.ref}"}[item.kind]
    try:
        parsed = parse_header(item.header)
    except CryptoError as exc:
        raise RepliesError(f"{what} has a malformed header ({exc}): nothing was imported") from None
    key_ids = parsed.key_ids[1:] if item.kind == "reply" else parsed.key_ids
    if (item.kind == "reply" and len(parsed.key_ids) < 2) or parsed.version != 1 or len(item.body) not in BODY_SIZES:
        raise RepliesError(f"{what} is not a sealed {'message' if item.kind == 'reply' else 'note'}: "
                           "nothing was imported")
    if sorted(key_ids) != sorted(keyring.key_ids):
        raise RepliesError(f"{what} is sealed to other keys than the keyring in use (serial {keyring.serial}): the "
                           "reviewer sealed it with an older keyring.json. Nothing was imported: give the reviewer "
                           "the newest keyring and seal it again")
    if item.kind != "reply":
        _check_plain(item, what, STATUSES)
    case = get_case(engine, item.ref)
    if case is None:
        raise RepliesError(f"no case {item.ref} on this server (deleted since the bundle was made?): "
                           "nothing was imported; remove that item or import on the right server")
    if item.kind == "reply" and parsed.key_ids[0] != _reporter(case.header, parsed.key_ids[0]):
        raise RepliesError(f"{what} is not sealed to that case's reply key (docs/format.md §12.4): nothing was "
                           "imported; seal the reply again from the case itself")
    return case


def _check_plain(item: Reply, what: str, statuses: tuple[str, ...]) -> None:
    """A note's day, state and former state, a tag change's day: well formed, the day not ahead of the server's."""
    from intake.clock import today

    try:
        day = dt.date.fromisoformat(str(item.day))
    except ValueError:
        raise RepliesError(f"{what} has no valid day: nothing was imported") from None
    if day > today() + DAY_AHEAD:
        raise RepliesError(f"{what} is dated {day}, after today: check the reviewing machine's clock; "
                           "nothing was imported")
    states = (item.state, item.was) if item.kind == "note" else ()
    if any(s not in statuses for s in states) or item.kind != "note" and (item.state or item.was):
        raise RepliesError(f"{what} names an unknown state: nothing was imported")


def _reporter(header: bytes, otherwise: str) -> str:
    """The key id of a case's reporter's stanza (header version 2), which a reply's stanza 0 must carry, as the
    thread API asks of a follow-up; `otherwise` for a case sent before that stanza existed."""
    from intake.crypto.envelope import parse_header
    from intake.crypto.errors import CryptoError

    try:
        return parse_header(header).reporter or otherwise
    except CryptoError:
        return otherwise
