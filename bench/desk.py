"""How long `intake-review desk` takes to open on N cases, and its peak memory, next to `intake-review list`.

Run `.venv/bin/python bench/desk.py [N] [--runs R] [--json]` from the repository root (N defaults to 10,000).
It stores N small server-sealed cases in a temporary SQLite database (bench/review.py's `populate`), then
times, alternately and R times each (the fastest kept), two whole processes in processor time (user and
system; both are CPU-bound and mostly single-threaded, so on an idle machine this is their wall-clock time,
which is printed too but swings with the load of a shared machine):
- desk: a fresh Python process that opens the desk as `intake-review desk` does (the identity file unlocked
  with Argon2id, every case opened once with its notes and thread, the list filled) in Textual's headless
  driver at 150x45 cells, until the list shows every case; it reports its own peak RSS;
- list: the real `intake-review list --json` process on the same database (unlock and startup included).
Goal: the desk open in under 10 s with a peak RSS under 500 MiB on 10,000 cases.
"""

from __future__ import annotations

import asyncio
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.review import populate  # noqa: E402 - sets INTAKE_KDF_PROFILE before intake is imported
from intake.crypto.keyfile import lock_identity, write_private  # noqa: E402
from intake.crypto.keys import Identity  # noqa: E402

PASSPHRASE = "bench passphrase"


def open_desk(url: str, key: Path, secret: Path, n: int) -> dict[str, float]:
    """In this process: the desk opened headless until its list shows all n cases; the peak RSS in MiB."""
    from intake.desk.app import DeskApp
    from intake.desk.cases import Desk
    from intake.desk.listview import CaseList
    from intake.review.session import Session

    session = Session((key,), secret, url, None)
    app = DeskApp(Desk(session, key.parent, "unused: nothing is sealed"))

    async def run() -> int:
        async with app.run_test(size=(150, 45)) as pilot:
            await app.workers.wait_for_complete()
            await pilot.pause()
            return len(app.query_one(CaseList).refs)

    rows = asyncio.run(run())
    session.close()
    assert rows == n, f"the desk listed {rows} cases of {n}"
    return {"peak_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}


def timed(command: list[str]) -> tuple[float, float, str]:
    """Processor seconds (user and system) and wall-clock seconds of one whole process, and what it printed."""
    before, start = resource.getrusage(resource.RUSAGE_CHILDREN), time.perf_counter()
    done = subprocess.run(command, check=True, capture_output=True, text=True)  # noqa: S603
    wall, after = time.perf_counter() - start, resource.getrusage(resource.RUSAGE_CHILDREN)
    return after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime, wall, done.stdout


def main() -> None:
    """Store the cases, time the desk and list processes alternately, print seconds and the desk's peak RSS."""
    if sys.argv[1:2] == ["--open"]:
        url, key, secret, n = sys.argv[2], Path(sys.argv[3]), Path(sys.argv[4]), int(sys.argv[5])
        print(json.dumps(open_desk(url, key, secret, n)))
        return
    numbers = [a for a in sys.argv[1:] if a.isdigit()]
    n = int(numbers[0]) if numbers else 10_000
    runs = int(sys.argv[sys.argv.index("--runs") + 1]) if "--runs" in sys.argv else 3
    identity = Identity.generate()
    with tempfile.TemporaryDirectory() as tmp:
        url, key, secret = f"sqlite:///{tmp}/bench.db", Path(tmp) / "bench.key", Path(tmp) / "bench.pass"
        populate(url, identity, n)
        write_private(key, lock_identity(identity, PASSPHRASE.encode(), "interactive"))
        secret.write_text(PASSPHRASE + "\n")
        desk_runs, list_runs, peaks = [], [], []
        for _ in range(runs):
            cpu, wall, out = timed([sys.executable, __file__, "--open", url, str(key), str(secret), str(n)])
            desk_runs.append((cpu, wall))
            peaks.append(json.loads(out.strip().splitlines()[-1])["peak_mib"])
            list_runs.append(timed([str(Path(sys.executable).parent / "intake-review"), "--identity", str(key),
                                    "--passphrase-file", str(secret), "--db", url, "list", "--json"])[:2])
    got = {"cases": n, "desk_s": min(desk_runs)[0], "desk_wall_s": min(w for _, w in desk_runs),
           "list_s": min(list_runs)[0], "list_wall_s": min(w for _, w in list_runs), "desk_peak_mib": max(peaks)}
    if "--json" in sys.argv:
        print(json.dumps(got))
        return
    print(f"cases: {n}")
    print(f"desk opened:          {got['desk_s']:6.2f} s of processor ({got['desk_wall_s']:.2f} s wall)   "
          f"peak RSS {got['desk_peak_mib']:.0f} MiB")
    print(f"intake-review list:   {got['list_s']:6.2f} s of processor ({got['list_wall_s']:.2f} s wall)")


if __name__ == "__main__":
    main()
