"""Seal a file to 3 recipients with intake.crypto and with age, each in its own process; seconds and peak memory.

Run `.venv/bin/python bench/seal.py [--mib 256] [--runs 5] [--json]` from the repository root. The file is
already in the page cache; both tools write their output without fsync, so this is the sealing
itself (the no-JS row of `python -m bench` adds HTTP and durable storage). intake writes the
header and the attachment stream as it seals, then the body (the manifest's SHA-256 is known only
at the end), which is the work the server does.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.common import MIB, median  # noqa: E402
from bench.nojs import age_command, ensure_tools  # noqa: E402


def seal_file(src: str, dst: str) -> None:
    """The measured work: seal `src` to 3 fresh recipients into `dst`, streaming."""
    from intake.crypto.envelope import Sealer
    from intake.crypto.keys import Identity

    sealer = Sealer([Identity.generate().recipient for _ in range(3)])
    stream = sealer.attachment()
    with open(src, "rb", buffering=0) as f, open(dst, "wb") as out:
        out.write(sealer.header())
        out.write(stream.start())
        while block := f.read(MIB):
            for piece in stream.push(block):
                out.write(piece)
        out.write(stream.finish())
        sealer.end_attachment(os.path.basename(src), "application/octet-stream")
        out.write(sealer.body({}))


def timed(cmd: list[str]) -> tuple[float, float]:
    """Run a command; its wall time in seconds and its peak RSS in MiB."""
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL)
    _, status, usage = os.wait4(proc.pid, 0)
    if status:
        raise SystemExit(f"{cmd[0]} failed with status {status}")
    return time.perf_counter() - start, usage.ru_maxrss / 1024


def main() -> None:
    """Measure both tools, alternating, and print their medians and ratio."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mib", type=int, default=256)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--json", action="store_true", help="print one JSON line instead of the table")
    parser.add_argument("--child", nargs=2, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        seal_file(*args.child)
        return
    ensure_tools()
    work = Path(tempfile.mkdtemp(prefix="intake-bench-"))
    try:
        src = work / "input.bin"
        with src.open("wb") as f:
            for _ in range(args.mib):
                f.write(os.urandom(MIB))
        tools = {"intake": [sys.executable, __file__, "--child", str(src), str(work / "out.intake")],
                 "age": age_command(work, src)}
        runs: dict[str, list[tuple[float, float]]] = {name: [] for name in tools}
        for _ in range(args.runs):
            for name, cmd in tools.items():
                runs[name].append(timed(cmd))
    finally:
        shutil.rmtree(work)
    seconds = {name: median([r[0] for r in got]) for name, got in runs.items()}
    peak = {name: max(r[1] for r in got) for name, got in runs.items()}
    if args.json:
        print(json.dumps({"mib": args.mib, "seconds": seconds, "peak_mib": peak}))
        return
    print(f"sealing {args.mib} MiB to 3 recipients, median of {args.runs} runs, tools alternating")
    for name in tools:
        print(f"{name:8} {seconds[name]:7.3f} s {args.mib / seconds[name]:7.0f} MiB/s  peak {peak[name]:5.0f} MiB")
    print(f"intake / age time: {seconds['intake'] / seconds['age']:.2f} (goal: at most 2; peak under 64 MiB)")


if __name__ == "__main__":
    main()
