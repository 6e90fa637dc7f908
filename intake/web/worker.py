"""`intake serve`'s gunicorn worker: a thread takes a request only once its headers and first body bytes are in.

gunicorn's gthread worker gives a connection to a thread as soon as its first bytes arrive, and the
thread then reads with blocking reads and no timeout, so more slow clients than threads stop the
site. This worker reads each request's line and headers, and the first PREFETCH bytes of its body,
in its main loop without blocking (where a slow client costs a buffer, not a thread), under the rules
of `intake.web.slow`; a thread then reads the rest through a DeadlineSocket under the same rules, a
body of known length straight from the socket (`intake.web.body`).
A client that breaks them gets a 408 where one can still be sent, and its connection is closed.
Whatever goes wrong while the main loop reads one connection refuses that connection alone (a 400),
never the worker and the requests its threads are serving. Nothing here logs or keeps a client's
address. docs/web.md, "Slow clients", explains the choice.
"""

from __future__ import annotations

import errno
import selectors
import socket
import time
from functools import partial
from typing import Any

from gunicorn import util
from gunicorn.http.body import LengthReader
from gunicorn.workers.gthread import TConn, ThreadWorker

from intake.web.body import SocketBody
from intake.web.slow import HEAD_LIMIT, DeadlineSocket, Limits, plain_response, request_head

EARLY_BUDGET = 32 << 20  # bytes a worker holds, in all, for requests that no thread has taken yet
LINGER = 2.0  # seconds a closed connection's unread bytes are drained, so that its answer is not reset
LINGER_BYTES = 64 * 1024
OUT_OF_DESCRIPTORS = (errno.EMFILE, errno.ENFILE, errno.ENOBUFS, errno.ENOMEM)
FULL_PAUSE = 0.05  # seconds the main loop rests when no descriptor is free, instead of spinning on accept
ANSWERS = {400: ("Bad Request", "The request could not be read. Nothing was stored: send it again from the "
                                "site's own page.\n"),
           411: ("Length Required", "This service takes a request body only with its Content-Length, never "
                                    "chunked. Nothing was stored: send it again from the site's own page.\n"),
           408: ("Request Timeout", "The request arrived too slowly and was dropped. Nothing was stored: send it "
                                    "again.\n"),
           431: ("Request Header Fields Too Large", "The request's headers are too large.\n"),
           503: ("Service Unavailable", "The server is busy. Nothing was stored: try again in a minute.\n")}


class DeadlineConn(TConn):
    """A connection, with the bytes of its next request read before any thread takes it."""

    def __init__(self, cfg: Any, sock: DeadlineSocket, client: Any, server: Any, worker: DeadlineWorker) -> None:
        super().__init__(cfg, sock, client, server)
        self.worker = worker
        self.early = bytearray()
        self.head_end: int | None = None
        self.wanted = self.last = 0.0
        self.continued = self.prefetched = False

    def begin(self, now: float) -> None:
        """Wait for a new request on this connection."""
        self.early, self.head_end, self.last = bytearray(), None, now
        self.continued = False
        self.sock.clock.headers(now)

    def ready(self) -> bool:
        """Whether enough of the request is in for a thread to take it without waiting on the client."""
        if self.head_end is None:
            return False
        return len(self.early) - self.head_end >= self.wanted

    def close(self, graceful: bool = False) -> None:
        """Close; a graceful close lingers in the main loop instead of blocking it (gunicorn's waits up to 2 s)."""
        if graceful:
            self.worker.linger(self.sock)
        else:
            util.close(self.sock)


class DeadlineWorker(ThreadWorker):
    """gthread, but no thread waits for a request's headers or first body bytes, and every read has a deadline."""

    limits = Limits()

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.early_conns: set[DeadlineConn] = set()
        self.early_bytes = 0
        self.lingering: dict[socket.socket, list[float]] = {}

    @classmethod
    def check_config(cls, cfg: Any, log: Any) -> None:
        """Refuse TLS in gunicorn: the main loop reads raw bytes (TLS ends at Tor or the proxy)."""
        if cfg.is_ssl:
            raise RuntimeError("intake serve's worker reads plain HTTP; end TLS in front of it")
        super().check_config(cfg, log)

    def accept(self, listener: socket.socket) -> None:
        """Accept a connection and wait for its request in the main loop."""
        try:
            client, address = listener.accept()
        except OSError as exc:
            if exc.errno in OUT_OF_DESCRIPTORS:  # the connection waits in the backlog until one is freed
                time.sleep(FULL_PAUSE)
            elif exc.errno not in (errno.EAGAIN, errno.ECONNABORTED, errno.EWOULDBLOCK):
                raise
            return
        self.nr_conns += 1
        try:
            conn = DeadlineConn(self.cfg, DeadlineSocket.adopt(client, self.limits), address,
                                listener.getsockname(), self)
            self.wait_for_request(conn)
        except Exception as exc:  # noqa: BLE001 - one connection that cannot be set up never ends the worker
            self.log.error("a connection could not be taken (%s)", type(exc).__name__)
            self.nr_conns -= 1
            util.close(client)

    def on_client_socket_readable(self, conn: DeadlineConn, client: socket.socket) -> None:  # type: ignore[override]
        """A kept-alive connection starts its next request: read it in the main loop too (an error closes it alone)."""
        try:
            self.poller.unregister(client)
            self.keepalived_conns.remove(conn)
            self.wait_for_request(conn)
        except Exception as exc:  # noqa: BLE001 - one connection never ends the worker
            self.log.error("a kept-alive connection could not be read (%s)", type(exc).__name__)
            if conn in self.keepalived_conns:
                return  # gunicorn's keep-alive sweep closes it
            self.forget(conn)
            self.nr_conns -= 1
            util.close(client)
            return
        self.read_early(conn)

    def wait_for_request(self, conn: DeadlineConn) -> None:
        """Register the connection for its next request's bytes."""
        conn.sock.setblocking(False)
        conn.begin(time.monotonic())
        self.early_conns.add(conn)
        self.poller.register(conn.sock, selectors.EVENT_READ, partial(self.read_early, conn))

    def read_early(self, conn: DeadlineConn, _sock: object = None) -> None:
        """Read what arrived; any error refuses this connection alone (a 400), and the loop goes on."""
        try:
            self.take_early(conn)
        except Exception as exc:  # noqa: BLE001 - one hostile request must never end the worker
            self.log.error("a request that could not be read was refused (%s)", type(exc).__name__)
            if conn in self.early_conns:
                self.refuse(conn, 400)

    def take_early(self, conn: DeadlineConn) -> None:
        """Read what arrived; hand the request to a thread once its headers and first body bytes are in."""
        try:
            data = conn.sock.recv(64 * 1024)
        except (BlockingIOError, InterruptedError):
            return
        except OSError:
            data = b""
        if not data:
            self.drop(conn)
            return
        conn.last = time.monotonic()
        conn.early += data
        self.early_bytes += len(data)
        if conn.head_end is None:
            end = conn.early.find(b"\r\n\r\n", max(0, len(conn.early) - len(data) - 3))
            if end < 0 or end > HEAD_LIMIT:
                if len(conn.early) > HEAD_LIMIT:
                    self.refuse(conn, 431)
                elif self.early_bytes > EARLY_BUDGET:
                    self.refuse(conn, 503)
                return
            conn.head_end = end + 4
            conn.wanted, coded, expect = request_head(bytes(conn.early[:end]))
            if coded:
                self.refuse(conn, 411)
                return
            conn.sock.clock.body(conn.last, len(conn.early) - conn.head_end)
            if expect and conn.wanted > len(conn.early) - conn.head_end:
                conn.continued = True
                self.send_quietly(conn.sock, b"HTTP/1.1 100 Continue\r\n\r\n")
        if conn.ready() or self.early_bytes > EARLY_BUDGET:
            self.dispatch(conn)

    def forget(self, conn: DeadlineConn) -> None:
        """Stop waiting for this connection's request in the main loop (once)."""
        if conn not in self.early_conns:
            return
        self.early_conns.discard(conn)
        self.early_bytes -= len(conn.early)
        try:
            self.poller.unregister(conn.sock)
        except (KeyError, ValueError, OSError):
            pass

    def dispatch(self, conn: DeadlineConn) -> None:
        """Give the request, with the bytes read so far, to a thread."""
        self.forget(conn)
        conn.data_ready = conn.prefetched = True
        self.enqueue_req(conn)

    def drop(self, conn: DeadlineConn) -> None:
        """The client went away before its request was in."""
        self.forget(conn)
        self.nr_conns -= 1
        util.close(conn.sock)

    def refuse(self, conn: DeadlineConn, status: int) -> None:
        """Answer a request that cannot be taken (too slow, too large, too many) and close its connection."""
        self.forget(conn)
        self.nr_conns -= 1
        if conn.early or status != 408:
            self.send_quietly(conn.sock, plain_response(status, *ANSWERS[status]))
        self.linger(conn.sock)

    @staticmethod
    def send_quietly(sock: socket.socket, data: bytes) -> None:
        """Send a short answer if the socket takes it now; never wait for a client in the main loop."""
        try:
            sock.setblocking(False)
            sock.send(data)
        except OSError:
            pass

    def linger(self, sock: socket.socket) -> None:
        """Close after the answer: send FIN, then drain what the client still sends for a while (RFC 9112 9.6)."""
        try:
            sock.setblocking(False)
            sock.shutdown(socket.SHUT_WR)
            self.poller.register(sock, selectors.EVENT_READ, self.drain)
        except (OSError, KeyError, ValueError):
            util.close(sock)
            return
        self.lingering[sock] = [time.monotonic() + LINGER, 0]

    def drain(self, sock: socket.socket) -> None:
        """Discard what a closing connection sends, and close it at its end or past the limit."""
        try:
            data = sock.recv(LINGER_BYTES)
        except (BlockingIOError, InterruptedError):
            return
        except OSError:
            data = b""
        drained = self.lingering.get(sock)
        if drained is None or not data or drained[1] + len(data) >= LINGER_BYTES:
            self.close_lingering(sock)
        else:
            drained[1] += len(data)

    def close_lingering(self, sock: socket.socket) -> None:
        """Close a lingering socket for good."""
        self.lingering.pop(sock, None)
        try:
            self.poller.unregister(sock)
        except (KeyError, ValueError, OSError):
            pass
        util.close(sock)

    def murder_pending(self) -> None:
        """Besides gunicorn's pending connections: answer 408 to requests past their deadline, end lingering."""
        super().murder_pending()
        now = time.monotonic()
        idle = self.limits.idle_timeout
        for conn in [c for c in self.early_conns if now >= min(c.sock.clock.due(), c.last + idle) or not self.alive]:
            if self.alive or conn.early:
                self.refuse(conn, 408)
            else:
                self.drop(conn)
        for sock in [s for s, (until, _) in self.lingering.items() if now >= until]:
            self.close_lingering(sock)

    def handle(self, conn: DeadlineConn) -> Any:  # type: ignore[override]
        """In a thread: parse the request from the bytes read so far, then from the guarded socket."""
        early, conn.early = bytes(conn.early), bytearray()
        if not conn.prefetched:
            conn.sock.clock.headers(time.monotonic())  # a request that arrived behind the last one
        conn.prefetched = False
        conn.sock.setblocking(True)
        conn.init()  # plain HTTP/1 (check_config, and HTTP/2 cleartext is off): makes the parser, reads nothing
        if early:
            conn.parser.unreader.unread(early)
        result = super().handle(conn)
        return result and not conn.sock.expired

    def handle_request(self, req: Any, conn: DeadlineConn) -> bool:  # type: ignore[override]
        """Serve a parsed request; its body reads keep the minimum rate from the end of its headers."""
        if conn.sock.clock.body_since is None:
            conn.sock.clock.body(time.monotonic())
        if conn.continued:
            req._expected_100_continue = False  # noqa: SLF001 - already sent from the main loop
        reader = getattr(req.body, "reader", None)
        if isinstance(reader, LengthReader):  # chunked bodies are refused in the main loop (411)
            held = req.body.buf.getvalue() + reader.unreader.take_buffered()
            length = req.body.buf.tell() + reader.length
            reader.unreader.unread(held[length:])  # a request pipelined behind this one
            req.body = SocketBody(conn.sock, held[:length], length)
        return super().handle_request(req, conn)


def worker_for(limits: Limits) -> type[DeadlineWorker]:
    """The worker class that gunicorn should fork, with these limits."""
    return type("IntakeWorker", (DeadlineWorker,), {"limits": limits})
