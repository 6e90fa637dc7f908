"""Inspecting and cleaning one attachment in a child process bounded in CPU time, memory and wall time.

The decrypted bytes go to the child through a pipe and the cleaned copy comes back through one; the child may
not write any file (RLIMIT_FSIZE 0) nor dump core. A file that makes it run out of its limits is reported as
too costly, and the review goes on with the next attachment. The digest's previews (`Previews`) fork such a
child per photo from one process that imported Pillow once.
"""

from __future__ import annotations

import json
import os
import resource
import select
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass

COSTLY = "could not be cleaned: too costly"
PREVIEW_CPU, PREVIEW_MB = 5, 384  # at most, for one preview (the settings may lower them)
MAX_PREVIEW_INPUT = 64 << 20  # a photo larger than this gets no preview
MAX_PREVIEW_OUTPUT = 1 << 20


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


class Helper:
    """A long-lived helper process run as `command` with `env`: a fresh interpreter whose errors go to /dev/null,
    in a session of its own (no terminal to open as /dev/tty), so nothing a stranger's file makes a decoder say
    (terminal escapes included) reaches the reviewer's terminal. Started at the first request, again after a
    failure; a request is a JSON line and the file's bytes, an answer a JSON line and the bytes it names."""

    def __init__(self, command: list[str], env: dict[str, str]) -> None:
        self.command, self.env = command, env
        self.server: subprocess.Popen[bytes] | None = None

    def __enter__(self) -> Helper:
        return self

    def __exit__(self, *exc: object) -> None:
        if self.server is not None:
            self.server.stdin.close()  # type: ignore[union-attr]
            self.server.wait()
            self.server.stdout.close()  # type: ignore[union-attr]

    def ask(self, kind: str | None, data: bytes) -> dict[str, object]:
        """Send one file; the answer's JSON line (read the bytes it names with `read`). OSError or ValueError when
        the helper failed: call `failed`."""
        if self.server is None or self.server.poll() is not None:
            self.server = subprocess.Popen(self.command, stdin=subprocess.PIPE, stdout=subprocess.PIPE,  # noqa: S603
                                           stderr=subprocess.DEVNULL, env=self.env, start_new_session=True)
        self.server.stdin.write(json.dumps({"kind": kind or "", "size": len(data)}).encode() + b"\n" + data)  # type: ignore[union-attr]
        self.server.stdin.flush()  # type: ignore[union-attr]
        head = json.loads(self.server.stdout.readline())  # type: ignore[union-attr]
        if not isinstance(head, dict):
            raise ValueError("the helper's answer is not an object")
        return head

    def read(self, size: int) -> bytes:
        """The next `size` bytes the helper wrote."""
        return self.server.stdout.read(size) if size else b""  # type: ignore[union-attr]

    def failed(self) -> None:
        """End a helper that failed; the next request starts a new one."""
        self.server.kill()  # type: ignore[union-attr]
        self.server.wait()  # type: ignore[union-attr]


class Previews(Helper):
    """New small JPEGs of photos, each drawn in its own child process, forked from one that imported Pillow once.

    The forked child has the limits of `inspect` (processor time, memory, no file, no core), so a decompression
    bomb or a malformed photo is one "no preview"; the next photo gets a fresh child. The helper (`Helper`) writes
    nothing to the reviewer's terminal.
    """

    def __init__(self) -> None:
        cpu, memory = limits()
        super().__init__([sys.executable, "-I", "-m", "intake.review.sandbox", "", "serve", str(min(cpu, PREVIEW_CPU)),
                          str(min(memory, PREVIEW_MB)), str(MAX_PREVIEW_INPUT)], {})

    def make(self, data: bytes, kind: str | None) -> bytes | str:
        """A new JPEG of at most 320 px a side drawn from the photo's pixels, or why there is none."""
        if len(data) > MAX_PREVIEW_INPUT:
            return f"no preview: larger than {MAX_PREVIEW_INPUT >> 20} MiB"
        try:
            head = self.ask(kind, data)
            body = self.read(int(head.get("size") or 0))
        except (OSError, ValueError, KeyError, TypeError):
            self.failed()
            return "no preview: the previewing process failed"
        if "why" in head:
            return str(head["why"])
        if not body.startswith(b"\xff\xd8\xff") or len(body) > MAX_PREVIEW_OUTPUT:
            return "no preview: the previewing process gave no JPEG"
        return body


def _preview_one(kind: str, data: bytes, cpu: int, memory_mb: int) -> dict[str, object] | bytes:
    """Fork a child with the limits that draws one preview; its JPEG, or why there is none."""
    from intake.review.clean import thumbnail

    made = forked(lambda: thumbnail(data, kind or None), cpu, memory_mb, len(data), MAX_PREVIEW_OUTPUT)
    if isinstance(made, Costly):
        return {"why": f"no preview: too costly ({made.why})"}
    return made if isinstance(made, bytes) else {"why": made}


@dataclass
class Costly:
    """Why a forked child met its limits (or failed in a way only they explain)."""

    why: str


def forked(work: Callable[[], bytes], cpu: int, memory_mb: int, size: int, max_output: int) -> bytes | str | Costly:
    """Run `work` in a forked child under the limits (memory on top of what the process already maps): its bytes,
    the text of the CannotClean it raised, or Costly."""
    reader, writer = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: limits first, then the work meets the file
        os.close(reader)
        os.close(0)  # the child speaks only through its own pipe
        os.close(1)
        code = 0
        try:
            _limit(cpu, memory_mb + _mapped_mb(), size)
            from intake.review.clean import CannotClean

            try:
                out = b"J" + work()
            except CannotClean as exc:
                out = b"E" + str(exc).encode()
            with os.fdopen(writer, "wb") as pipe:
                pipe.write(out)
        except BaseException:  # noqa: BLE001 - whatever happens, the child leaves without running anything else
            code = 1
        os._exit(code)
    os.close(writer)
    got, deadline = bytearray(), time.monotonic() + 3 * cpu + 10
    with os.fdopen(reader, "rb", buffering=0) as pipe:
        while len(got) <= max_output + 1 and (left := deadline - time.monotonic()) > 0:
            if not select.select([pipe], [], [], left)[0]:
                break
            chunk = pipe.read(1 << 16)
            if not chunk:
                break
            got += chunk
    if time.monotonic() >= deadline or len(got) > max_output + 1:
        os.kill(pid, signal.SIGKILL)
    _, status = os.waitpid(pid, 0)
    if os.WIFSIGNALED(status):
        return Costly({signal.SIGXCPU: f"it needs more than {cpu} s of processor time"}.get(
            os.WTERMSIG(status), "out of time or memory"))
    if os.WEXITSTATUS(status) != 0 or not got:
        return Costly("the process failed, maybe out of memory")
    return bytes(got[1:]) if got[:1] == b"J" else got[1:].decode(errors="replace")


def _mapped_mb() -> int:
    """How many megabytes this process maps already (a forked child inherits them all)."""
    with open("/proc/self/status", encoding="ascii") as status:
        for line in status:
            if line.startswith("VmSize:"):
                return int(line.split()[1]) >> 10
    return 0


def _serve(cpu: int, memory_mb: int) -> None:
    """Read photos framed as a JSON line and bytes; answer each with a JSON line and the preview's bytes."""
    resource.setrlimit(resource.RLIMIT_FSIZE, (0, 0))
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    from PIL import Image, ImageOps  # noqa: F401 - imported once here, so each forked child starts with them

    import intake.review.clean  # noqa: F401

    Image.init()
    while line := sys.stdin.buffer.readline():
        head = json.loads(line)
        data = sys.stdin.buffer.read(int(head["size"]))
        result = _preview_one(str(head["kind"]), data, cpu, memory_mb)
        if isinstance(result, bytes):
            sys.stdout.buffer.write(json.dumps({"size": len(result)}).encode() + b"\n" + result)
        else:
            sys.stdout.buffer.write(json.dumps(result).encode() + b"\n")
        sys.stdout.buffer.flush()


if __name__ == "__main__":
    if sys.argv[2] == "serve":
        _serve(int(sys.argv[3]), int(sys.argv[4]))
    else:
        _child(sys.argv[1], sys.argv[2], *(int(a) for a in sys.argv[3:6]))
