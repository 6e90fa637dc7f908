"""Werkzeug's multipart parser against maintained alternatives on the same no-JS post, with nothing else timed.

Run `.venv/bin/python bench/multipart.py [MIB] [--json]`: a form of three text fields and one file of MIB MiB
(random bytes, default 64) is parsed from memory, 1 MiB read at a time (as `WideFormParser` reads), by
each parser into a sink that only counts the file's bytes; processor time, the fastest of three runs.
`python-multipart` and `streaming-form-data` are measured when installed (`pip install` them to compare;
intake does not depend on them). Issue 24, item 2: adopt one only if it wins here and in the no-JS row.
"""

from __future__ import annotations

import io
import json
import os
import sys
import time

from werkzeug.formparser import FormDataParser

BOUNDARY = b"intake-bench-boundary-1b6f"
MIB = 1 << 20


def body(mib: int) -> bytes:
    """The multipart body a browser without JavaScript posts."""
    head = b"".join(b'--%s\r\nContent-Disposition: form-data; name="%s"\r\n\r\n%s\r\n' % (BOUNDARY, k, v)
                    for k, v in ((b"csrf_token", b"x" * 80), (b"incident_type", b"drone"), (b"description", b"hi")))
    head += (b'--%s\r\nContent-Disposition: form-data; name="attachments"; filename="big.mp4"\r\n'
             b"Content-Type: video/mp4\r\n\r\n" % BOUNDARY)
    return head + os.urandom(mib * MIB) + b"\r\n--%s--\r\n" % BOUNDARY


class Sink(io.RawIOBase):
    """A file that counts what it is given."""

    def __init__(self) -> None:
        self.n = 0

    def writable(self) -> bool:
        return True

    def write(self, data) -> int:  # noqa: ANN001
        self.n += len(data)
        return len(data)


def werkzeug(data: bytes) -> int:
    """Werkzeug's FormDataParser over a 1 MiB buffered stream, as intake parses a no-JS post."""
    sinks: list[Sink] = []

    def factory(*_args: object, **_kw: object) -> Sink:
        sinks.append(Sink())
        return sinks[-1]

    parser = FormDataParser(stream_factory=factory)
    stream = io.BufferedReader(io.BytesIO(data), MIB)
    parser.parse(stream, "multipart/form-data", len(data), {"boundary": BOUNDARY.decode()})
    return sinks[0].n


def python_multipart(data: bytes) -> int:
    """python-multipart's callback parser, fed 1 MiB at a time."""
    from python_multipart.multipart import MultipartParser

    count = [0, 0]

    def on_part_data(buf: bytes, start: int, end: int) -> None:
        count[0] += end - start

    parser = MultipartParser(BOUNDARY, {"on_part_data": on_part_data})
    view = memoryview(data)
    for at in range(0, len(data), MIB):
        parser.write(bytes(view[at:at + MIB]))
    parser.finalize()
    return count[0]


def streaming_form_data(data: bytes) -> int:
    """streaming-form-data's Cython parser, fed 1 MiB at a time."""
    from streaming_form_data import StreamingFormDataParser
    from streaming_form_data.targets import BaseTarget

    class Counter(BaseTarget):
        n = 0

        def on_data_received(self, chunk: bytes) -> None:
            self.n += len(chunk)

    parser = StreamingFormDataParser(headers={"Content-Type": f"multipart/form-data; boundary={BOUNDARY.decode()}"})
    target = Counter()
    parser.register("attachments", target)
    for name in ("csrf_token", "incident_type", "description"):
        parser.register(name, Counter())
    view = memoryview(data)
    for at in range(0, len(data), MIB):
        parser.data_received(bytes(view[at:at + MIB]))
    return target.n


def main() -> None:
    """Time each installed parser; print MiB/s (or JSON)."""
    numbers = [a for a in sys.argv[1:] if a.isdigit()]
    mib = int(numbers[0]) if numbers else 64
    data = body(mib)
    rates: dict[str, float] = {}
    for name, parse in (("werkzeug", werkzeug), ("python-multipart", python_multipart),
                        ("streaming-form-data", streaming_form_data)):
        try:
            best = float("inf")
            for _ in range(3):
                start = time.process_time()
                got = parse(data)
                best = min(best, time.process_time() - start)
        except ImportError:
            continue
        if not mib * MIB <= got <= mib * MIB + 1024:  # python-multipart counts the text fields too
            raise SystemExit(f"{name} gave {got} bytes of the file, not {mib * MIB}")
        rates[name] = mib / best
    if "--json" in sys.argv:
        print(json.dumps({"mib": mib, "rates": rates}))
        return
    for name, rate in rates.items():
        print(f"{name:22s} {rate:8.0f} MiB/s")


if __name__ == "__main__":
    main()
