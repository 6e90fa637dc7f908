"""The chain of custody of a case: who showed, exported, packaged or triaged it, on which day, with which hashes.

Each entry is a note of the case (docs/review.md "Custody"): sealed to the verified keyring exactly as a note,
stored in the notes table with its day, so the server reads none of it. Its body carries the entry's fields,
`custody_mac` (BLAKE2b-256 keyed with KDF(9, K) of the case's report key: only someone who can open the case can
write one, so a forged or moved row is refused) and the hash chain: `seq` (1, 2, ...) and `prev`, the `link` of
the entry it continues (64 zeros for the first), where `link` is the SHA-256 of the entry's canonical JSON. A
removed, added or reordered entry breaks the chain, and anyone holding the record can recompute it with sha256.
An entry sealed on an air-gapped laptop (from a bundle) continues the bundle's last entry; when the server's record
went on meanwhile, the imported entry starts a branch: it follows an earlier entry, not the last row (`chain`).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
from collections.abc import Sequence
from dataclasses import dataclass, field

from intake.crypto.envelope import Sealer, derive
from intake.crypto.errors import CryptoError
from intake.crypto.keys import Identity, Recipient, generichash
from intake.crypto.report import open_report
from intake.review.notes import CUSTODY_KIND as KIND
from intake.storage.notes import Note

CUSTODY_KEY_ID = 9
DOMAIN = b"intake-custody-v1"
GENESIS = "0" * 64
ACTIONS = ("show", "export", "evidence", "status")
MEMBERS = ("action", "by", "day", "detail", "hashes", "prev", "seq")


def canonical(entry: dict[str, object]) -> bytes:
    """The canonical JSON of an entry's members (keys sorted, compact, UTF-8): what `link` hashes."""
    return json.dumps({k: entry[k] for k in MEMBERS}, sort_keys=True, separators=(",", ":"),
                      ensure_ascii=False).encode()


def link(entry: dict[str, object]) -> str:
    """The SHA-256 of an entry's canonical JSON: the next entry's `prev`."""
    return hashlib.sha256(canonical(entry)).hexdigest()


def number(entry: dict[str, object]) -> int:
    """An entry's `seq`, or -1 when it is not a number (nothing can follow it then)."""
    seq = entry["seq"]
    return seq if type(seq) is int else -1


def custody_mac(case_key: bytes, entry: dict[str, object]) -> str:
    """The entry's authenticator under the case's report key (hex)."""
    return generichash(32, DOMAIN + canonical(entry), derive(case_key, CUSTODY_KEY_ID)).hex()


@dataclass(frozen=True)
class Record:
    """A case's custody record as read: its entries in order, and what breaks the chain (empty when whole)."""

    entries: list[dict[str, object]]
    problems: list[str]
    rows: int  # every note row of the case, custody or not: where the next entry goes (storage.notes.append_note)
    branches: list[str] = field(default_factory=list)  # entries that continue an earlier one (sealed on a bundle)

    @property
    def head(self) -> str:
        """The link of the last entry (GENESIS when there is none): what the next entry's `prev` is."""
        return link(self.entries[-1]) if self.entries else GENESIS

    def as_json(self) -> dict[str, object]:
        """The record for show --json and the evidence manifest: entries with their links, and whether it holds."""
        return {"entries": [{**e, "link": link(e)} for e in self.entries], "intact": not self.problems,
                "problems": self.problems, "branches": self.branches, "head": self.head}


def new_entry(record: Record, action: str, by: str, day: dt.date, hashes: dict[str, str],
              detail: str = "") -> dict[str, object]:
    """The next entry of a record: `hashes` names each SHA-256 the action involved; `detail` (a new state) or ""."""
    if action not in ACTIONS:
        raise ValueError(f"unknown custody action {action!r}")
    return {"action": action, "by": by, "day": day.isoformat(), "detail": detail,
            "hashes": dict(sorted(hashes.items())), "prev": record.head,
            "seq": number(record.entries[-1]) + 1 if record.entries else 1}


def seal_entry(recipients: Sequence[Recipient], entry: dict[str, object], case_key: bytes) -> tuple[bytes, bytes]:
    """Seal an entry as a note's header and body to the keyring's recipients."""
    fields = {"kind": KIND, "custody": canonical(entry).decode(), "custody_mac": custody_mac(case_key, entry)}
    sealer = Sealer(recipients)
    return sealer.header(), sealer.body(fields)


def is_custody(fields: dict[str, str]) -> bool:
    """Whether an opened note's fields are a custody entry rather than a reviewer's note."""
    return fields.get("kind") == KIND


def read_record(notes: Sequence[Note], identities: Sequence[Identity], case_key: bytes) -> Record:
    """Open every custody entry among a case's notes and check each one and the chain; never raise."""
    entries: list[dict[str, object]] = []
    problems: list[str] = []
    for note in notes:
        try:
            fields = open_report(note.header, note.body, 0, identities).body.fields
        except CryptoError:
            continue  # not sealed to these keys, or damaged: notes() reports it; it cannot be a custody entry
        except (ValueError, TypeError, RecursionError):
            continue
        if not is_custody(fields):
            continue
        where = f"entry {len(entries) + 1}"
        try:
            entry = json.loads(fields.get("custody", ""))
            entry = {k: entry[k] for k in MEMBERS}
            if not well_formed(entry):
                raise ValueError(entry)
        except (ValueError, TypeError, KeyError, RecursionError):
            problems.append(f"{where} (stored {note.created}) is malformed: not shown")
            continue
        mac = fields.get("custody_mac")
        if not isinstance(mac, str) or not hmac.compare_digest(mac, custody_mac(case_key, entry)):
            problems.append(f"{where} (stored {note.created}) is not bound to this case (forged or moved from "
                            "another case): not shown")
            continue
        if entry["day"] != note.created.isoformat():
            problems.append(f"{where} was sealed on {entry['day']} but is stored as of {note.created}")
        entries.append(entry)
    breaks, branches = chain(entries)
    return Record(entries, problems + breaks, len(notes), branches)


def well_formed(entry: dict[str, object]) -> bool:
    """Whether each member has the type and form `new_entry` gives it: an entry of another shape (a misused
    reviewer key can seal one) is told as malformed, never printed or counted by a reader."""
    hashes, day = entry["hashes"], entry["day"]
    return (entry["action"] in ACTIONS and isinstance(entry["by"], str) and len(entry["by"]) <= 64
            and isinstance(entry["detail"], str) and len(entry["detail"]) <= 200 and isinstance(day, str)
            and dt.date.fromisoformat(day).isoformat() == day and isinstance(hashes, dict)
            and all(isinstance(v, str) for v in hashes.values()) and isinstance(entry["prev"], str)
            and len(entry["prev"]) == 64 and type(entry["seq"]) is int and entry["seq"] >= 1)


def chain(entries: Sequence[dict[str, object]]) -> tuple[list[str], list[str]]:
    """What breaks the chain (an entry that follows no entry before it, or one stored twice), and where it branches:
    each entry's `prev` must be GENESIS (for number 1) or the link of an earlier entry, whose number it continues."""
    seen: dict[str, tuple[int, int]] = {}  # link: (the entry's place, its number)
    problems: list[str] = []
    branches: list[str] = []
    for n, entry in enumerate(entries, 1):
        here, prev, seq = link(entry), entry["prev"], entry["seq"]
        if here in seen:
            problems.append(f"entry {n} repeats entry {seen[here][0]}: stored twice")
            continue
        parent = (0, 0) if prev == GENESIS else seen.get(str(prev))
        if parent is None or seq != parent[1] + 1:
            problems.append(f"entry {n} (sealed as number {seq}) does not follow the entry before it: an entry was "
                            "removed, added or reordered")
        elif n > 1 and prev != link(entries[n - 2]):
            branches.append(f"entry {n} continues entry {parent[0] or 'none (the start)'}, not entry {n - 1}: it was "
                            "sealed where the record did not hold the entries between (on a bundle)")
        seen[here] = (n, number(entry))
    return problems, branches
