"""The writers' queue on a SQLite file (intake/storage/writers.py): one turn at a time, across threads and processes."""

from __future__ import annotations

import subprocess
import sys
import threading
import time
from pathlib import Path

from intake.storage.writers import queue_for

HOLD = """
import sys, time
from intake.storage.writers import queue_for
with queue_for(sys.argv[1]).turn():
    print("holding", flush=True)
    sys.stdin.readline()
"""


def test_another_process_waits_for_the_turn(tmp_path: Path) -> None:
    """While another process holds the turn, this one's waits; it gets the turn once that process lets go."""
    database = tmp_path / "intake.db"
    got = threading.Event()

    def wait_turn() -> None:
        with queue_for(str(database)).turn():
            got.set()

    with subprocess.Popen([sys.executable, "-c", HOLD, str(database)], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                          text=True) as holder:
        assert holder.stdout.readline() == "holding\n"
        waiter = threading.Thread(target=wait_turn)
        waiter.start()
        time.sleep(0.3)
        assert not got.is_set(), "the turn was taken while another process held it"
        holder.stdin.write("\n")
        holder.stdin.flush()
        waiter.join(timeout=30)
        assert got.is_set()
    assert (tmp_path / "intake.db-writer").read_bytes() == b""


def test_threads_take_turns(tmp_path: Path) -> None:
    """Eight threads in one process: never two in a turn at once."""
    queue = queue_for(str(tmp_path / "intake.db"))
    inside, most = [0], [0]
    guard = threading.Lock()

    def work() -> None:
        for _ in range(50):
            with queue.turn():
                with guard:
                    inside[0] += 1
                    most[0] = max(most[0], inside[0])
                time.sleep(0.0002)
                with guard:
                    inside[0] -= 1

    threads = [threading.Thread(target=work) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert most[0] == 1
