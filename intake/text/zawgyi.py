"""Burmese typed in the Zawgyi encoding: detected with Google's myanmartools, converted with ICU if installed.

Zawgyi reuses Unicode's Myanmar code points for other letters, so such text shows as nonsense in a
Unicode font. Detection never changes the text; a conversion is only ever shown beside the original.
"""

from __future__ import annotations

import warnings
from functools import cache

from myanmartools import ZawgyiDetector

THRESHOLD = 0.95  # the probability above which the detector's authors call a text Zawgyi


@cache
def _detector() -> ZawgyiDetector:
    with warnings.catch_warnings():  # myanmartools 1.2.1 loads its model with importlib.resources.open_binary
        warnings.simplefilter("ignore", DeprecationWarning)
        return ZawgyiDetector()


@cache
def _transliterator() -> object | None:
    try:
        import icu
    except ImportError:
        return None
    return icu.Transliterator.createInstance("Zawgyi-my")


def is_zawgyi(text: str) -> bool:
    """Whether `text` is probably Burmese in the Zawgyi encoding (False without Myanmar letters)."""
    return _detector().get_zawgyi_probability(text) > THRESHOLD


def zawgyi_fields(fields: dict[str, str]) -> list[str]:
    """The names of the fields whose text is probably Zawgyi, in order."""
    return [name for name, value in fields.items() if is_zawgyi(value)]


def to_unicode(text: str) -> str | None:
    """ICU's Zawgyi-to-Unicode conversion of `text`, or None if PyICU is not installed."""
    converter = _transliterator()
    return None if converter is None else converter.transliterate(text)  # type: ignore[attr-defined]


def field_warnings(fields: dict[str, str], flagged: list[str] | tuple[str, ...] = ()) -> list[dict[str, object]]:
    """A warning for each field that is probably Zawgyi, or that the sender flagged, with a conversion if we can."""
    found = zawgyi_fields(fields)
    names = found + [n for n in flagged if n in fields and n not in found]
    return [{"field": name, "warning": f"{name}: probably Burmese typed in Zawgyi, not Unicode; it may read as "
             "nonsense. Read the Unicode conversion beside it, and check it against the original",
             "unicode": to_unicode(fields[name])} for name in names]
