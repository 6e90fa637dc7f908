"""Seal a 256 MiB file to 3 recipients with intake and with age; print seconds, peak memory, ratio.

Run: .venv/bin/python bench/seal.py [--mib 256] [--runs 5]. Each tool runs as its own process,
in the same run, on the same file already in the page cache; figures are medians. intake writes
the header and the attachment stream to the output file as it seals, then the body beside it
(the manifest's SHA-256 is known only at the end), which is the work the server does.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def seal_file(src: str, dst: str) -> None:
    """The measured work: seal `src` to 3 fresh recipients into `dst`, streaming."""
    from intake.crypto.envelope import Sealer
    from intake.crypto.keys import Identity

    sealer = Sealer([Identity.generate().recipient for _ in range(3)])
    stream = sealer.attachment()
    with open(src, "rb", buffering=0) as f, open(dst, "wb") as out:
        out.write(sealer.header())
        out.write(stream.start())
        while block := f.read(1 << 20):
            for piece in stream.push(block):
                out.write(piece)
        out.write(stream.finish())
    sealer.end_attachment(os.path.basename(src), "application/octet-stream")
    Path(dst + ".body").write_bytes(sealer.body({}))


def run(cmd: list[str]) -> tuple[float, int]:
    """Run a command; return its wall time and its peak RSS in MiB."""
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL)
    _, status, usage = os.wait4(proc.pid, 0)
    elapsed = time.perf_counter() - start
    if status:
        raise SystemExit(f"{cmd[0]} failed with status {status}")
    return elapsed, usage.ru_maxrss // 1024


def age_command(work: Path, src: Path) -> list[str] | None:
    """The age command sealing `src` to 3 fresh recipients, or None when age is missing."""
    if not (shutil.which("age") and shutil.which("age-keygen")):
        return None
    recipients = []
    for n in range(3):
        key = work / f"age{n}.txt"
        subprocess.run(["age-keygen", "-o", str(key)], check=True, capture_output=True)
        public = next(ln.split(": ")[1] for ln in key.read_text().splitlines() if "public key" in ln)
        recipients += ["-r", public]
    return ["age", *recipients, "-o", str(work / "out.age"), str(src)]


def main() -> None:
    """Measure both tools and print the table."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--mib", type=int, default=256)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--child", nargs=2, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        seal_file(*args.child)
        return
    work = Path(tempfile.mkdtemp(prefix="intake-bench-"))
    try:
        src = work / "input.bin"
        with src.open("wb") as f:
            for _ in range(args.mib):
                f.write(os.urandom(1 << 20))
        tools = {"intake": [sys.executable, __file__, "--child", str(src), str(work / "out.intake")]}
        age = age_command(work, src)
        if age:
            tools["age"] = age
        results = {}
        for _ in range(args.runs):
            for name, cmd in tools.items():
                results.setdefault(name, []).append(run(cmd))
        print(f"sealing {args.mib} MiB to 3 recipients, median of {args.runs} runs, tools interleaved")
        print(f"{'tool':8} {'seconds':>8} {'MB/s':>8} {'peak MiB':>9}")
        medians = {}
        for name, runs in results.items():
            medians[name] = statistics.median(r[0] for r in runs)
            print(f"{name:8} {medians[name]:8.3f} {args.mib * 1.048576 / medians[name]:8.0f} {max(r[1] for r in runs):9d}")
        if "age" in medians:
            print(f"intake / age time ratio: {medians['intake'] / medians['age']:.2f} (goal: at most 2)")
        else:
            print("age is not installed (apt-get install age): no ratio")
    finally:
        shutil.rmtree(work)


if __name__ == "__main__":
    main()
