"""`intake-review digest` as a reviewer runs it: the team's pages, hostile input inert, the shared digest bare."""

from __future__ import annotations

import re

import pytest

from tests.support import run_cli
from tests.support.digestkit import HOSTILE, LONG_WORD, SECRETS, active_parts, make_cases, numbers_shown

K = 3


@pytest.fixture(scope="module")
def cases(tmp_path_factory):
    """A database with ordinary, hostile and photo cases, and the team's digest of it."""
    base = tmp_path_factory.mktemp("digest")
    url, reviewer, refs = make_cases(base)
    out = base / "team"
    done = reviewer.run("digest", "--out", str(out), where=("--db", url))
    return {"url": url, "reviewer": reviewer, "refs": refs, "out": out, "base": base, "stderr": done.stderr}


def test_team_digest_has_every_case_and_its_page(cases):
    """The index links every case to its page; the total, the types and the table agree with the cases."""
    index = (cases["out"] / "index.html").read_text()
    assert f"of {len(cases['refs'])} cases" in cases["stderr"]
    assert re.search(rf'<strong id="total">{len(cases["refs"])}</strong>', index)
    for ref in cases["refs"]:
        assert f'href="cases/{ref}.html"' in index
        assert (cases["out"] / "cases" / f"{ref}.html").is_file()
    type_cells = re.search(r'id="by-type".*?</section>', index, re.S).group(0)
    assert sum(int(n) for n in re.findall(r'<td class="n">(\d+)</td>', type_cells)) == len(cases["refs"])


def test_every_page_carries_the_policy_and_no_script(cases):
    """Each page: the CSP meta first in its head, no script element, no event handler, no javascript: link."""
    pages = [cases["out"] / "index.html", *sorted((cases["out"] / "cases").glob("*.html"))]
    assert len(pages) == len(cases["refs"]) + 1
    for page in pages:
        html = page.read_text()
        assert ('<meta http-equiv="Content-Security-Policy" content="default-src \'none\'; img-src \'self\'; '
                "style-src 'self'\">") in html.split("</head>")[0]
        assert active_parts(html) == [], page.name
        assert "\u202e" not in html
        assert "\u2066" not in html


def test_hostile_case_is_inert_and_the_rest_is_written(cases):
    """Markup, javascript: links, bidi controls and a 20,000-character word are shown as text; the bomb and
    the cut photo are "no preview", the video listed; the other cases' pages and previews are written."""
    page = (cases["out"] / "cases" / f"{cases['refs'][-2]}.html").read_text()
    assert "&lt;script&gt;document.title=" in page
    assert "javascript:alert(2)" in page
    assert "\\u202egnp.exe" in page
    assert "\\u2066hidden\\u2069" in page
    assert LONG_WORD in page
    assert page.count("no preview") == 2
    assert "clip.mp4" in page
    assert "decompression bomb" in page
    assert not re.search(r"<img[^>]*src=\"[^\"]*(bomb|cut)", page)
    assert set(HOSTILE)  # every field of it was shown under its escaped name
    assert "\\u202efield&lt;i&gt;" in page


def test_previews_are_new_pictures_without_metadata(cases):
    """A photo's preview is a new small JPEG beside its page: none of the original's bytes or EXIF."""
    from tests.support.reviewkit import jpeg_with_gps

    previews = sorted((cases["out"] / "cases").glob("*.jpg"))
    assert {p.name for p in previews} == {f"{cases['refs'][0]}-1.jpg", f"{cases['refs'][-1]}-1.jpg"}
    for preview in previews:
        data = preview.read_bytes()
        assert data.startswith(b"\xff\xd8\xff")
        assert b"Exif" not in data
        assert b"Canon" not in data
    assert previews[0].read_bytes() != jpeg_with_gps()


def test_shared_digest_holds_no_text_no_reference_no_count_below_k(cases):
    """--share: only index.html and style.css; no reference, no reporter's text, no count below K anywhere."""
    out = cases["base"] / "shared"
    cases["reviewer"].run("digest", "--share", "--min-count", str(K), "--out", str(out), where=("--db", cases["url"]))
    assert sorted(p.name for p in out.rglob("*")) == ["index.html", "style.css"]
    html = (out / "index.html").read_text()
    for ref in cases["refs"]:
        assert ref not in html
        assert ref.replace("-", "") not in html
    for text in [*SECRETS, "<b>drone</b>", "&lt;b&gt;drone", "onload", "alert", LONG_WORD[:50], "gps.jpg"]:
        assert text not in html
    shown = numbers_shown(html)
    assert shown
    assert min(shown) >= K
    assert f"fewer than {K}" in html
    assert re.search(r"week of \d{4}-\d\d-\d\d", html)
    assert not re.search(r"\b\d{4}-\d\d-\d\d: ", html.split("When it was received")[1].split("</section>")[0]
                         .replace("week of ", "week-of-"))


def test_digest_never_writes_over_one(cases):
    """A second digest into the same folder is refused, and the first one is left as it was."""
    before = (cases["out"] / "index.html").read_bytes()
    done = cases["reviewer"].run("digest", "--out", str(cases["out"]), where=("--db", cases["url"]), check=False)
    assert done.returncode != 0
    assert "already exists" in done.stderr
    assert (cases["out"] / "index.html").read_bytes() == before


def test_digest_from_a_bundle_in_khmer(cases, tmp_path):
    """A bundle made by export-sealed gives the same cases, with the pages in Khmer."""
    bundle = tmp_path / "cases.bundle"
    (tmp_path / "instance").mkdir(mode=0o700)  # the instance folder holds the import key a bundle carries
    run_cli("intake", "export-sealed", "--out", str(bundle), cwd=tmp_path, env={"INTAKE_DATABASE_URL": cases["url"]})
    out = tmp_path / "km"
    cases["reviewer"].run("digest", "--pages-in", "km", "--out", str(out), where=("--bundle", str(bundle)))
    index = (out / "index.html").read_text()
    assert '<html lang="km">' in index
    assert re.search(rf'<strong id="total">{len(cases["refs"])}</strong>', index)
