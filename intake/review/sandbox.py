"""Inspecting and cleaning one attachment in a child process bounded in CPU time, memory and wall time.

The decrypted bytes go to the child through a pipe and the cleaned copy comes back through one; the child may
not write any file (RLIMIT_FSIZE 0) nor dump core. A file that makes it run out of its limits is reported as
too costly, and the review goes on with the next attachment.
"""

from __future__ import annotations

import json
import resource
import signal
import subprocess
import sys
from dataclasses import dataclass

COSTLY = "could not be cleaned: too costly"


@dataclass
class Inspection:
    """What a file carries, and (when cleaning) its cleaned copy or why there is none."""

    found: dict[str, str]
    cleaned: bytes | None = None
    left: dict[str, str] | None = None
    not_cleaned: str | None = None


def limits() -> tuple[int, int]:
    """The CPU seconds and megabytes of memory one attachment may take (checked before any file is written)."""
    from intake.settings import Settings

    settings = Settings.from_env()
    return settings.review_cpu_seconds, settings.review_memory_mb


def inspect(data: bytes, kind: str | None, clean: bool) -> Inspection:
    """Describe `data` (and clean it if asked) in a bounded child process."""
    cpu, memory = limits()
    command = [sys.executable, "-I", "-m", "intake.review.sandbox", kind or "", "clean" if clean else "show",
               str(cpu), str(memory), str(len(data))]
    wall = 3 * cpu + 10
    try:
        done = subprocess.run(command, input=data, capture_output=True, timeout=wall, check=False,  # noqa: S603
                              env={})  # our own module, with nothing of the reviewer's environment
    except subprocess.TimeoutExpired:
        return _costly(f"it took longer than {wall} s")
    if done.returncode == -signal.SIGXCPU:
        return _costly(f"it needs more than {cpu} s of processor time")
    if done.returncode == -signal.SIGKILL:
        return _costly("the inspecting process was killed, out of processor time or memory")
    head, newline, rest = done.stdout.partition(b"\n")
    if done.returncode != 0 or not newline:
        return _costly(f"the inspecting process failed (exit {done.returncode}), maybe out of memory")
    result = json.loads(head)
    return Inspection(result["found"], rest if result.get("cleaned") else None, result.get("left"),
                      result.get("not_cleaned"))


def _costly(why: str) -> Inspection:
    return Inspection({"not checked": f"too costly to inspect ({why}): treat it as hostile"},
                      not_cleaned=f"{COSTLY} ({why}): kept as it is, treat it as hostile")


def _limit(cpu: int, memory_mb: int, size: int) -> None:
    resource.setrlimit(resource.RLIMIT_CPU, (cpu, cpu + 1))
    resource.setrlimit(resource.RLIMIT_AS, ((memory_mb << 20) + 3 * size,) * 2)
    resource.setrlimit(resource.RLIMIT_FSIZE, (0, 0))
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))


def _child(kind: str, mode: str, cpu: int, memory_mb: int, size: int) -> None:
    _limit(cpu, memory_mb, size)
    data = sys.stdin.buffer.read()
    from intake.review.clean import CannotClean, clean
    from intake.review.metadata import describe

    kind_or_none = kind or None
    result: dict[str, object] = {"found": describe(data, kind_or_none)}
    cleaned = b""
    if mode == "clean":
        try:
            cleaned = clean(data, kind_or_none)
            result.update(cleaned=True, left=describe(cleaned, kind_or_none))
        except CannotClean as exc:
            result["not_cleaned"] = str(exc)
    sys.stdout.buffer.write(json.dumps(result).encode() + b"\n" + cleaned)
    sys.stdout.buffer.flush()


if __name__ == "__main__":
    _child(sys.argv[1], sys.argv[2], *(int(a) for a in sys.argv[3:6]))
