"""The same sealed rows on SQLite and on PostgreSQL: small cases per second, 1 MiB parts per second (sealed on
arrival; uploaded for a report; uploaded for a follow-up), and how long another writer waits for the write lock
while an upload of a report completes and while a follow-up's is delivered.

Run: .venv/bin/python bench/storage.py [--cases 2000] [--mib 64] [--json]. Both databases are measured in
the same run, on this machine (PostgreSQL on loopback, INTAKE_BENCH_POSTGRES to override).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import tempfile
import threading
import time
import uuid
from collections.abc import Callable
from pathlib import Path

from sqlalchemy import Engine, create_engine, text

from intake.crypto.keys import Identity
from intake.crypto.report import seal_report
from intake.crypto.stream import PART
from intake.storage.admission import Limits
from intake.storage.budgets import spend
from intake.storage.db import connect, upgrade, writing
from intake.storage.followups import admit_follow_up, deliver
from intake.storage.lifecycle import (
    add_stream,
    append_parts,
    complete_case,
    insert_case,
    open_arrival,
    put_part,
    upload_case,
)
from intake.web.sealing import BATCH

UNLIMITED = Limits(daily_bytes=1 << 40, pending_bytes=1 << 40, case_bytes=1 << 40)
POSTGRES = os.environ.get("INTAKE_BENCH_POSTGRES", "postgresql+psycopg://postgres@127.0.0.1:5432/test")


def measure(url: str, cases: int, mib: int) -> dict[str, float]:
    """Store `cases` small cases, then one case of `mib` MiB; return rates."""
    engine = connect(url)
    upgrade(engine)
    identities = [Identity.generate() for _ in range(3)]
    small = seal_report([i.recipient for i in identities], {"description": "x" * 500})
    key_ids = [i.key_id for i in identities]
    start = time.perf_counter()
    for _ in range(cases):
        with writing(engine) as conn:
            insert_case(conn, small.header, small.body, "browser", key_ids, [], complete=True)
    small_rate = cases / (time.perf_counter() - start)
    big = seal_report([i.recipient for i in identities], {}, [("f", "t", (os.urandom(PART) for _ in range(mib)))])
    stream = big.streams[0]
    start = time.perf_counter()
    case_id = open_arrival(engine)  # as the no-JS path stores a file: parts in batches, then the case completes
    add_stream(engine, case_id, 0)
    chunks = [stream[i:i + PART] for i in range(0, len(stream), PART)]
    for first in range(0, len(chunks), BATCH):
        append_parts(engine, case_id, 0, first, chunks[first:first + BATCH])
    complete_case(engine, case_id, big.header, big.body, key_ids, [len(stream)])
    part_rate = len(stream) / PART / (time.perf_counter() - start)
    rates = {"small cases/s": small_rate, "parts (MiB)/s": part_rate,
             **uploaded(engine, big.header, big.body, key_ids, stream)}
    engine.dispose()
    return rates


def uploaded(engine: Engine, header: bytes, body: bytes, key_ids: list[str], stream: bytes) -> dict[str, float]:
    """The same stream uploaded part by part (web/api.py) as a report's file, then as a follow-up's (its carrier
    delivered into the thread, the parts left where they were stored: storage/followups.py)."""
    chunks = [stream[i:i + PART] for i in range(0, len(stream), PART)]
    with writing(engine) as conn:
        thread_case = insert_case(conn, header, body, "browser", key_ids, [], complete=True)[0]

    def put_all(owner: int) -> None:
        for number, chunk in enumerate(chunks):
            put_part(engine, owner, 0, number, chunk)

    def report() -> None:
        with writing(engine) as conn:
            owner = insert_case(conn, header, body, "browser", key_ids, [len(stream)], complete=False)[0]
        put_all(owner)
        complete_case(engine, owner)

    def follow_up() -> None:
        owner = upload_case(engine, admit_follow_up(engine, thread_case, header, body, [len(stream)], "browser",
                                                    UNLIMITED))
        put_all(owner)
        deliver(engine, owner)

    rates = {}
    for name, run in (("report upload (MiB)/s", report), ("follow-up upload (MiB)/s", follow_up)):
        start = time.perf_counter()
        waited = waits_during(engine, run)
        rates[name] = len(chunks) / (time.perf_counter() - start)
        rates[name.replace("upload (MiB)/s", "lock wait (s)")] = waited
    return rates


def waits_during(engine: Engine, run: Callable[[], None]) -> float:
    """Run `run` while another writer of this process writes a row every 10 ms; its longest wait for the write
    lock, in seconds (an upload's parts are short transactions; completing or delivering it is one long one)."""
    stop, waits = threading.Event(), [0.0]

    def other() -> None:
        while not stop.is_set():
            began = time.perf_counter()
            with writing(engine) as conn:
                spend(conn, os.urandom(16), 0)
            waits.append(time.perf_counter() - began)
            time.sleep(0.01)

    writer = threading.Thread(target=other)
    writer.start()
    try:
        run()
    finally:
        stop.set()
        writer.join()
    return max(waits)


def main() -> None:
    """Measure both backends and print the table with ratios."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--cases", type=int, default=2000)
    parser.add_argument("--mib", type=int, default=64)
    parser.add_argument("--json", action="store_true", help="print the figures as one JSON object")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="intake-bench-"))
    name = "intake_bench_" + uuid.uuid4().hex[:8]
    admin = create_engine(POSTGRES, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
        sqlite = measure(f"sqlite:///{work / 'bench.db'}", args.cases, args.mib)
        postgres = measure(POSTGRES.rsplit("/", 1)[0] + "/" + name, args.cases, args.mib)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()
        shutil.rmtree(work)
    if args.json:
        print(json.dumps({"cases": args.cases, "mib": args.mib, "sqlite": sqlite, "postgres": postgres}))
        return
    print(f"storage: {args.cases} small cases, then one {args.mib} MiB attachment, one process")
    print(f"{'row':16} {'SQLite':>10} {'PostgreSQL':>11} {'PG/SQLite':>10}")
    for row in sqlite:
        if "lock" in row:
            print(f"{row:16} {sqlite[row]:10.2f} {postgres[row]:11.2f}")
            continue
        print(f"{row:16} {sqlite[row]:10.0f} {postgres[row]:11.0f} {postgres[row] / sqlite[row]:10.2f}")


if __name__ == "__main__":
    main()
