"""The body's JSON read strictly, as docs/format.md §5.1 rules 1-5 say: any breach is a ValueError."""

from __future__ import annotations

import json
import re

MAX_DEPTH = 16
MAX_INTEGER = (1 << 53) - 1
_STRING = re.compile(rb'"[^"\\]*(?:\\.[^"\\]*)*"', re.DOTALL)
_OTHER = re.compile(rb'[^"\[\]{}]*')
_OPEN = frozenset(b"[{")
SURROGATE = re.compile("[\ud800-\udfff]")


def check_depth(data: bytes) -> None:
    """Refuse JSON nested deeper than MAX_DEPTH (rule 2): one left-to-right pass, no recursion, linear time.

    Each string is matched once from its opening quote; one that does not end stops the scan (it is not JSON),
    so an attacker's run of escaped quotes costs one pass, not one per quote.
    """
    if data.count(b"[") + data.count(b"{") <= MAX_DEPTH:  # no deeper than the brackets it holds at all
        return
    depth, at, end = 0, 0, len(data)
    while True:
        other = _OTHER.match(data, at)
        at = other.end() if other else at
        if at >= end:
            return
        if data[at] == 0x22:
            string = _STRING.match(data, at)
            if string is None:
                raise ValueError("a string of the JSON does not end")
            at = string.end()
            continue
        depth += 1 if data[at] in _OPEN else -1
        if depth > MAX_DEPTH:
            raise ValueError(f"the JSON is nested more than {MAX_DEPTH} deep")
        at += 1


def _pairs(pairs: list[tuple[str, object]]) -> dict[str, object]:
    """An object, refusing duplicate member names (rule 3)."""
    out = dict(pairs)
    if len(out) != len(pairs):
        raise ValueError("an object has two members with the same name")
    return out


def _integer(text: str) -> int:
    """A number in plain digits, at most 2^53 - 1 (rule 5); json has already refused leading zeros."""
    if text.startswith("-") or len(text) > 16 or int(text) > MAX_INTEGER:
        raise ValueError("a number must be a non-negative integer below 2^53")
    return int(text)


def _no_fraction(text: str) -> float:
    raise ValueError(f"a number must be an integer in plain digits, not {text[:20]}")


def _check_strings(value: object) -> None:
    """Refuse lone surrogates in any string or member name (rule 4); iterative, the depth is already bounded."""
    todo = [value]
    while todo:
        item = todo.pop()
        if isinstance(item, str):
            if SURROGATE.search(item):
                raise ValueError("a string holds a lone surrogate")
        elif isinstance(item, dict):
            todo.extend(item.keys())
            todo.extend(item.values())
        elif isinstance(item, list):
            todo.extend(item)


_DECODER = json.JSONDecoder(object_pairs_hook=_pairs, parse_int=_integer, parse_float=_no_fraction,
                            parse_constant=_no_fraction)  # made once: json.loads with hooks makes one per call


def loads(data: bytes) -> object:
    """Parse UTF-8 JSON bytes under rules 1-5 of §5.1, or raise ValueError saying which rule broke."""
    text = data.decode("utf-8")
    if text.startswith("\ufeff"):
        raise ValueError("the JSON starts with a byte order mark")
    check_depth(data)
    try:
        value = _DECODER.decode(text)
    except RecursionError as exc:
        raise ValueError("the JSON is nested too deep") from exc
    if b"\\u" in data:  # only a \u escape can make a lone surrogate: UTF-8 cannot encode one
        _check_strings(value)
    return value
