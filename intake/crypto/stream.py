"""Attachment streams: secretstream in 64 KiB chunks (docs/format.md §7)."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Iterator

import nacl.bindings as sodium
import nacl.exceptions

from intake.crypto.errors import DamagedAttachment, TruncatedAttachment

CHUNK = 65536
ABYTES = sodium.crypto_secretstream_xchacha20poly1305_ABYTES
HEADER = sodium.crypto_secretstream_xchacha20poly1305_HEADERBYTES
SEALED_CHUNK = CHUNK + ABYTES
PART = 1 << 20
MAX_SIZE = 1 << 32
TAG_MESSAGE = sodium.crypto_secretstream_xchacha20poly1305_TAG_MESSAGE
TAG_FINAL = sodium.crypto_secretstream_xchacha20poly1305_TAG_FINAL


def sealed_length(size: int) -> int:
    """Return the sealed stream length of a file of `size` bytes (§7)."""
    return HEADER + size + ABYTES * (size // CHUNK + 1)


def padme(size: int) -> int:
    """The Padmé size a file of `size` bytes is padded to (§7.1): at most 12 % more."""
    if size < 2:
        return size
    exponent = size.bit_length() - 1
    step = 1 << (exponent - exponent.bit_length())
    return -(-size // step) * step


def plain_size(length: int) -> int | None:
    """Return the file size a sealed stream of `length` bytes holds, or None if no size fits (§7)."""
    if length < HEADER + ABYTES:
        return None
    full, rest = divmod(length - HEADER - ABYTES, SEALED_CHUNK)
    if rest > CHUNK - 1:
        return None
    size = full * CHUNK + rest
    return size if size <= MAX_SIZE else None


class StreamSealer:
    """Seals one attachment as it arrives, holding at most one chunk of plaintext."""

    def __init__(self, key: bytes, padded: bool = False) -> None:
        self.padded = padded
        self._state = sodium.crypto_secretstream_xchacha20poly1305_state()
        self._header = sodium.crypto_secretstream_xchacha20poly1305_init_push(self._state, key)
        self._pending = bytearray()
        self._sha256 = hashlib.sha256()
        self.size = 0
        self.finished = False

    def start(self) -> bytes:
        """Return the 24-byte stream header, to be written first."""
        return self._header

    def push(self, data: bytes) -> Iterator[bytes]:
        """Take more plaintext and yield every sealed chunk it completes."""
        if self.finished:
            raise ValueError("this stream is finished")
        self._sha256.update(data)
        self.size += len(data)
        view = memoryview(data)
        if self._pending:
            take = CHUNK - len(self._pending)
            self._pending += view[:take]
            view = view[take:]
            if len(self._pending) < CHUNK:
                return
            yield self._seal(bytes(self._pending), TAG_MESSAGE)
            self._pending.clear()
        while len(view) > CHUNK:
            yield self._seal(view[:CHUNK], TAG_MESSAGE)
            view = view[CHUNK:]
        self._pending += view
        if len(self._pending) == CHUNK:
            yield self._seal(bytes(self._pending), TAG_MESSAGE)
            self._pending.clear()

    def finish(self) -> bytes:
        """Seal the zero padding (if padded, §7.1) and the last, final chunk (possibly empty); return them."""
        sealed = []
        zeros = padme(self.size) - self.size if self.padded else 0
        while zeros:
            take = min(zeros, CHUNK - len(self._pending))
            self._pending += bytes(take)
            zeros -= take
            if len(self._pending) == CHUNK:
                sealed.append(self._seal(bytes(self._pending), TAG_MESSAGE))
                self._pending.clear()
        self.finished = True
        sealed.append(self._seal(bytes(self._pending), TAG_FINAL))
        self._pending.clear()
        return b"".join(sealed)

    @property
    def sha256(self) -> str:
        """The SHA-256 of all the plaintext pushed, in hex."""
        return self._sha256.hexdigest()

    def _seal(self, chunk: bytes | memoryview, tag: int) -> bytes:
        return sodium.crypto_secretstream_xchacha20poly1305_push(self._state, bytes(chunk), None, tag)


def seal_stream(key: bytes, chunks: Iterable[bytes]) -> Iterator[bytes]:
    """Seal a whole attachment given as an iterable of byte strings."""
    sealer = StreamSealer(key)
    yield sealer.start()
    for data in chunks:
        yield from sealer.push(data)
    yield sealer.finish()


def open_stream(key: bytes, parts: Iterable[bytes], length: int | None = None) -> Iterator[bytes]:
    """Open a sealed attachment given in parts of any size, yielding plaintext chunks.

    `length` is the stream's declared length, when known. Raises DamagedAttachment or
    TruncatedAttachment (§7); the caller checks size and SHA-256 against the manifest.
    """
    buffer = bytearray()
    state = None
    received = 0
    for part in parts:
        received += len(part)
        if length is not None and received > length:
            raise DamagedAttachment("an attachment is longer than its declared length")
        buffer += part
        if state is None:
            if len(buffer) < HEADER:
                continue
            state = sodium.crypto_secretstream_xchacha20poly1305_state()
            sodium.crypto_secretstream_xchacha20poly1305_init_pull(state, bytes(buffer[:HEADER]), key)
            del buffer[:HEADER]
        while len(buffer) >= SEALED_CHUNK:
            plain, tag = _pull(state, bytes(buffer[:SEALED_CHUNK]))
            if tag != TAG_MESSAGE:
                raise DamagedAttachment("a full attachment chunk carries the wrong tag")
            del buffer[:SEALED_CHUNK]
            yield plain
    if (length is not None and received < length) or state is None or not buffer:
        raise TruncatedAttachment("an attachment ends before its final chunk")
    plain, tag = _pull(state, bytes(buffer))
    if tag != TAG_FINAL:
        raise DamagedAttachment("the last attachment chunk is not marked final")
    yield plain


def _pull(state: sodium.crypto_secretstream_xchacha20poly1305_state, sealed: bytes) -> tuple[bytes, int]:
    """Open one sealed chunk and return its plaintext and tag."""
    try:
        return sodium.crypto_secretstream_xchacha20poly1305_pull(state, sealed, None)
    except nacl.exceptions.CryptoError as exc:
        raise DamagedAttachment("an attachment chunk failed authentication") from exc
