"""Triage notes: sealed like reports (docs/format.md header and body, no attachments), bound to their case.

A note's body carries `case_mac`, a BLAKE2b-256 of its fields keyed with KDF(8, K) of the case's report
key K (docs/format.md §3): only someone who can open the case (a reviewer) can make it, so a note written
into the database by anyone else, or moved from another case, is refused by `show` and `export`.
"""

from __future__ import annotations

import datetime as dt
import hmac
import json
from collections.abc import Sequence

from intake.crypto.envelope import Sealer, derive
from intake.crypto.errors import CryptoError
from intake.crypto.keys import Identity, Recipient, generichash
from intake.crypto.report import open_report
from intake.storage.notes import Note

CUSTODY_KIND = "custody"  # a note whose fields are a custody entry (intake/evidence/custody.py), not listed here
NOTE_KEY_ID = 8
NOTE_DOMAIN = b"intake-note-v1"
TAGS_KIND = "tags"
TAG_DOMAIN = b"intake-tags-v1"  # a tag change (docs/review.md "Tags"): keyed as a note, under its own domain
UNBOUND = "not bound to this case (forged, moved from another case, or sealed before notes were bound)"
REDATED = "sealed on another day than the database records: an old note shown again; do not act on it"


def case_mac(case_key: bytes, fields: dict[str, object]) -> str:
    """The authenticator of a note's note, status, by and (when it has one) day, under the case's report key (hex)."""
    named = ("by", "day", "note", "status") if "day" in fields else ("by", "note", "status")
    data = json.dumps({k: fields.get(k) for k in named}, sort_keys=True, separators=(",", ":"),
                      ensure_ascii=False).encode("utf-8", "surrogatepass")
    return generichash(32, NOTE_DOMAIN + data, derive(case_key, NOTE_KEY_ID)).hex()


def seal_note(recipients: Sequence[Recipient], status: str, text: str, by: str, case_key: bytes,
              day: dt.date) -> tuple[bytes, bytes]:
    """Seal a note of `day` on the case whose report key is `case_key` to the keyring's recipients; return header
    and body. The day is bound too, so the store cannot show an old note again as a new one."""
    fields = {"note": text, "status": status, "by": by, "day": day.isoformat()}
    sealer = Sealer(recipients)
    body = sealer.body({**fields, "case_mac": case_mac(case_key, fields)})
    return sealer.header(), body


def open_notes(notes: Sequence[Note], identities: Sequence[Identity], case_key: bytes) -> list[dict[str, object]]:
    """Each note (or tag entry, `"kind": "tags"`) in clear, or with the reason it could not be opened or is not
    the case's."""
    opened: list[dict[str, object]] = []
    for note in notes:
        entry: dict[str, object] = {"created": note.created.isoformat()}
        try:
            fields = open_report(note.header, note.body, 0, identities).body.fields
        except CryptoError as exc:
            entry["error"] = exc.expect
        except (ValueError, TypeError, RecursionError):  # one hostile note never hides the others
            entry["error"] = "damaged body"
        else:
            if fields.get("kind") == TAGS_KIND:  # a tag change, bound under its own domain
                opened.append(tag_entry(fields, entry["created"], case_key))  # type: ignore[arg-type]
                continue
            if fields.get("kind") == CUSTODY_KIND:  # the custody record (evidence/custody.py) is read on its own
                continue
            mac = fields.get("case_mac")
            if not isinstance(mac, str) or not hmac.compare_digest(mac, case_mac(case_key, fields)):
                entry["error"] = UNBOUND
            elif "day" in fields and fields["day"] != entry["created"]:
                entry["error"] = REDATED
            else:
                entry.update(status=fields.get("status"), note=fields.get("note"), by=fields.get("by"))
        opened.append(entry)
    return opened


def tag_mac(case_key: bytes, fields: dict[str, object]) -> str:
    """The authenticator of a tag entry's add, remove, by, day and n under the case's report key (hex)."""
    data = json.dumps({k: fields.get(k) for k in ("add", "by", "day", "kind", "n", "remove")}, sort_keys=True,
                      separators=(",", ":"), ensure_ascii=False).encode("utf-8", "surrogatepass")
    return generichash(32, TAG_DOMAIN + data, derive(case_key, NOTE_KEY_ID)).hex()


def seal_tags(recipients: Sequence[Recipient], add: Sequence[str], remove: Sequence[str], by: str,
              case_key: bytes, day: str, n: int) -> tuple[bytes, bytes]:
    """Seal one tag change (entry `n` of the case) to the keyring's recipients; return header and body."""
    fields = {"kind": TAGS_KIND, "add": "\n".join(add), "remove": "\n".join(remove), "by": by, "day": day,
              "n": str(n)}
    sealer = Sealer(recipients)
    body = sealer.body({**fields, "case_mac": tag_mac(case_key, fields)})
    return sealer.header(), body


def tag_entry(fields: dict[str, str], created: str, case_key: bytes) -> dict[str, object]:
    """An opened tag entry as `show --json` lists it, or with the error that refuses it."""
    mac = fields.get("case_mac")
    entry: dict[str, object] = {"created": created, "kind": TAGS_KIND}
    if not isinstance(mac, str) or not hmac.compare_digest(mac, tag_mac(case_key, fields)):
        entry["error"] = UNBOUND
    elif fields.get("day") != created:
        entry["error"] = REDATED
    elif not fields.get("n", "").isdigit() or len(fields["n"]) > 9:
        entry["error"] = "damaged tag entry"
    else:
        entry.update(add=_split(fields.get("add")), remove=_split(fields.get("remove")), by=fields.get("by"),
                     n=int(fields["n"]))
    return entry


def _split(text: str | None) -> list[str]:
    return [t for t in (text or "").split("\n") if t]


def current_tags(entries: Sequence[dict[str, object]]) -> tuple[str, ...]:
    """The tags a case has now: its valid tag entries applied in the order of their day, then of their n."""
    valid = [e for e in entries if e.get("kind") == TAGS_KIND and "error" not in e]
    tags: dict[str, None] = {}
    # ties (two bundles, one day, the same n) by key id, never by the row order the database writer chooses
    for entry in sorted(valid, key=lambda e: (str(e["created"]), int(e["n"]), str(e.get("by")))):  # type: ignore[call-overload]
        for tag in entry["remove"]:  # type: ignore[attr-defined]
            tags.pop(tag, None)
        for tag in entry["add"]:  # type: ignore[attr-defined]
            tags[tag] = None
    return tuple(sorted(tags))


def next_n(entries: Sequence[dict[str, object]]) -> int:
    """The n of the next tag entry: one more than any the reviewer can open."""
    return 1 + max((int(e["n"]) for e in entries if e.get("kind") == TAGS_KIND and "n" in e), default=0)  # type: ignore[call-overload]
