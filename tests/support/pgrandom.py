"""The adversary who knows PostgreSQL's random(): from two values it made in a row, the values it made next.

PostgreSQL 15+ draws random() from xoroshiro128** (src/common/pg_prng.c) and returns the top 52 bits of each
output; `floor(random() * 2^62) + 1` keeps all 52. Each value fixes its output but for 12 bits, so two values in a
row leave 2^24 candidate states: each is tried, and the third value it predicts compared with the values seen.
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np

MASK = (1 << 64) - 1
INV5, INV9 = pow(5, -1, 1 << 64), pow(9, -1, 1 << 64)
U = np.uint64


def _rotl(x: np.ndarray, k: int) -> np.ndarray:
    return (x << U(k)) | (x >> U(64 - k))


def _output(s0: np.ndarray) -> np.ndarray:
    return _rotl(s0 * U(5), 7) * U(9)


def _states(value: int) -> np.ndarray:
    """Every generator word s0 whose random() made `value` (= floor(random() * 2^62) + 1)."""
    top = (value - 1) >> 10
    outputs = (np.arange(4096, dtype=np.uint64) | U((top << 12) & MASK))
    unscrambled = outputs * U(INV9)
    return ((unscrambled >> U(7)) | (unscrambled << U(57))) * U(INV5)


def _value(output: np.ndarray) -> np.ndarray:
    return ((output >> U(12)) << U(10)) + U(1)


def predicts(first: int, second: int, seen: Iterable[int]) -> set[int]:
    """The values among `seen` that random() made right after `first` and `second`, if it made those two in a row."""
    wanted = np.array(sorted(set(seen) - {first, second}), dtype=np.uint64)
    if (first - 1) % 1024 or (second - 1) % 1024 or not len(wanted):
        return set()  # not made that way: random() leaves the low 10 bits of such a value zero
    found: set[int] = set()
    nexts = _states(second)
    with np.errstate(over="ignore"):
        for s0 in _states(first):
            u = nexts ^ _rotl(np.array([s0], dtype=np.uint64), 24)
            t = u ^ (u << U(16)) ^ (u << U(32)) ^ (u << U(48))  # sx: the inverse of x ^ (x << 16)
            s1 = _rotl(t, 37)
            sx = s1 ^ nexts
            third = _value(_output(_rotl(nexts, 24) ^ sx ^ (sx << U(16))))
            found.update(int(v) for v in third[np.isin(third, wanted)])
    return found
