"""What a tag may be (docs/review.md "Tags"). A tag change is sealed as a note is: review/notes.py `seal_tags`."""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable

from intake.errors import BadValue

MAX_TAG = 40
MAX_TAGS = 50
PUNCTUATION = frozenset("-_.:/#+&")


def normal_tag(text: str) -> str:
    """A tag as it is stored and compared: NFC, case-folded, with its rules checked (BadValue says which)."""
    tag = unicodedata.normalize("NFC", text.strip()).casefold()
    bad = next((c for c in tag if unicodedata.category(c)[0] not in "LMN" and c not in PUNCTUATION), None)
    if bad is not None:
        what = "a control or invisible character" if unicodedata.category(bad)[0] in "CZ" and bad != " " else repr(bad)
        shown = f"U+{ord(bad):04X}"
        raise BadValue(f"a tag may hold letters and digits of any script (Khmer and Burmese too) and - _ . : / # + &,"
                       f" not {what} ({shown}): write it as one word, e.g. face-recognition", "TAG")
    if not tag:
        raise BadValue("a tag is empty", "TAG")
    if len(tag) > MAX_TAG:
        raise BadValue(f"a tag is at most {MAX_TAG} characters: shorten {tag[:MAX_TAG]}...", "TAG")
    return tag


def normal_tags(texts: Iterable[str]) -> tuple[str, ...]:
    """Each tag made normal, in order, each once."""
    return tuple(dict.fromkeys(normal_tag(t) for t in texts))


