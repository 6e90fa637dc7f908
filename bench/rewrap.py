"""Seconds to rewrap 100,000 cases to 3 recipients, next to bare PyNaCl doing the same key work.

    .venv/bin/python bench/rewrap.py [--cases N] [--jobs J] [--json]

Cases go into a temporary SQLite database in bulk; then one reviewer is rotated and every header is
re-sealed by `intake.keys.rewrap.rewrap` (the code behind `intake keys rewrap`). The bare figure opens one
stanza, seals K to the 3 new recipients and computes the header MAC for every case, in one process,
with no parsing and no database. Goals: rewrap under 60 s and within 2x of bare.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import sys
import tempfile
import time
from pathlib import Path

import nacl.bindings as sodium
import nacl.utils
from sqlalchemy import insert, select

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from intake.clock import today  # noqa: E402
from intake.crypto.envelope import MAC_KEY_ID, Body, derive, parse_header, seal_body, seal_header  # noqa: E402
from intake.crypto.keys import Identity, Recipient, generichash  # noqa: E402
from intake.keys.rewrap import rewrap  # noqa: E402
from intake.storage.cases import new_ref  # noqa: E402
from intake.storage.db import connect, upgrade  # noqa: E402
from intake.storage.schema import case_keys, cases  # noqa: E402

BODY = seal_body(bytes(32), Body({"incident_type": "drone"}))


def _rows(args: tuple[list[Recipient], int]) -> list[dict[str, object]]:
    recipients, count = args
    rows = []
    for _ in range(count):
        k = nacl.utils.random(32)
        rows.append({"ref": new_ref(), "received": today(), "status": "new", "sealed_by": "server",
                     "header": seal_header(k, recipients), "body": BODY, "complete": True})
    return rows


def fill(engine, recipients: list[Recipient], count: int) -> None:
    """Insert `count` cases sealed to `recipients`, sealing in parallel and inserting 5,000 to a transaction."""
    key_ids = [r.key_id for r in recipients]
    with multiprocessing.get_context("fork").Pool() as pool:
        for rows in pool.imap(_rows, [(recipients, min(5000, count - at)) for at in range(0, count, 5000)]):
            with engine.begin() as conn:
                conn.execute(insert(cases), rows)
                ids = conn.execute(select(cases.c.id).where(cases.c.ref.in_([r["ref"] for r in rows]))).scalars()
                conn.execute(insert(case_keys), [{"case_id": i, "key_id": k} for i in ids for k in key_ids])


def bare(headers: list[bytes], identity: Identity, recipients: list[Recipient]) -> float:
    """Seconds for bare PyNaCl: open one stanza, seal K to each recipient, MAC the new header."""
    public = identity.recipient.public_key
    ids = [bytes.fromhex(r.key_id) for r in recipients]
    start = time.perf_counter()
    for header in headers:
        stanza = header[6 + 96 + 16:6 + 2 * 96]
        k = sodium.crypto_box_seal_open(stanza, public, identity.secret_key)
        stanzas = (i + sodium.crypto_box_seal(k, r.public_key) for i, r in zip(ids, recipients, strict=True))
        signed = b"INTK\x01\x03" + b"".join(stanzas)
        generichash(32, signed, derive(k, MAC_KEY_ID))
    return time.perf_counter() - start


def main() -> None:
    """Run the benchmark once and print both figures and their ratio."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=100_000)
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--json", action="store_true", help="print the figures as one JSON object")
    opts = parser.parse_args()
    alice, bob, carol, new_alice = (Identity.generate() for _ in range(4))
    before = [alice.recipient, bob.recipient, carol.recipient]
    after = [new_alice.recipient, bob.recipient, carol.recipient]
    with tempfile.TemporaryDirectory() as tmp:
        engine = connect(f"sqlite:///{tmp}/bench.db")
        upgrade(engine)
        start = time.perf_counter()
        fill(engine, before, opts.cases)
        print(f"setup: {opts.cases} cases sealed to 3 recipients and stored in {time.perf_counter() - start:.1f} s",
              file=sys.stderr)
        with engine.connect() as conn:
            headers = conn.execute(select(cases.c.header)).scalars().all()
        assert parse_header(headers[0]).key_ids[1] == bob.key_id
        bare_s = bare(headers, bob, after)
        del headers
        start = time.perf_counter()
        outcome = rewrap(engine, [bob], after, opts.jobs)
        rewrap_s = time.perf_counter() - start
        engine.dispose()
    assert outcome.rewrapped == opts.cases
    assert not outcome.failed
    if opts.json:
        print(json.dumps({"cases": opts.cases, "jobs": opts.jobs, "bare_s": bare_s, "rewrap_s": rewrap_s}))
        return
    print(f"cases: {opts.cases}, recipients: 3, cpus: {os.cpu_count()}, rewrap jobs: {opts.jobs}")
    print(f"bare PyNaCl unseal+seal+MAC (1 process): {bare_s:.1f} s")
    print(f"intake rewrap (database, {opts.jobs} worker{'s' if opts.jobs != 1 else ''}): {rewrap_s:.1f} s")
    print(f"ratio rewrap / bare: {rewrap_s / bare_s:.2f}")


if __name__ == "__main__":
    main()
