"""Photos published in bounded children: one process loads OpenCV and its cascades once, and forks a child per photo.

Each child has the limits of `export` (review/sandbox.py: processor time, memory on top of what it inherits, no
file, no core dump), in a fresh interpreter with an empty environment whose only channels are pipes (its errors
go to /dev/null, and it leads a session of its own: no terminal to write escapes to), and in a network namespace
of its own with no interface up, where the kernel allows unprivileged ones. A bomb or a malformed photo is one
"could not be processed"; the next photo gets a fresh child.
"""

from __future__ import annotations

import io
import json
import sys
from dataclasses import dataclass, field

from intake.publish.faces import TURNS
from intake.review.sandbox import Costly, Helper, forked, limits

MAX_INPUT = 64 << 20  # a photo larger than this is not published
MAX_OUTPUT = 16 << 20
CHECK_SIDE = 900  # the contact sheet's copy, boxes outlined
OUTLINE = (255, 0, 200)


@dataclass
class Done:
    """A published photo, its copy for the contact sheet (the regions outlined), and the regions hidden."""

    jpeg: bytes
    outlined: bytes
    boxes: list[list[int]]
    rounds: int
    notes: list[str] = field(default_factory=list)


class Publisher(Helper):
    """The helper that publishes photos (review/sandbox.Helper): a JSON line and the photo's bytes in, a JSON line
    and two JPEGs out."""

    def __init__(self) -> None:
        cpu, memory = limits()
        cpu *= 1 + len(TURNS)  # the detectors look at each photo four times (upright and turned): a budget for each
        super().__init__([sys.executable, "-I", "-m", "intake.publish.worker", str(cpu), str(memory)],
                         {"OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1"})

    def publish(self, data: bytes, kind: str | None) -> Done | str:
        """The photo with its faces hidden, or why it could not be published."""
        if len(data) > MAX_INPUT:
            return f"could not be processed: larger than {MAX_INPUT >> 20} MiB"
        try:
            head = self.ask(kind, data)
            if "why" in head:
                return str(head["why"])
            jpeg = self.read(int(head["size"]))
            outlined = self.read(int(head["outlined"]))
            done = Done(jpeg, outlined, [[int(v) for v in b] for b in head["boxes"]], int(head["rounds"]),
                        [str(n) for n in head["notes"]])
        except (OSError, ValueError, KeyError, TypeError):
            self.failed()
            return "could not be processed: the publishing process failed"
        if not (jpeg.startswith(b"\xff\xd8\xff") and outlined.startswith(b"\xff\xd8\xff")):
            return "could not be processed: the publishing process gave no JPEG"
        return done


def _outlined(jpeg: bytes, boxes: list[tuple[int, int, int, int]]) -> bytes:
    """The published photo, smaller, with each hidden region outlined and numbered, for the person who checks."""
    from PIL import Image, ImageDraw

    with Image.open(io.BytesIO(jpeg), formats=["JPEG"]) as img:
        scale = min(1.0, CHECK_SIDE / max(img.size))
        small = img.convert("RGB").resize((max(1, round(img.width * scale)), max(1, round(img.height * scale))))
    draw = ImageDraw.Draw(small)
    for number, (x, y, w, h) in enumerate(boxes, 1):
        box = [round(x * scale), round(y * scale), round((x + w) * scale) - 1, round((y + h) * scale) - 1]
        draw.rectangle(box, outline=OUTLINE, width=3)
        draw.text((box[0] + 4, box[1] + 2), str(number), fill=OUTLINE)
    out = io.BytesIO()
    small.save(out, "JPEG", quality=80)
    return out.getvalue()


def _one(data: bytes, kind: str, detectors: object) -> bytes:
    """In the child: the framed answer for one photo."""
    from intake.publish.faces import publish_photo

    done = publish_photo(data, kind, detectors)  # type: ignore[arg-type]
    outlined = _outlined(done.jpeg, done.boxes)
    head = {"size": len(done.jpeg), "outlined": len(outlined), "boxes": done.boxes, "rounds": done.rounds,
            "notes": done.notes}
    return json.dumps(head).encode() + b"\n" + done.jpeg + outlined


def _framed(made: bytes) -> bool:
    """Whether a child's answer is one JSON line whose sizes add up to the bytes after it."""
    line, newline, rest = made.partition(b"\n")
    try:
        head = json.loads(line)
        return bool(newline) and int(head["size"]) + int(head["outlined"]) == len(rest)
    except (ValueError, KeyError, TypeError):
        return False


def _off_the_network() -> None:
    """Move into a new, empty network namespace (no interface but a down loopback), where the kernel allows it.

    A user namespace comes with it, so that no privilege is needed; where user namespaces are disabled, the
    process stays where it is and still opens no socket of its own.
    """
    import ctypes

    clone_newuser, clone_newnet = 0x10000000, 0x40000000
    libc = ctypes.CDLL(None, use_errno=True)
    libc.unshare(clone_newuser | clone_newnet)


def _serve(cpu: int, memory_mb: int) -> None:
    """Load the cascades once; fork a bounded child per photo read from stdin; answer on stdout."""
    import resource

    resource.setrlimit(resource.RLIMIT_FSIZE, (0, 0))
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    from PIL import Image

    from intake.publish.faces import Detectors

    Image.init()
    detectors = Detectors()
    _off_the_network()
    while line := sys.stdin.buffer.readline():
        head = json.loads(line)
        data = sys.stdin.buffer.read(int(head["size"]))
        made = forked(lambda: _one(data, str(head["kind"]), detectors), cpu, memory_mb, len(data),  # noqa: B023
                      MAX_OUTPUT)
        if isinstance(made, bytes) and _framed(made):
            sys.stdout.buffer.write(made)
        else:
            why = (f"could not be processed: too costly ({made.why})" if isinstance(made, Costly) else
                   made if isinstance(made, str) else "could not be processed: the child's answer was malformed")
            sys.stdout.buffer.write(json.dumps({"why": why}).encode() + b"\n")
        sys.stdout.buffer.flush()


if __name__ == "__main__":
    _serve(int(sys.argv[1]), int(sys.argv[2]))
