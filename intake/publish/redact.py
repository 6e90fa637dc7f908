"""Words and phrases taken out of a report's text: matched as substrings in any script, case-insensitively.

Khmer and Burmese put no spaces between words, so a word is found wherever its letters are, never only between
spaces. Text and words are compared in Unicode NFKC, ignoring the invisible characters (zero-width spaces and
joiners, soft hyphens, variation selectors) that a writer may put between letters. A field that is probably
Burmese in Zawgyi is converted to Unicode first and published as converted; without the converter it is not
published.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

from intake.text import zawgyi

MARKER = "[redacted]"  # the same for every span, whatever its length
# Unicode's default-ignorable code points: drawn as nothing (variation selectors, tags, fillers, joiners, bidi)
INVISIBLE = ("\u00ad\u034f\u061c\u115f\u1160\u17b4\u17b5\u180b-\u180f\u200b-\u200f\u202a-\u202e\u2060-\u206f"
             "\u3164\ufe00-\ufe0f\ufeff\uffa0\ufff0-\ufff8\U0001bca0-\U0001bca3\U0001d173-\U0001d17a\U000e0000-\U000e0fff")
GAP = f"[{INVISIBLE}]*"
SPACE = f"[\\s{INVISIBLE}]*"  # between the words of a phrase: Khmer and Burmese separate them by nothing or a ZWSP
MAX_WORDS, MAX_WORD = 200, 200


class BadWords(ValueError):
    """A --redact value that cannot be used."""


@dataclass
class Redacted:
    """One field as published: its text with every span replaced, how many were, and a note if it was converted."""

    name: str
    text: str | None
    count: int = 0
    note: str | None = None


def pattern(words: tuple[str, ...] | list[str]) -> re.Pattern[str] | None:
    """One pattern for every word, longest first, each letter matched literally (a regex character is a letter)."""
    cleaned = []
    for word in words:
        letters = [c for c in unicodedata.normalize("NFKC", word).strip() if not re.fullmatch(GAP, c)]
        if not "".join(letters).strip():
            raise BadWords(f"--redact {word!r} has no visible letter: give a word or phrase")
        if len(letters) > MAX_WORD:
            raise BadWords(f"a --redact word is longer than {MAX_WORD} characters: give a shorter phrase")
        cleaned.append(letters)
    if len(cleaned) > MAX_WORDS:
        raise BadWords(f"more than {MAX_WORDS} --redact words: publish in several passes or shorten the list")
    if not cleaned:
        return None
    cleaned.sort(key=len, reverse=True)
    alternatives = (SPACE.join(GAP.join(map(re.escape, w)) for w in "".join(letters).split()) for letters in cleaned)
    return re.compile("|".join(f"(?:{a})" for a in alternatives), re.IGNORECASE)


def redact_fields(fields: dict[str, object], flagged: tuple[str, ...] | list[str],
                  words: re.Pattern[str] | None) -> list[Redacted]:
    """Every text field of the report, redacted; a Zawgyi field as its Unicode conversion, or withheld."""
    zawgyi_names = {w["field"]: w["unicode"] for w in zawgyi.field_warnings(
        {k: v for k, v in fields.items() if isinstance(v, str)}, flagged)}
    done = []
    for name, value in fields.items():
        if not isinstance(value, str):
            continue
        note = None
        if name in zawgyi_names:
            converted = zawgyi_names[name]
            if converted is None:
                done.append(Redacted(name, None, note="not published: probably Zawgyi, and the converter is not "
                                     "installed (pip install 'intake[zawgyi]'), so words could not be found in it"))
                continue
            value, note = str(converted), "probably Zawgyi: published as its Unicode conversion"
        text = unicodedata.normalize("NFKC", value)  # fullwidth and styled letters (ＳＯＫ, 𝐒𝐨𝐤) as plain ones
        count = 0
        if words is not None:
            text, count = words.subn(MARKER, text)
        done.append(Redacted(name, text, count, note))
    return done
