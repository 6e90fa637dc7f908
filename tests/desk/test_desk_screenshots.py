"""The screenshots of docs/review.md: made by Textual's SVG export on sample cases, inert, fetching nothing."""

from __future__ import annotations

from xml.etree import ElementTree

from tests.support.deskkit import screenshots


def test_the_screenshots_are_made_and_inert(tmp_path):
    made = screenshots(tmp_path)
    assert sorted(p.name for p in made) == ["desk-bundle.svg", "desk-case.svg", "desk-hostile.svg",
                                            "desk-search.svg", "desk-status.svg"]
    for path in made:
        svg = path.read_text()
        ElementTree.fromstring(svg)  # noqa: S314 - our own file, parsed to prove it well-formed
        assert "https://cdn" not in svg
        assert "<script" not in svg
        assert "\x1b" not in svg
    hostile = (tmp_path / "desk-hostile.svg").read_text()
    assert "&lt;/text&gt;&lt;script&gt;" in hostile.replace("&#160;", " ")
    assert "[@click=app.quit]" in hostile
    assert "read-only" in (tmp_path / "desk-bundle.svg").read_text()
