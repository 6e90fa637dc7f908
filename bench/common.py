"""What the bench rows share: rows and their goals, medians, peak memory of processes, servers."""

from __future__ import annotations

import os
import re
import statistics
import subprocess
import sys
import threading
import time
import urllib.request
from dataclasses import asdict, dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("INTAKE_KDF_PROFILE", "interactive")
MIB = 1 << 20


@dataclass
class Row:
    """One line of the table: intake's figure next to a baseline's, measured in the same run."""

    name: str
    unit: str
    intake: float
    baseline_name: str
    baseline: float
    higher_is_better: bool = True
    goal: str = ""
    met: bool | None = None
    memory_mib: dict[str, float] = field(default_factory=dict)
    note: str = ""

    @property
    def ratio(self) -> float:
        """intake's speed as a multiple of the baseline's (above 1: intake is faster)."""
        if self.higher_is_better:
            return self.intake / self.baseline
        return self.baseline / self.intake

    def as_json(self) -> dict[str, object]:
        """The row with its ratio, for bench/out/latest.json."""
        return {**asdict(self), "ratio": round(self.ratio, 3)}


def median(values: list[float]) -> float:
    """The median of several runs."""
    return statistics.median(values)


def rss_kib(pid: int) -> int:
    """VmRSS of one process, in KiB (0 once it is gone)."""
    try:
        match = re.search(r"VmRSS:\s+(\d+) kB", Path(f"/proc/{pid}/status").read_text())
    except OSError:
        return 0
    return int(match.group(1)) if match else 0


def children(pid: int) -> list[int]:
    """Direct children of a process."""
    try:
        return [int(c) for c in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    except OSError:
        return []


class PeakMemory:
    """Samples VmRSS every 5 ms of a gunicorn master and each of its workers (or of one tool); keeps peaks in MiB."""

    def __init__(self, master: int, workers: bool = True) -> None:
        self.master = master
        self.peaks = {"master": 0.0, "worker": 0.0}
        self.workers = workers
        self._done = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)

    def __enter__(self) -> PeakMemory:
        self._thread.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self._done.set()
        self._thread.join()

    def _sample(self) -> None:
        while not self._done.is_set():
            self.peaks["master"] = max(self.peaks["master"], rss_kib(self.master) / 1024)
            for worker in children(self.master) if self.workers else ():
                self.peaks["worker"] = max(self.peaks["worker"], rss_kib(worker) / 1024)
            time.sleep(0.005)


def run_tool(cmd: list[str], env: dict[str, str] | None = None) -> tuple[float, float]:
    """Run a command to its end; return its wall time in seconds and its peak RSS in MiB (sampled)."""
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env)
    with PeakMemory(proc.pid, workers=False) as peak:
        status = proc.wait()
    elapsed = time.perf_counter() - start
    if status:
        raise SystemExit(f"{cmd[0]} failed with status {status}")
    return elapsed, peak.peaks["master"]


def wait_until_up(url: str, process: subprocess.Popen, what: str) -> None:
    """Wait for a server to answer `url`, or stop with its name."""
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(url, timeout=2).close()  # noqa: S310
            return
        except OSError:
            if process.poll() is not None:
                break
            time.sleep(0.1)
    raise SystemExit(f"{what} did not start")


class BareServer:
    """bench/bare.py served by intake's gunicorn configuration, on a database of the same kind."""

    def __init__(self, db_url: str, workers: int = 2) -> None:
        from bench.site import free_port

        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.process = subprocess.Popen([sys.executable, "-m", "bench.bare", str(self.port), db_url, str(workers)],
                                        cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        wait_until_up(self.url + "/ping", self.process, "the bare server")

    def stop(self) -> None:
        """Stop it and wait."""
        self.process.terminate()
        self.process.wait(timeout=20)
