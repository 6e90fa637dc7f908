"""The day's Merkle tree: item digests padded with random ones to a fixed size, sorted, hashed as RFC 6962 does."""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Iterable, Sequence

DIGEST = 32
MIN_LEAVES = 64  # a day with fewer items than this gives a tree of this size: its root does not tell how many
ITEM_DOMAIN = b"intake-anchor-item-v1\0"


class ProofError(ValueError):
    """An inclusion proof that does not lead from its item to its root."""


def item_digest(header: bytes, body: bytes, streams: Iterable[Iterable[bytes]]) -> bytes:
    """The digest of one sealed case or message: SHA-256 over the SHA-256 of its header, body and each stream."""
    outer = hashlib.sha256(ITEM_DOMAIN)
    outer.update(hashlib.sha256(header).digest())
    outer.update(hashlib.sha256(body).digest())
    for stream in streams:
        inner = hashlib.sha256()
        for part in stream:
            inner.update(part)
        outer.update(inner.digest())
    return outer.digest()


def item_from_hashes(header_sha256: bytes, body_sha256: bytes, stream_sha256s: Sequence[bytes]) -> bytes:
    """The same digest from the component hashes (what an evidence package carries)."""
    return hashlib.sha256(ITEM_DOMAIN + header_sha256 + body_sha256 + b"".join(stream_sha256s)).digest()


def tree_size(count: int) -> int:
    """The number of leaves a day of `count` items gets: MIN_LEAVES, or the next power of two above it."""
    size = MIN_LEAVES
    while size < count:
        size *= 2
    return size


def padded(items: Sequence[bytes]) -> list[bytes]:
    """The items with random digests added up to the tree size, sorted so no order of arrival is kept."""
    extra = [secrets.token_bytes(DIGEST) for _ in range(tree_size(len(items)) - len(items))]
    return sorted([*items, *extra])


def _leaf(digest: bytes) -> bytes:
    return hashlib.sha256(b"\0" + digest).digest()


def _node(left: bytes, right: bytes) -> bytes:
    return hashlib.sha256(b"\1" + left + right).digest()


def root(leaves: Sequence[bytes]) -> bytes:
    """The Merkle root of a power-of-two list of digests."""
    level = [_leaf(d) for d in leaves]
    while len(level) > 1:
        level = [_node(level[i], level[i + 1]) for i in range(0, len(level), 2)]
    return level[0]


def proof(leaves: Sequence[bytes], index: int) -> list[bytes]:
    """The sibling hashes from leaf `index` up to the root."""
    level, path = [_leaf(d) for d in leaves], []
    while len(level) > 1:
        path.append(level[index ^ 1])
        level = [_node(level[i], level[i + 1]) for i in range(0, len(level), 2)]
        index //= 2
    return path


def check(digest: bytes, index: int, size: int, path: Sequence[bytes], expected_root: bytes) -> None:
    """Raise ProofError unless `path` leads from `digest` at `index` of a `size`-leaf tree to `expected_root`."""
    if size < MIN_LEAVES or size & (size - 1) or not 0 <= index < size or 1 << len(path) != size:
        raise ProofError("the proof's size, index or length do not fit a padded day tree")
    node = _leaf(digest)
    for sibling in path:
        if len(sibling) != DIGEST:
            raise ProofError("a hash in the proof is not 32 bytes")
        node = _node(node, sibling) if index % 2 == 0 else _node(sibling, node)
        index //= 2
    if node != expected_root:
        raise ProofError("the proof does not lead to the day's root: the item or the proof was changed")
