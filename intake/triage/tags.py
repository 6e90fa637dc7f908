"""Tags of a case: their rules, and the sealed tag entries they are kept in (docs/review.md "Tags").

A tag change is stored as a note row whose sealed body has `kind` "tags" (so the server sees no tag
name, keeps only the day, and every path that moves notes, rewrap, bundles, backups, moves tags too).
Its `case_mac` is keyed by the case's report key, as a note's (review/notes.py), under another
domain, over `add`, `remove`, `by`, `day` and `n` (the entry's place in the case's tag history):
a row written by anyone else is refused, and a row replayed later still sorts in its own place.
"""

from __future__ import annotations

import hmac
import json
import unicodedata
from collections.abc import Iterable, Sequence

from intake.crypto.envelope import Sealer, derive
from intake.crypto.keys import Recipient, generichash
from intake.errors import BadValue

TAGS_KIND = "tags"
TAG_DOMAIN = b"intake-tags-v1"
TAG_KEY_ID = 8  # the note key: the domain tells a tag entry from a note
MAX_TAG = 40
MAX_TAGS = 50
PUNCTUATION = frozenset("-_.:/#+&")


def normal_tag(text: str) -> str:
    """A tag as it is stored and compared: NFC, case-folded, with its rules checked (BadValue says which)."""
    tag = unicodedata.normalize("NFC", text.strip()).casefold()
    bad = next((c for c in tag if unicodedata.category(c)[0] not in "LMN" and c not in PUNCTUATION), None)
    if bad is not None:
        what = "a control or invisible character" if unicodedata.category(bad)[0] in "CZ" and bad != " " else repr(bad)
        shown = f"U+{ord(bad):04X}"
        raise BadValue(f"a tag may hold letters and digits of any script (Khmer and Burmese too) and - _ . : / # + &,"
                       f" not {what} ({shown}): write it as one word, e.g. face-recognition", "TAG")
    if not tag:
        raise BadValue("a tag is empty", "TAG")
    if len(tag) > MAX_TAG:
        raise BadValue(f"a tag is at most {MAX_TAG} characters: shorten {tag[:MAX_TAG]}...", "TAG")
    return tag


def normal_tags(texts: Iterable[str]) -> tuple[str, ...]:
    """Each tag made normal, in order, each once."""
    return tuple(dict.fromkeys(normal_tag(t) for t in texts))


def tag_mac(case_key: bytes, fields: dict[str, object]) -> str:
    """The authenticator of a tag entry's add, remove, by, day and n under the case's report key (hex)."""
    data = json.dumps({k: fields.get(k) for k in ("add", "by", "day", "kind", "n", "remove")}, sort_keys=True,
                      separators=(",", ":"), ensure_ascii=False).encode("utf-8", "surrogatepass")
    return generichash(32, TAG_DOMAIN + data, derive(case_key, TAG_KEY_ID)).hex()


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
    from intake.review.notes import REDATED, UNBOUND

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
    for entry in sorted(valid, key=lambda e: (str(e["created"]), int(e["n"]))):  # type: ignore[call-overload]
        for tag in entry["remove"]:  # type: ignore[attr-defined]
            tags.pop(tag, None)
        for tag in entry["add"]:  # type: ignore[attr-defined]
            tags[tag] = None
    return tuple(sorted(tags))


def next_n(entries: Sequence[dict[str, object]]) -> int:
    """The n of the next tag entry: one more than any the reviewer can open."""
    return 1 + max((int(e["n"]) for e in entries if e.get("kind") == TAGS_KIND and "n" in e), default=0)  # type: ignore[call-overload]
