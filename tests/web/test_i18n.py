"""Every user-facing string can be extracted for translation (babel.cfg), ready for Khmer and Burmese."""

from __future__ import annotations

from babel.messages.extract import extract_from_dir
from babel.messages.frontend import parse_mapping_cfg

from tests.support import ROOT


def test_babel_extracts_the_page_strings() -> None:
    """pybabel's extraction with babel.cfg finds the form's, the receipt's and the errors' strings."""
    with (ROOT / "babel.cfg").open() as f:
        method_map, options_map = parse_mapping_cfg(f)
    found = {message for _, _, message, _, _ in extract_from_dir(str(ROOT), method_map, options_map)}
    assert len(found) >= 40
    for expected in ("Stay safe", "The report was not accepted", "The report is too large"):
        assert expected in found
