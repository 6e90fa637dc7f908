"""Raw HTTP for the head-reader attacks: bytes on a socket, the answers' status codes, and the server's worker pids."""

from __future__ import annotations

import http.client
import re
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from urllib3 import encode_multipart_formdata

STATUS = re.compile(rb"HTTP/1\.[01] (\d{3}) ")


@dataclass(frozen=True)
class Exchange:
    """What came back for some bytes sent: the status codes in order, and whether the server closed in time."""

    statuses: tuple[int, ...]
    closed: bool
    raw: bytes


def exchange(port: int, data: bytes, half_close: bool = True, wait: float = 20.0) -> Exchange:
    """Send `data` on a fresh connection (then end our side, with `half_close`), read until the server closes."""
    received = bytearray()
    closed = False
    with socket.create_connection(("127.0.0.1", port), timeout=wait) as s:
        try:
            s.sendall(data)
            if half_close:
                s.shutdown(socket.SHUT_WR)
        except OSError:
            pass  # the server may answer and close before it has read everything
        deadline = time.monotonic() + wait
        while time.monotonic() < deadline:
            try:
                chunk = s.recv(65536)
            except (ConnectionResetError, BrokenPipeError):
                closed = True
                break
            except TimeoutError:
                break
            if not chunk:
                closed = True
                break
            received += chunk
    statuses = tuple(int(m.group(1)) for m in STATUS.finditer(bytes(received)) if not m.group(1).startswith(b"1"))
    return Exchange(statuses, closed, bytes(received))


def worker_pids(master: int) -> set[int]:
    """The pids of the gunicorn workers of `master` (its child processes)."""
    children = set()
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == master:
            children.add(int(stat.parent.name))
    return children


def slow_nojs_upload(url: str, token: str, fields: dict[str, str], file: tuple[str, bytes, str],
                     seconds: float) -> tuple[int, str]:
    """POST /report with its Content-Length, the body sent in pieces over about `seconds` (an upload under way);
    return the answer's status and page."""
    body, content_type = encode_multipart_formdata(
        [("csrf_token", token), ("website", ""), *fields.items(), ("attachments", file)])
    pieces = max(1, len(body) // (128 * 1024))
    pause = seconds / pieces

    def paced() -> Iterator[bytes]:
        for n in range(pieces):
            yield body[n * len(body) // pieces:(n + 1) * len(body) // pieces]
            time.sleep(pause)

    host, port = url.removeprefix("http://").split(":")
    conn = http.client.HTTPConnection(host, int(port), timeout=120)
    try:
        conn.request("POST", "/report", body=paced(), headers={"Content-Type": content_type,
                                                              "Content-Length": str(len(body))})
        answer = conn.getresponse()
        return answer.status, answer.read().decode()
    finally:
        conn.close()


class Flood:
    """Send one request's bytes `rate` times a second from a thread until stopped; keep every exchange."""

    def __init__(self, port: int, requests: list[bytes], rate: float) -> None:
        self.port, self.requests, self.rate = port, requests, rate
        self.exchanges: list[Exchange] = []
        self.errors: list[str] = []
        self._stop = threading.Event()
        self._threads = [threading.Thread(target=self._run, args=(n,)) for n in range(4)]

    def __enter__(self) -> Flood:
        for t in self._threads:
            t.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        for t in self._threads:
            t.join(timeout=60)

    def _run(self, n: int) -> None:
        sent = n
        while not self._stop.wait(len(self._threads) / self.rate):
            try:
                self.exchanges.append(exchange(self.port, self.requests[sent % len(self.requests)], wait=15))
            except OSError as exc:
                self.errors.append(repr(exc))
            sent += len(self._threads)
