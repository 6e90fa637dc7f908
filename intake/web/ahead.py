"""Reading a multipart body's leading text fields before any file in it is sealed or stored.

A report's form token and honeypot come before its files (templates/form.html puts them first), so
the server can refuse a forged or automated post before it seals a byte (docs/web.md, "Floods").
The bytes read ahead stay in memory (at most `limit`) and are handed back to the form parser in
front of the rest of the body, which then parses the whole body as usual.
"""

from __future__ import annotations

import io
from typing import IO

from werkzeug.sansio.multipart import Data, Epilogue, Field, File, MultipartDecoder, NeedData

READ = 64 * 1024


class Ahead(io.RawIOBase):
    """A stream that gives the bytes read ahead, then the rest of the body."""

    def __init__(self, head: bytes, rest: io.RawIOBase) -> None:
        self.head, self.rest = memoryview(head), rest

    def readable(self) -> bool:
        """It is read, never written."""
        return True

    def readinto(self, buffer) -> int:  # type: ignore[no-untyped-def]
        """Fill `buffer` from what was read ahead first, then from the body."""
        if self.head:
            n = min(len(buffer), len(self.head))
            buffer[:n] = self.head[:n]
            self.head = self.head[n:]
            return n
        return self.rest.readinto(buffer)


def leading_fields(stream: IO[bytes], boundary: bytes, limit: int) -> tuple[dict[str, str], bytes]:
    """The text fields before the first file (the first value of each name), and the bytes read to find them.

    Reading stops at the first file, at the end of the body, or after `limit` bytes; a body that is
    not valid multipart yields the fields found before the fault (its parse fails later as usual).
    """
    decoder = MultipartDecoder(boundary, max_form_memory_size=limit)
    head = bytearray()
    fields: dict[str, str] = {}
    name, value = None, bytearray()
    try:
        while len(head) < limit:
            chunk = stream.read(min(READ, limit - len(head)))
            head += chunk
            decoder.receive_data(chunk or None)
            event = decoder.next_event()
            while not isinstance(event, NeedData | Epilogue):
                if isinstance(event, File):
                    return fields, bytes(head)
                if isinstance(event, Field):
                    name, value = event.name, bytearray()
                elif isinstance(event, Data) and name is not None:
                    value += event.data
                    if not event.more_data:
                        fields.setdefault(name, value.decode("utf-8", "replace"))
                event = decoder.next_event()
            if not chunk or isinstance(event, Epilogue):
                break
    except ValueError:
        pass
    return fields, bytes(head)
