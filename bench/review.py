"""How fast `intake-review list` opens stored cases, next to a bare PyNaCl sealed-box loop, in one run.

Run `.venv/bin/python bench/review.py [N] [--json]` from the repository root (N defaults to 10,000). It stores N
small server-sealed cases in a temporary SQLite database, then times:
- bare: N crypto_box_seal_open calls on 32-byte keys (the floor: one sealed box per case);
- list: the code path of `intake-review list` (triage.records.open_records + select), in this process;
- search: the same with `--search` (every note and thread opened too, every case's text searched);
- cli: the real `intake-review list --json` process, startup and Argon2id unlock included.
The bare loop and the list are timed alternately, three times each, in processor time of this process
(both are single-threaded and CPU-bound: the database file is in the page cache), and the fastest run
of each is kept, so that other jobs on a shared machine do not favour one side. It prints cases a
second for each and their ratio to the bare loop (goal: list >= 0.5), and search's to list's (goal: >= 0.4).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import nacl.bindings as sodium
from sqlalchemy import insert

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("INTAKE_KDF_PROFILE", "interactive")

from intake.clock import today  # noqa: E402
from intake.crypto.keyfile import lock_identity, write_private  # noqa: E402
from intake.crypto.keys import Identity  # noqa: E402
from intake.crypto.report import seal_report  # noqa: E402
from intake.review.session import Session  # noqa: E402
from intake.storage.cases import new_ref  # noqa: E402
from intake.storage.db import connect, upgrade  # noqa: E402
from intake.storage.schema import case_keys, cases  # noqa: E402
from intake.triage.filters import Filters, select  # noqa: E402
from intake.triage.records import open_records  # noqa: E402

ROUNDS = 3
FIELDS = {"incident_type": "cctv", "description": "A camera at the corner turned to follow us.", "location": "Yangon",
          "province": "MM-06", "lang": "en"}
SEARCH = "corner yangon"  # every case holds both words: the whole search is done and nothing is left out


def populate(url: str, identity: Identity, n: int) -> None:
    """Store n sealed cases (sealed to the identity and two others) in one transaction."""
    recipients = [identity.recipient, Identity.generate().recipient, Identity.generate().recipient]
    engine = connect(url)
    upgrade(engine)
    rows = []
    for i in range(n):
        sealed = seal_report(recipients, {**FIELDS, "n": str(i)})
        rows.append({"id": i + 1, "ref": new_ref(), "received": today(), "status": "new", "sealed_by": "server",
                     "header": sealed.header, "body": sealed.body, "complete": True})
    with engine.begin() as conn:
        conn.execute(insert(cases), rows)
        conn.execute(insert(case_keys), [{"case_id": r["id"], "key_id": k.key_id} for r in rows for k in recipients])
    engine.dispose()


def bare(identity: Identity, n: int) -> float:
    """Seconds for n crypto_box_seal_open calls."""
    pk = identity.recipient.public_key
    boxes = [sodium.crypto_box_seal(os.urandom(32), pk) for _ in range(n)]
    start = time.process_time()
    for box in boxes:
        sodium.crypto_box_seal_open(box, pk, identity.secret_key)
    return time.process_time() - start


def listing(url: str, identity: Identity, n: int, search: str = "") -> float:
    """Seconds for the code path of `intake-review list` (with `--search`) over every stored case."""
    session = Session((), None, url, None, _identities=[(Path("bench.key"), identity)])
    start = time.process_time()
    rows = select(open_records(session, deep=bool(search)), Filters(search=search))
    elapsed = time.process_time() - start
    assert len(rows) == n
    assert all(row.opened for row in rows)
    session.source.engine.dispose()
    return elapsed


def cli(url: str, identity: Identity, folder: Path) -> float:
    """Seconds for the real `intake-review list --json` process."""
    key, secret = folder / "bench.key", folder / "bench.pass"
    write_private(key, lock_identity(identity, b"bench passphrase", "interactive"))
    secret.write_text("bench passphrase\n")
    command = [str(Path(sys.executable).parent / "intake-review"), "--identity", str(key),
               "--passphrase-file", str(secret), "--db", url, "list", "--json"]
    start = time.perf_counter()
    subprocess.run(command, check=True, stdout=subprocess.DEVNULL)
    return time.perf_counter() - start


def main() -> None:
    """Store the cases, time the three loops, print rates and ratios."""
    numbers = [a for a in sys.argv[1:] if a.isdigit()]
    n = int(numbers[0]) if numbers else 10_000
    identity = Identity.generate()
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite:///{tmp}/bench.db"
        populate(url, identity, n)
        runs = [(bare(identity, n), listing(url, identity, n), listing(url, identity, n, SEARCH))
                for _ in range(ROUNDS)]
        t_bare, t_list, t_search = (min(run[i] for run in runs) for i in range(3))
        t_cli = cli(url, identity, Path(tmp))
    base = n / t_bare
    if "--json" in sys.argv:
        print(json.dumps({"cases": n, "bare": base, "list": n / t_list, "search": n / t_search, "cli": n / t_cli}))
        return
    print(f"cases: {n}")
    print(f"bare crypto_box_seal_open: {base:9.0f} /s")
    for name, seconds in (("list (in-process)", t_list), ("intake-review list --json", t_cli)):
        print(f"{name:26s} {n / seconds:9.0f} /s   ratio {n / seconds / base:.2f}")
    print(f"{'list --search':26s} {n / t_search:9.0f} /s   ratio to list {t_list / t_search:.2f}")


if __name__ == "__main__":
    main()
