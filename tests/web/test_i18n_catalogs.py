"""The Khmer and Burmese catalogs: complete, not fuzzy, placeholders kept, and the shipped .mo up to date."""

from __future__ import annotations

import io
import re
from pathlib import Path

import pytest
from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

from tests.support import ROOT
from tests.support.catalogs import CATALOGS

LANGS = ("km", "my")
PLACEHOLDER = re.compile(r"%\(\w+\)s|`[^`]+`")


def extracted() -> set[str]:
    """Every string `pybabel extract -F babel.cfg -k _l` finds (docs/translations.md)."""
    with (ROOT / "babel.cfg").open() as f:
        method_map, options_map = parse_mapping_cfg(f)
    keywords = {**DEFAULT_KEYWORDS, "_l": None}
    return {m for _, _, m, _, _ in extract_from_dir(str(ROOT), method_map, options_map, keywords=keywords)}


def read(path: Path):
    """A catalog read from a .po or .pot file."""
    with path.open("rb") as f:
        return read_po(f)


def test_template_is_up_to_date() -> None:
    """messages.pot holds exactly the strings the code and templates mark today: re-extract after a change."""
    assert {m.id for m in read(CATALOGS / "messages.pot") if m.id} == extracted()


@pytest.mark.parametrize("lang", LANGS)
def test_every_entry_translated(lang: str) -> None:
    """Every marked string is in the catalog, translated, not fuzzy, with the same placeholders."""
    catalog = read(CATALOGS / lang / "LC_MESSAGES" / "messages.po")
    entries = {m.id: m for m in catalog if m.id}
    assert set(entries) == extracted()
    for msgid, entry in entries.items():
        assert entry.string.strip(), f"{lang}: not translated: {msgid}"
        assert not entry.fuzzy, f"{lang}: fuzzy: {msgid}"
        assert sorted(PLACEHOLDER.findall(entry.string)) == sorted(PLACEHOLDER.findall(msgid)), msgid
        assert entry.string != msgid or len(msgid) < 4, f"{lang}: left in English: {msgid}"


@pytest.mark.parametrize("lang", LANGS)
def test_shipped_mo_matches_po(lang: str) -> None:
    """The committed .mo is the compiled .po, byte for byte: run `pybabel compile` after editing a .po."""
    folder = CATALOGS / lang / "LC_MESSAGES"
    compiled = io.BytesIO()
    write_mo(compiled, read(folder / "messages.po"))
    assert (folder / "messages.mo").read_bytes() == compiled.getvalue()
