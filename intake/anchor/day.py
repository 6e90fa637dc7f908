"""Anchoring a day (`intake anchor`) and the inclusion proof of one case that an evidence package carries."""

from __future__ import annotations

import base64
import datetime as dt
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Engine

from intake.anchor import merkle, timestamp
from intake.errors import IntakeError
from intake.storage.anchors import REPORT_SEQ, StoredAnchor, anchored_item, day_items, get_anchor, put_anchor
from intake.storage.anchors import put_timestamp as store_timestamp

PROOF_FORMAT = "intake-anchor-proof-v1"


class AnchorError(IntakeError):
    """A day that cannot be anchored, or a case without a usable proof."""


@dataclass(frozen=True)
class Outcome:
    """What one run of `intake anchor` did for a day."""

    day: dt.date
    partial: bool
    items: int
    size: int
    root: bytes
    stamped: bool
    done_before: bool


def anchor_day(engine: Engine, day: dt.date, today: dt.date, tsa_url: str | None) -> Outcome:
    """Anchor `day` (partial while it runs, and then never timestamped); a whole day already anchored is left as
    it is, and only given its timestamp if it still lacks one."""
    if day > today:
        raise AnchorError(f"{day} has not begun: anchor a day that has ended (the default) or today")
    partial = day == today
    stored = get_anchor(engine, day)
    if stored is None or stored.partial:
        items = list(day_items(engine, day))
        digests = [merkle.item_from_hashes(i.header_sha256, i.body_sha256, i.stream_sha256s) for i in items]
        leaves = merkle.padded(digests)
        fresh = StoredAnchor(day, partial, tuple(leaves), merkle.root(leaves), None)
        stored = put_anchor(engine, fresh, items)
        if stored is fresh:
            if tsa_url and not partial:
                store_timestamp(engine, day, fresh.root, timestamp.request(tsa_url, fresh.root))
            return Outcome(day, partial, len(items), len(leaves), fresh.root, bool(tsa_url) and not partial, False)
    stamped = stored.timestamp is not None  # a whole anchor, stored before or by another run meanwhile
    if not stamped and tsa_url:
        store_timestamp(engine, day, stored.root, timestamp.request(tsa_url, stored.root))
        stamped = True
    return Outcome(day, False, -1, len(stored.leaves), stored.root, stamped, True)


def case_proof(engine: Engine, case_id: int, seq: int = REPORT_SEQ) -> dict[str, Any] | None:
    """The inclusion proof of a case (or message) in its day's anchor, as JSON-ready values; None if no anchor
    holds it yet. AnchorError if its sealed data changed since it was anchored."""
    found = anchored_item(engine, case_id, seq)
    if found is None:
        return None
    day, item = found
    stored = get_anchor(engine, day)
    digest = merkle.item_from_hashes(item.header_sha256, item.body_sha256, item.stream_sha256s)
    if stored is None or digest not in stored.leaves:
        raise AnchorError(f"the sealed data of this case is not what was anchored on {day}: restore it from a "
                          "backup, or tell whoever receives the package that its anchor does not hold it")
    index = stored.leaves.index(digest)
    return {"format": PROOF_FORMAT, "day": day.isoformat(), "partial": stored.partial,
            "header_sha256": item.header_sha256.hex(), "body_sha256": item.body_sha256.hex(),
            "stream_sha256": [h.hex() for h in item.stream_sha256s], "item": digest.hex(), "index": index,
            "size": len(stored.leaves), "path": [h.hex() for h in merkle.proof(stored.leaves, index)],
            "root": stored.root.hex(),
            "timestamp": base64.b64encode(stored.timestamp).decode() if stored.timestamp else None}


def check_proof(proof: dict[str, Any], tsa_ca: bytes | None = None) -> dt.datetime | None:
    """Check a proof from `case_proof` offline; return the time its timestamp gives the root (None if it has
    none), once the stamp is signed under `tsa_ca` (the TSA's CA, PEM). Raises merkle.ProofError or
    timestamp.TimestampError naming what is wrong."""
    root, token, day = check_inclusion(proof)
    if token is None:
        return None
    when = check_stamp(token, root, day, tsa_ca)
    if tsa_ca is None:
        raise timestamp.TimestampError("give the TSA's CA certificate to check the timestamp: anyone can make a "
                                       "stamp with any time that is not signed under it")
    return when


def check_inclusion(proof: dict[str, Any]) -> tuple[bytes, bytes | None, dt.date]:
    """Check that a proof leads from its hashes to its root; return the root, the timestamp (or None) and the
    day. merkle.ProofError naming what is wrong."""
    try:
        if proof["format"] != PROOF_FORMAT:
            raise merkle.ProofError(f"unknown anchor proof format {proof['format']!r}")
        hashes = [bytes.fromhex(proof["header_sha256"]), bytes.fromhex(proof["body_sha256"]),
                  *(bytes.fromhex(h) for h in proof["stream_sha256"])]
        path = [bytes.fromhex(h) for h in proof["path"]]
        root, index, size = bytes.fromhex(proof["root"]), int(proof["index"]), int(proof["size"])
        day = dt.date.fromisoformat(proof["day"])
        token = base64.b64decode(proof["timestamp"], validate=True) if proof["timestamp"] else None
    except (KeyError, TypeError, ValueError, AttributeError, OverflowError) as exc:
        raise merkle.ProofError(f"the anchor proof is damaged ({type(exc).__name__}: {exc})"[:300]) from exc
    digest = merkle.item_from_hashes(hashes[0], hashes[1], hashes[2:])
    if digest.hex() != proof["item"]:
        raise merkle.ProofError("the anchored hashes of header, body or files do not give the proof's item")
    merkle.check(digest, index, size, path, root)
    return root, token, day


def check_stamp(token: bytes, root: bytes, day: dt.date, tsa_ca: bytes | None) -> dt.datetime:
    """The time a timestamp gives `root`, after checking that it stamps `root` after the end of `day` and, when
    `tsa_ca` is given, that a TSA under it signed it. timestamp.TimestampError naming what is wrong."""
    when = timestamp.stamped_time(token, root)
    if when.date() <= day:
        raise timestamp.TimestampError(f"the timestamp ({when}) is not after the end of {day}, the day of the "
                                       "anchor: a day is stamped once it has ended")
    if tsa_ca is not None:
        timestamp.check_signed(token, root, tsa_ca)
    return when
