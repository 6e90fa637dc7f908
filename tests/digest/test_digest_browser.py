"""The digest in Chromium from file://: nothing leaves the file system, no script runs, the counts are the cases."""

from __future__ import annotations

import re

import pytest

from tests.support.browser import Watched
from tests.support.digestkit import make_cases

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def digests(tmp_path_factory):
    """The team's and the shared digest of one database (ordinary, hostile and photo cases)."""
    base = tmp_path_factory.mktemp("digest")
    url, reviewer, refs = make_cases(base)
    reviewer.run("digest", "--out", str(base / "team"), where=("--db", url))
    reviewer.run("digest", "--share", "--min-count", "3", "--out", str(base / "shared"), where=("--db", url))
    return base, refs


def _visit(browser, path):
    """Open `path` from file:// with scripts allowed by the browser (the page's policy must stop them)."""
    context = browser.new_context(viewport={"width": 1000, "height": 900})
    watched = Watched(context)
    requests: list[str] = []
    watched.page.on("request", lambda request: requests.append(request.url))
    watched.page.goto(path.as_uri())
    watched.page.wait_for_load_state("load")
    return context, watched, requests


def _no_script(page) -> None:
    scripted = page.evaluate("""() => [...document.querySelectorAll('*')].filter(e =>
        ['SCRIPT', 'IFRAME', 'OBJECT', 'EMBED'].includes(e.tagName) ||
        [...e.attributes].some(a => a.name.startsWith('on') || /^\\s*javascript:/i.test(a.value))).length""")
    assert scripted == 0
    assert page.title() != "pwned"


def test_team_digest_from_file(browser, digests):
    """Index and every case page: file:// requests only (previews and stylesheet in the folder), no script and no
    policy violation; the total, the table's rows and each exclusive breakdown equal the cases."""
    base, refs = digests
    folder = (base / "team").as_uri()
    context, watched, requests = _visit(browser, base / "team" / "index.html")
    page = watched.page
    assert page.inner_text("#total") == str(len(refs))
    assert page.locator("table.cases tr.case").count() == len(refs)
    for section in ("type", "status", "lang", "province"):
        cells = page.locator(f"#by-{section} td.n").all_inner_texts()
        assert sum(int(n) for n in cells) == len(refs), section
    assert page.evaluate("getComputedStyle(document.body).maxWidth") != "none"  # the stylesheet applied
    _no_script(page)
    for ref in refs:
        page.click(f'a[href="cases/{ref}.html"]')
        page.wait_for_load_state("load")
        _no_script(page)
        for img in page.locator("img").all():
            assert img.evaluate("i => i.complete && i.naturalWidth > 0 && i.naturalWidth <= 320")
        page.go_back()
    watched.check()
    assert requests
    assert [u for u in requests if not u.startswith(folder + "/")] == []
    assert any(re.search(r"/cases/[^/]+-1\.jpg$", u) for u in requests)
    context.close()


def test_shared_digest_from_file(browser, digests):
    """The shared index: file:// only, no script, no violation, no link to anything."""
    base, refs = digests
    context, watched, requests = _visit(browser, base / "shared" / "index.html")
    page = watched.page
    assert page.inner_text("#total") == str(len(refs))
    assert page.locator("a").count() == 0
    text = page.inner_text("body")
    assert not any(ref in text for ref in refs)
    _no_script(page)
    watched.check()
    assert requests
    assert [u for u in requests if not u.startswith((base / "shared").as_uri() + "/")] == []
    context.close()
