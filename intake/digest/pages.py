"""The digest's pages: Jinja templates (templates/digest/) with every value escaped, in km, my or en.

A stranger's text is shown through `inert`: HTML-escaped by Jinja, its bidirectional controls, line and
paragraph separators, other control characters and lone surrogates written as visible escapes, inside a
<bdi> so that it cannot reorder what is around it. Nothing a reporter wrote ever becomes a link.
"""

from __future__ import annotations

import gettext
import unicodedata
from functools import cache
from pathlib import Path

import jinja2

import intake

PACKAGE = Path(intake.__file__).parent
_IN_WHEEL = PACKAGE / "templates"
TEMPLATES = (_IN_WHEEL if _IN_WHEEL.is_dir() else PACKAGE.parent / "templates") / "digest"
LANGUAGES = ("en", "km", "my")
BIDI = frozenset("\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")
KEPT = frozenset("\n\t")


def inert(value: object) -> str:
    """Text with every character that could reorder, hide or break the page written as a visible escape."""
    def safe(c: str) -> str:
        if c in KEPT:
            return c
        if c in BIDI or unicodedata.category(c) in ("Cc", "Cs", "Zl", "Zp"):
            return f"\\u{ord(c):04x}"
        return c

    return "".join(safe(c) for c in str(value))


@cache
def translations(lang: str) -> gettext.NullTranslations:
    """The site's catalogue for `lang` (English is the catalogue's own text)."""
    return gettext.translation("messages", PACKAGE / "translations", languages=[lang], fallback=True)


def environment(lang: str) -> jinja2.Environment:
    """The templates, autoescaped, with the translations of `lang` and the `inert` filter."""
    env = jinja2.Environment(loader=jinja2.FileSystemLoader(TEMPLATES), autoescape=True,
                             undefined=jinja2.StrictUndefined, extensions=["jinja2.ext.i18n"])
    env.install_gettext_translations(translations(lang), newstyle=True)  # type: ignore[attr-defined]
    env.filters["inert"] = inert
    return env


def stylesheet() -> str:
    """The site's stylesheet (its fonts for Khmer and Burmese) followed by the digest's own rules."""
    static = PACKAGE / "static"
    return (static / "style.css").read_text(encoding="utf-8") + "\n" + (static / "digest.css").read_text(
        encoding="utf-8")
