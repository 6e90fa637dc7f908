"""Searchable text: one folded form for a case's text and the words a reviewer types."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable

from intake.text import zawgyi

_MYANMAR = re.compile("[\u1000-\u109f\ua9e0-\ua9ff\uaa60-\uaa7f]")
_INVISIBLE = frozenset({"Cf", "Cc", "Cs", "Co", "Cn"})


def fold(text: str) -> str:
    """Text as search compares it: NFC, case-folded, without invisible characters (a Khmer zero-width space)."""
    text = unicodedata.normalize("NFC", text).casefold()
    if text.isascii():
        return "".join(c for c in text if c >= " " and c != "\x7f")
    return "".join(c for c in text if unicodedata.category(c) not in _INVISIBLE)


def searchable(texts: Iterable[str]) -> str:
    """One folded text of every piece, each Burmese piece typed in Zawgyi followed by its Unicode conversion."""
    pieces: list[str] = []
    for text in texts:
        pieces.append(text)
        if _MYANMAR.search(text) and zawgyi.is_zawgyi(text):
            converted = zawgyi.to_unicode(text)
            if converted:
                pieces.append(converted)
    return fold("\n".join(pieces))


def words(query: str) -> tuple[str, ...]:
    """The folded words of a search, each of which a case must hold (as typed, or inside a longer word)."""
    return tuple(w for w in (fold(part) for part in query.split()) if w)


def matches(text: str, wanted: tuple[str, ...]) -> bool:
    """Whether the folded text holds every wanted word."""
    return all(word in text for word in wanted)
