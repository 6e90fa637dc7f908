"""Counted nouns for messages: "1 case", "2 cases", "1 reply", "0 replies"."""

from __future__ import annotations


def count(n: int, noun: str, plural: str | None = None) -> str:
    """`n` and the noun, singular for exactly one, else the plural (default: the noun and "s")."""
    return f"{n} {noun if n == 1 else plural or noun + 's'}"
