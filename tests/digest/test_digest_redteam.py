"""Red team of the digest: hostile cases, opened from file:// in Chromium with every request recorded and a listener
that every hostile URL points at. Nothing leaves the folder, nothing runs, the counts are the cases, a 360 px phone
reads it in km and my without sideways scrolling."""

from __future__ import annotations

import socket
import threading

import pytest

from tests.support.browser import Watched
from tests.support.digestkit import hostile_cases

pytestmark = [pytest.mark.browser, pytest.mark.slow]
LANGS = ("en", "km", "my")

# Anything in the page that could fetch, navigate or run: it must not exist at all (escaped text is fine).
ACTIVE = """() => [...document.querySelectorAll('*')].filter(e => {
    const tag = e.tagName.toLowerCase();
    if (['script', 'iframe', 'object', 'embed', 'base', 'form', 'button', 'foreignobject', 'image', 'use',
         'audio', 'video', 'source', 'frame', 'applet', 'portal'].includes(tag)) return true;
    if (tag === 'meta' && e.httpEquiv && e.httpEquiv.toLowerCase() !== 'content-security-policy') return true;
    if (tag === 'link' && !(e.rel === 'stylesheet' && /^(\\.\\.\\/)?style\\.css$/.test(e.getAttribute('href'))))
        return true;
    if (tag === 'a' && !/^(\\.\\.\\/index\\.html|cases\\/[A-Za-z0-9-]+\\.html)$/.test(e.getAttribute('href') || ''))
        return true;
    if (tag === 'img' && !/^[A-Za-z0-9-]+\\.jpg$/.test(e.getAttribute('src') || '')) return true;
    return [...e.attributes].some(a => a.name.startsWith('on') || a.name === 'style' || a.name === 'srcset' ||
        a.name === 'formaction' || a.name === 'action' || a.name === 'xlink:href' || a.name === 'ping');
}).map(e => e.outerHTML.slice(0, 120))"""

# What sticks out of a 360 px page: the document itself, or any table or block wider than the window.
OVERFLOW = """() => [document.documentElement.scrollWidth > innerWidth ? 'document ' +
    document.documentElement.scrollWidth : null, ...[...document.querySelectorAll('table, dl, ul, p, section, svg')]
    .filter(e => e.getBoundingClientRect().right > innerWidth + 0.5 || e.scrollWidth > e.clientWidth + 1 &&
        getComputedStyle(e).overflowX === 'visible' && e.tagName !== 'svg')
    .map(e => e.tagName + ' ' + (e.id || e.className) + ' ' + Math.round(e.getBoundingClientRect().right))]
    .filter(Boolean)"""


class Listener:
    """A TCP port on loopback that counts whoever connects (every hostile URL points here)."""

    def __init__(self) -> None:
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{self.sock.getsockname()[1]}"
        self.connections = 0
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self) -> None:
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            self.connections += 1
            conn.close()


@pytest.fixture(scope="module")
def red(tmp_path_factory):
    """The hostile database, its team digest in each language and its shared digest."""
    base = tmp_path_factory.mktemp("red")
    listener = Listener()
    url, reviewer, refs, what = hostile_cases(base, listener.url)
    runs = {lang: reviewer.run("digest", "--pages-in", lang, "--out", str(base / lang), where=("--db", url))
            for lang in LANGS}
    for lang in ("en", "my"):
        runs[f"shared-{lang}"] = reviewer.run("digest", "--share", "--min-count", "2", "--pages-in", lang, "--out",
                                              str(base / f"shared-{lang}"), where=("--db", url))
    yield base, refs, what, runs, listener
    listener.sock.close()


def _open(browser, path, width):
    context = browser.new_context(viewport={"width": width, "height": 740})
    watched = Watched(context)
    requests: list[str] = []
    watched.page.on("request", lambda request: requests.append(request.url))
    watched.page.goto(path.as_uri())
    watched.page.wait_for_load_state("load")
    return context, watched, requests


def _inert(watched, requests, folder) -> None:
    """No element that could fetch or run, no script ran, no policy violation, no request outside the folder."""
    page = watched.page
    assert page.evaluate(ACTIVE) == []
    assert page.evaluate("typeof window.pwned") == "undefined"
    assert page.title() != "pwned"
    watched.check()
    assert [u for u in requests if not u.startswith(folder.as_uri() + "/")] == []


def test_every_page_is_inert_fetches_nothing_and_fits_a_phone(browser, red):
    """km and my: the index and every case page on a 360 px phone; en: the index and the case with markup in every
    field at 1000 px; the shared digest on the phone: inert, nothing fetched but the folder's own files, the
    listener never reached, nothing wider than the phone."""
    base, refs, what, runs, listener = red
    for lang in LANGS:
        folder = base / lang
        pages = [folder / "index.html", *sorted((folder / "cases").glob("*.html"))]
        assert len(pages) == len(refs) + 1
        if lang == "en":
            fields = next(ref for ref, kind in what.items() if kind == "fields")
            pages = [folder / "index.html", folder / "cases" / f"{fields}.html"]
        for path in pages:
            context, watched, requests = _open(browser, path, 1000 if lang == "en" else 360)
            _inert(watched, requests, folder)
            assert lang == "en" or watched.page.evaluate(OVERFLOW) == [], f"{lang} {path.name}"
            context.close()
    for lang in ("en", "my"):
        context, watched, requests = _open(browser, base / f"shared-{lang}" / "index.html", 360)
        _inert(watched, requests, base / f"shared-{lang}")
        assert watched.page.evaluate(OVERFLOW) == [], lang
        assert watched.page.locator("a").count() == 0
        context.close()
    assert listener.connections == 0
    for run in runs.values():  # the reviewer's terminal gets one plain line per digest, whatever the photos held
        assert run.stderr.rstrip("\n").isprintable()
        assert run.stderr.count("\n") == 1


def test_counts_shown_are_the_cases(browser, red):
    """The total, the table's rows and each exclusive breakdown (the not-opened case and the bad values included)
    count every case once; a reference that is not a file name gets a page of its own, inside the folder."""
    base, refs, what, _, _ = red
    context, watched, _ = _open(browser, base / "en" / "index.html", 1000)
    page = watched.page
    assert page.inner_text("#total") == str(len(refs))
    assert page.locator("table.cases tr.case").count() == len(refs)
    for section in ("type", "status", "lang", "province"):
        assert sum(int(n) for n in page.locator(f"#by-{section} td.n").all_inner_texts()) == len(refs), section
    tags = page.locator("#by-tag td.n").count()
    assert tags == 10002
    links = page.locator("table.cases a").evaluate_all("links => links.map(a => a.getAttribute('href'))")
    assert len(set(links)) == len(refs)
    assert not list(base.glob("**/escaped*"))
    context.close()


def test_hostile_values_are_shown_as_text(red):
    """The markup is on the page as text (fields, note); a forged message is "not opened"; Zawgyi has its
    conversion; the SVG photo and the file whose type is markup get no preview; the case that does not open says
    so; bad years, months and provinces are counted as written, never as a month or a place."""
    base, refs, what, _, _ = red
    folder = base / "en"
    kind = {v: k for k, v in what.items()}
    fields_page = (folder / "cases" / f"{kind['fields']}.html").read_text()
    assert "&lt;meta http-equiv=&#34;refresh&#34;" in fields_page
    assert "&lt;script&gt;window.pwned=1" in fields_page
    files = fields_page.split("<h2>Files</h2>")[1].split("</ul>")[0]
    assert files.count("<li>") == 2  # listed, never drawn
    assert "<img" not in fields_page
    assert not list((folder / "cases").glob(f"{kind['fields']}-*.jpg"))
    assert "p\\u202egnp.svg" in fields_page
    tagged = (folder / "cases" / f"{kind['tags']}.html").read_text()
    assert "&lt;script&gt;window.pwned=1" in tagged.split("<h2>Notes</h2>")[1].split("</section>")[0]
    assert "not opened:" in tagged.split("<h2>Thread</h2>")[1]  # the forged message, refused and shown as such
    zawgyi = (folder / "cases" / f"{kind['zawgyi']}.html").read_text()
    assert "Probably Burmese typed in Zawgyi" in zawgyi
    assert (folder / "cases" / f"{kind['does not open']}.html").read_text().count("could not be opened") == 1
    index = (folder / "index.html").read_text()
    occurred = index.split('id="by-occurred"')[0].split("When it happened")[1]
    for year in ("NaN", "-5", "1e3", "99999"):
        assert f"{year}-" not in occurred
    for bad in ("KH-99", "kh-12", "__proto__", "constructor", "MM-6"):
        assert f"<bdi class=\"text\">{bad}</bdi>" in index
