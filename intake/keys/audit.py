"""The admin audit log: a hash chain in the database, signed by the admin key when unlocked (docs/keys.md)."""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass

import nacl.exceptions
import nacl.signing
from sqlalchemy import Engine, insert, select
from sqlalchemy.exc import IntegrityError, OperationalError

from intake.crypto.keys import b64decode, b64encode, generichash
from intake.storage.db import writing
from intake.storage.schema import audit

GENESIS = "0" * 64
DOMAIN = b"intake-audit-v1"
# Actions only an admin holding the signing key may take: an unsigned entry for one of them is forged.
SIGNED_ACTIONS = frozenset({"keys init", "keys add", "keys retire", "keys rotate", "keys recovery", "purge"})


@dataclass(frozen=True)
class Entry:
    """One audit entry as stored."""

    seq: int
    at: dt.datetime
    action: str
    detail: str
    prev_hash: str
    hash: str
    signature: str | None

    @property
    def checkpoint(self) -> dict[str, object]:
        """The position of this entry, as the signed keyring records it against truncation."""
        return {"seq": self.seq, "hash": self.hash}

    def as_json(self) -> dict[str, object]:
        """The entry for `intake audit list --json`."""
        return {"seq": self.seq, "at": at_text(self.at), "action": self.action, "detail": json.loads(self.detail),
                "prev_hash": self.prev_hash, "hash": self.hash, "signed": self.signature is not None}


@dataclass(frozen=True)
class Problem:
    """One way the log fails verification: which entry, what kind, and what it means."""

    seq: int
    kind: str
    message: str


def at_text(at: dt.datetime) -> str:
    return at.replace(microsecond=0).isoformat()


def chain_hash(prev_hash: str, at: dt.datetime, action: str, detail: str) -> str:
    """The hash of an entry: BLAKE2b-256 over the previous hash and the entry's own content."""
    content = json.dumps([prev_hash, at_text(at), action, detail], ensure_ascii=False, separators=(",", ":"))
    return generichash(32, DOMAIN + content.encode()).hex()


def _signed_bytes(entry_hash: str) -> bytes:
    return DOMAIN + b":" + entry_hash.encode()


def record(engine: Engine, action: str, detail: dict[str, object],
           signing_key: nacl.signing.SigningKey | None = None) -> Entry:
    """Append an entry after the current last one, signed when the admin key is given; return it."""
    text = json.dumps(detail, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    at = dt.datetime.now(dt.UTC).replace(tzinfo=None, microsecond=0)
    for attempt in range(10):
        try:
            with writing(engine) as conn:
                last = conn.execute(select(audit.c.seq, audit.c.hash).order_by(audit.c.seq.desc()).limit(1)).first()
                seq, prev = (last.seq + 1, last.hash) if last else (1, GENESIS)
                digest = chain_hash(prev, at, action, text)
                signature = b64encode(signing_key.sign(_signed_bytes(digest)).signature) if signing_key else None
                conn.execute(insert(audit).values(seq=seq, at=at, action=action, detail=text, prev_hash=prev,
                                                  hash=digest, signature=signature))
            return Entry(seq, at, action, text, prev, digest, signature)
        except (IntegrityError, OperationalError):
            if attempt == 9:
                raise
    raise AssertionError("unreachable")


def entries(engine: Engine) -> list[Entry]:
    """Every entry, in seq order."""
    with engine.connect() as conn:
        rows = conn.execute(select(audit).order_by(audit.c.seq)).all()
    return [Entry(r.seq, r.at, r.action, r.detail, r.prev_hash, r.hash, r.signature) for r in rows]


def _signature_ok(verify_key: nacl.signing.VerifyKey | None, entry: Entry) -> bool:
    if verify_key is None or entry.signature is None:
        return False
    try:
        verify_key.verify(_signed_bytes(entry.hash), b64decode(entry.signature, 64))
    except (nacl.exceptions.BadSignatureError, ValueError):
        return False
    return True


def verify(engine: Engine, signer: str | None, checkpoint: dict[str, object] | None = None) -> list[Problem]:
    """Check the chain, the signatures and the signed checkpoint; return every problem found."""
    from intake.keys.keyring import SIGNER_PREFIX

    verify_key = nacl.signing.VerifyKey(b64decode(signer.removeprefix(SIGNER_PREFIX), 32)) if signer else None
    rows = entries(engine)
    problems = _content_problems(rows, verify_key) + _link_problems(rows)
    return sorted(problems + _checkpoint_problems(rows, checkpoint), key=lambda p: p.seq)


def _content_problems(rows: list[Entry], verify_key: nacl.signing.VerifyKey | None) -> list[Problem]:
    problems = []
    for e in rows:
        if chain_hash(e.prev_hash, e.at, e.action, e.detail) != e.hash:
            problems.append(Problem(e.seq, "edited", f"entry {e.seq} was edited: its content does not match its hash"))
        elif e.signature is not None and not _signature_ok(verify_key, e):
            problems.append(Problem(e.seq, "bad signature",
                                    f"entry {e.seq} has a bad signature: it was forged or rewritten"))
        elif e.signature is None and e.action in SIGNED_ACTIONS:
            problems.append(Problem(e.seq, "unsigned", f"entry {e.seq} ({e.action}) is not signed by the admin key: "
                                                       "it was forged or its signature removed"))
    return problems


def _link_problems(rows: list[Entry]) -> list[Problem]:
    problems: list[Problem] = []
    position = {e.hash: i for i, e in enumerate(rows)}
    reordered: set[int] = set()
    for i, e in enumerate(rows):
        expected_seq = rows[i - 1].seq + 1 if i else 1
        if e.seq != expected_seq:
            gone = f"{expected_seq}" if e.seq == expected_seq + 1 else f"{expected_seq} to {e.seq - 1}"
            problems.append(Problem(expected_seq, "deleted", f"entry {gone} is missing: it was deleted"))
            continue
        want = rows[i - 1].hash if i else GENESIS
        if e.prev_hash == want:
            continue
        j = position.get(e.prev_hash)
        if j is not None and j > i:
            reordered.update((i, j))
            problems.append(Problem(e.seq, "reordered",
                                    f"entry {e.seq} is out of order: it belongs after entry {rows[j].seq}"))
        elif j is not None and i - 1 in reordered:
            continue
        elif j is not None or (e.prev_hash == GENESIS and i):
            first = j + 1 if j is not None else 0
            seqs = ", ".join(str(r.seq) for r in rows[first:i])
            follows = "the start" if j is None else rows[j].seq
            problems.append(Problem(rows[first].seq, "inserted",
                                    f"entry {seqs} was inserted: entry {e.seq} follows {follows}"))
        elif i:
            before = rows[i - 1].seq
            problems.append(Problem(e.seq, "deleted", f"entry {e.seq} does not follow entry {before}: an entry "
                                                      f"between them was deleted, or entry {before} rewritten"))
        else:
            problems.append(Problem(e.seq, "deleted",
                                    f"entry {e.seq} does not start the log: earlier entries were deleted"))
    return problems


def _checkpoint_problems(rows: list[Entry], checkpoint: dict[str, object] | None) -> list[Problem]:
    if not checkpoint:
        return []
    seq, digest = int(checkpoint["seq"]), str(checkpoint["hash"])
    found = next((e for e in rows if e.seq == seq), None)
    if found is None:
        last = rows[-1].seq if rows else 0
        gone = f"entry {seq} was" if last + 1 >= seq else f"entries {last + 1} to {seq} were"
        return [Problem(last + 1, "deleted", f"{gone} deleted: the signed keyring records entry {seq} as written")]
    if found.hash != digest:
        return [Problem(seq, "rewritten", f"entry {seq} differs from the one the signed keyring records: "
                                          "the log was rewritten up to there")]
    return []
