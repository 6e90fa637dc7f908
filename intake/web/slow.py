"""The rules for slow clients, and a socket that keeps them: no read waits on a client that sends nothing useful.

A request's line and headers must arrive within `header_timeout` seconds of its first byte; its body
may fall silent for at most `idle_timeout` seconds at a time, and after `body_grace` seconds it must
have come at `min_body_rate` bytes a second on average (each byte received extends the deadline by
1/rate seconds, as Apache's mod_reqtimeout does). A response may wait at most `idle_timeout`
seconds for the client to take more of it. docs/web.md, "Slow clients", explains the choice.
"""

from __future__ import annotations

import math
import socket
import time
from dataclasses import dataclass

from intake.settings import Settings

PREFETCH = 64 * 1024  # body bytes read by the worker's main loop before a thread takes the request
LENGTH_DIGITS = 18  # a Content-Length of more digits is larger than PREFETCH anyway (and int() refuses 4,300)
HEAD_LIMIT = 32 * 1024  # the longest request line and headers the main loop waits for


class SlowClient(TimeoutError):
    """The client sent nothing useful for too long, so its request was dropped."""


@dataclass(frozen=True)
class Limits:
    """How long a client may take (INTAKE_HEADER_TIMEOUT, _IDLE_TIMEOUT, _BODY_GRACE, _MIN_BODY_RATE)."""

    header_timeout: float = Settings.header_timeout
    idle_timeout: float = Settings.idle_timeout
    body_grace: float = Settings.body_grace
    min_body_rate: int = Settings.min_body_rate

    @classmethod
    def of(cls, settings: Settings) -> Limits:
        """The limits these settings set."""
        return cls(settings.header_timeout, settings.idle_timeout, settings.body_grace, settings.min_body_rate)


class Clock:
    """When the request on one connection must have made progress by, whoever reads it."""

    def __init__(self, limits: Limits) -> None:
        self.limits = limits
        self.head_by = math.inf
        self.body_since: float | None = None
        self.body_bytes = 0

    def headers(self, now: float) -> None:
        """A request's first bytes arrived: its headers are due within the header timeout."""
        self.head_by, self.body_since = now + self.limits.header_timeout, None

    def body(self, now: float, received: int = 0) -> None:
        """The headers are in: from now on the body must keep the minimum rate."""
        self.head_by, self.body_since, self.body_bytes = math.inf, now, received

    def count(self, received: int) -> None:
        """Credit body bytes received."""
        if self.body_since is not None:
            self.body_bytes += received

    def due(self) -> float:
        """The moment after which waiting for more of this request is over (silences aside)."""
        if self.body_since is None:
            return self.head_by
        return self.body_since + max(self.limits.body_grace, self.body_bytes / self.limits.min_body_rate)


class DeadlineSocket(socket.socket):
    """A client's socket whose blocking reads and writes give up on a client that keeps them waiting.

    Blocking here means waiting at most the idle timeout (gunicorn's own shorter timeouts still
    apply); a read also stops at the clock's deadline. A read that gives up raises SlowClient and
    marks the socket expired, so that every later read fails at once and the connection is closed.
    """

    clock: Clock
    expired = False

    @classmethod
    def adopt(cls, sock: socket.socket, limits: Limits) -> DeadlineSocket:
        """Take over an accepted socket."""
        adopted = cls(sock.family, sock.type, sock.proto, fileno=sock.detach())
        adopted.clock = Clock(limits)
        adopted.settimeout(None)
        return adopted

    def settimeout(self, value: float | None) -> None:
        """Set a timeout; None (blocking) means the idle timeout."""
        super().settimeout(self.clock.limits.idle_timeout if value is None else value)

    def setblocking(self, flag: bool) -> None:
        """Blocking means waiting at most the idle timeout."""
        self.settimeout(None if flag else 0.0)

    def recv(self, size: int, flags: int = 0) -> bytes:
        """Read, within the idle timeout and the clock's deadline when blocking."""
        data = self._guarded(super().recv, size, flags)
        self.clock.count(len(data))
        return data

    def recv_into(self, buffer, nbytes: int = 0, flags: int = 0) -> int:  # type: ignore[no-untyped-def, override]
        """Read into `buffer`, under the same rules as recv (web/body.py reads a body this way)."""
        n = self._guarded(super().recv_into, buffer, nbytes, flags)
        self.clock.count(n)
        return n

    def _guarded(self, read, *args):  # type: ignore[no-untyped-def]
        """Call a read of the socket; when blocking, give up at the idle timeout or the clock's deadline."""
        timeout = self.gettimeout()
        if timeout == 0.0:
            return read(*args)
        if self.expired:
            raise SlowClient("the request arrived too slowly")
        wait = min(timeout or math.inf, self.clock.due() - time.monotonic())
        super().settimeout(max(wait, 0.001))  # bytes already waiting still count after the deadline
        try:
            return read(*args)
        except TimeoutError:
            self.expired = True
            raise SlowClient("the request arrived too slowly") from None
        finally:
            super().settimeout(timeout)

    def sendall(self, data: bytes, flags: int = 0) -> None:  # type: ignore[override]
        """Send everything, giving up only when the client takes nothing for the timeout (not for the total)."""
        with memoryview(data) as view:
            left = view.cast("B")
            while left:
                left = left[self.send(left, flags):]


def request_head(head: bytes) -> tuple[int, bool, bool]:
    """How many body bytes to wait for before a thread takes the request, whether it names a transfer coding
    (refused: every write declares its length, docs/web.md "Slow clients"), and whether the client waits for a
    100 Continue. A rough reading that errs towards seeing a header (any line break, any case, any spacing);
    gunicorn's parser does the strict one."""
    wanted, coded, expect = 0, False, False
    for line in head.splitlines()[1:]:
        name, _, value = line.partition(b":")
        name, value = name.strip().lower(), value.strip().lower()
        if name == b"content-length" and value.isdigit():
            wanted = PREFETCH if len(value) > LENGTH_DIGITS else min(int(value), PREFETCH)
        elif name == b"transfer-encoding":
            coded = True
        elif name == b"expect":
            expect = value == b"100-continue" and head.split(b"\r\n", 1)[0].endswith(b"HTTP/1.1")
    return wanted, coded, expect


def plain_response(status: int, reason: str, text: str) -> bytes:
    """A short plain-text answer that closes the connection."""
    body = text.encode()
    return (f"HTTP/1.1 {status} {reason}\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: {len(body)}"
            "\r\nConnection: close\r\nCache-Control: no-store\r\nX-Content-Type-Options: nosniff\r\n\r\n"
            ).encode() + body
