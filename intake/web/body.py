"""A request body of known length read straight from the client's socket: `wsgi.input` under `intake serve`.

gunicorn's body reader gathers what it receives in BytesIO buffers and hands out slices of them, so
every byte of a large upload was copied three or four times before the form parser saw it (a profile
of a 256 MiB no-JavaScript upload: 18 % of the request thread, docs/performance.md). This reader
gives the bytes gunicorn had already read first, then reads the socket with `recv_into` into the
caller's own buffer (`readinto`, what `io.BufferedReader` and the form parser use): one copy, the
kernel's. Like gunicorn's, a read waits until it has all it asked for or the body has ended. It never
reads past the body's end, so a request pipelined behind it stays where gunicorn looks for it; the
socket's deadlines (web/slow.py) hold for every read.
"""

from __future__ import annotations

import io
import socket

LINE_STEP = 1024  # how much readline() asks for at a time, as gunicorn's reader does


class SocketBody(io.RawIOBase):
    """The `length` bytes of a body: `held` (read ahead by the server) first, then the socket."""

    def __init__(self, sock: socket.socket, held: bytes, length: int) -> None:
        super().__init__()
        self.sock = sock
        self.held = memoryview(held)[:length]
        self.left = length  # body bytes not yet handed out, the held ones included

    def readable(self) -> bool:
        """It is read, never written."""
        return True

    def readinto(self, buffer) -> int:  # type: ignore[no-untyped-def]
        """Fill `buffer` with the next bytes of the body, waiting for them as gunicorn's reader does (fewer only at
        its end, or when the client closed the connection before it: the caller compares with the length it was
        told); 0 at its end."""
        with memoryview(buffer) as view:
            want = min(len(view), self.left)
            got = 0
            while got < want:
                if self.held:
                    n = min(want - got, len(self.held))
                    view[got:got + n] = self.held[:n]
                    self.held = self.held[n:]
                else:
                    n = self.sock.recv_into(view[got:want])
                    if not n:
                        break
                got += n
        self.left -= got
        return got

    def read(self, size: int | None = -1) -> bytes:
        """Up to `size` bytes of the body (all that is left when None or negative); fewer only at its end."""
        want = self.left if size is None or size < 0 else min(size, self.left)
        buffer = bytearray(want)
        del buffer[self.readinto(buffer):]
        return bytes(buffer)

    def readline(self, size: int | None = -1) -> bytes:
        """The body up to and including the next line feed (at most `size` bytes)."""
        limit = self.left if size is None or size < 0 else min(size, self.left)
        line = bytearray()
        while len(line) < limit:
            data = self.read(min(LINE_STEP, limit - len(line)))
            if not data:
                break
            end = data.find(b"\n")
            if end >= 0:
                line += data[:end + 1]
                self.unread(data[end + 1:])
                break
            line += data
        return bytes(line)

    def unread(self, data: bytes) -> None:
        """Give back bytes read too far, to be read again first."""
        if data:
            self.held = memoryview(bytes(data) + bytes(self.held))
            self.left += len(data)
