"""The hourly sweep's rebuild of a SQLite file in random order (storage/layout.py) against copying the same file
with fsync (`cp` then `sync`: the least any rewrite costs). Run by `python -m bench --only layout`."""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import tempfile
import time
from pathlib import Path

from intake.crypto.stream import ABYTES, HEADER, PART, SEALED_CHUNK
from intake.storage.db import connect, upgrade, writing
from intake.storage.layout import shuffle_file
from intake.storage.lifecycle import append_parts, insert_case


def fill(url: str, mib: int) -> None:
    """One report with a `mib` MiB file, stored in 1 MiB parts as an upload stores them."""
    engine = connect(url)
    upgrade(engine)
    length = HEADER + 16 * mib * SEALED_CHUNK + ABYTES
    with writing(engine) as conn:
        case_id = insert_case(conn, os.urandom(200), os.urandom(1064), "browser", [], [length], complete=False)[0]
    sizes = [min(PART, length - at) for at in range(0, length, PART)]
    for first in range(0, len(sizes), 16):
        append_parts(engine, case_id, 0, first, [os.urandom(n) for n in sizes[first:first + 16]])
    engine.dispose()


def main() -> None:
    """Measure the rebuild and the copy; print JSON with --json."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--mib", type=int, default=1024)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="intake-bench-"))
    try:
        database = work / "bench.db"
        url = f"sqlite:///{database}"
        fill(url, args.mib)
        engine = connect(url)
        rebuild, copy = [], []
        for _ in range(args.runs):
            start = time.perf_counter()
            shuffle_file(engine)
            rebuild.append(time.perf_counter() - start)
            start = time.perf_counter()
            shutil.copyfile(database, work / "copy.db")
            subprocess.run(["sync", str(work / "copy.db")], check=True)
            copy.append(time.perf_counter() - start)
            (work / "copy.db").unlink()
        engine.dispose()
        size = database.stat().st_size / (1 << 20)
    finally:
        shutil.rmtree(work)
    got = {"mib": round(size), "rebuild_s": statistics.median(rebuild), "copy_s": statistics.median(copy)}
    print(json.dumps(got) if args.json else got)


if __name__ == "__main__":
    main()
