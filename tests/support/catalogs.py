"""The translation catalogs as the tests read them."""

from __future__ import annotations

from babel.messages.pofile import read_po

from tests.support import ROOT

CATALOGS = ROOT / "intake" / "translations"


def catalog(lang: str) -> dict[str, str]:
    """msgid -> msgstr of one language's catalog."""
    with (CATALOGS / lang / "LC_MESSAGES" / "messages.po").open("rb") as f:
        return {m.id: m.string for m in read_po(f) if m.id}
