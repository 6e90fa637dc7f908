"""Khmer and Burmese in Debian's Chromium at 360 px: no sideways scrolling, JS messages in the page's language,
and Zawgyi noticed in the page (with JS) and by the server (without), then told apart by `intake-review show`.

Set INTAKE_SHOTS=/some/dir to keep a screenshot of every page in every language there.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.support.browser import fits, phone
from tests.support.catalogs import catalog
from tests.support.reviewkit import Reviewer

pytestmark = [pytest.mark.browser, pytest.mark.slow]
ZAWGYI = "ေနျပည္ေတာ္ ဇူလုိင္ ၂၆ ႏိုင္ငံေတာ္၏ ရဲစခန္းအနီးတြင္ ဒ႐ုန္းတစ္စင္း ပ်ံေနသည္"
ZAWGYI_AS_UNICODE = "နေပြည်တော် ဇူလိုင် ၂၆ နိုင်ငံတော်၏ ရဲစခန်းအနီးတွင် ဒရုန်းတစ်စင်း ပျံနေသည်"
UNICODE = "ရဲစခန်းအနီးတွင် ဒရုန်းတစ်စင်း ပျံနေသည်။ ကင်မရာများ တပ်ထားသည်။"


@pytest.mark.parametrize("lang", ["en", "km", "my"])
def test_pages_fit_a_small_phone(browser, served, lang, tmp_path):
    """Form, refused form, receipt and 404 at 360 px, with and without JavaScript; each first load under 30 KB."""
    _site, server, _root = served
    shots = Path(os.environ.get("INTAKE_SHOTS") or tmp_path)
    shots.mkdir(parents=True, exist_ok=True)
    context, page, problems = phone(browser, javascript=False)
    sizes: dict[str, int] = {}
    page.on("response", lambda r: sizes.__setitem__(r.url, len(r.body())))
    page.goto(f"{server.url}/?lang={lang}")
    assert page.get_attribute("html", "lang") == lang
    assert sum(sizes.values()) < 30 * 1024, sizes
    fits(page, f"{lang}-form-nojs", shots)
    page.select_option("#incident_type", "drone")
    page.fill("#description", "x")
    page.click("button[type=submit]")
    page.wait_for_selector("#receipt")
    assert page.get_attribute("html", "lang") == lang
    fits(page, f"{lang}-receipt", shots)
    page.goto(f"{server.url}/nowhere?lang={lang}")
    fits(page, f"{lang}-404", shots)
    context.close()
    context, page, _ = phone(browser)
    context.route("**/js/page.js", lambda route: route.abort())
    page.goto(f"{server.url}/?lang={lang}")
    page.evaluate("document.getElementById('report-form').noValidate = true")
    page.click("button[type=submit]")
    page.wait_for_selector("p.error")
    assert page.get_attribute("html", "lang") == lang
    fits(page, f"{lang}-form-refused", shots)
    context.close()
    context, page, problems = phone(browser)
    loaded: list[str] = []
    page.on("request", lambda r: loaded.append(r.url))
    page.goto(f"{server.url}/?lang={lang}")
    page.wait_for_selector("html[data-sealing=ready]")
    page.select_option("#incident_type", "drone")
    page.fill("#description", "   ")
    # js/zawgyi.js (2 KB) is preloaded with the page's other modules but runs only once Myanmar letters are
    # typed: only then do its worker and myanmar-tools (90 KB) load.
    assert [u for u in loaded if "zawgyi-worker" in u or "myanmar" in u] == []
    page.click("button[type=submit]")
    status = page.inner_text("#status")
    assert status == (catalog(lang)["Describe what happened: this field is needed."] if lang != "en"
                      else "Describe what happened: this field is needed.")
    fits(page, f"{lang}-form-js", shots)
    context.close()
    assert problems == []


def send_with_js(browser, url: str, text: str, choice: str | None) -> str:
    """Type `text` as the description; answer the Zawgyi offer with `choice` ("convert", "keep" or None: none
    expected); send; return the case reference."""
    context, page, problems = phone(browser)
    page.goto(url)
    page.wait_for_selector("html[data-sealing=ready]")
    page.select_option("#incident_type", "drone")
    page.locator("#description").press_sequentially(text, delay=5)
    my = catalog("my")
    if choice is None:
        page.wait_for_timeout(1500)
        assert page.locator(".zawgyi").count() == 0
    else:
        page.wait_for_selector(".zawgyi", timeout=15000)
        assert my["This looks like Burmese typed with a Zawgyi keyboard. The reviewers may not be able to read it. "
                  "Change it to Unicode?"] in page.inner_text(".zawgyi")
        if os.environ.get("INTAKE_SHOTS"):
            page.screenshot(path=str(Path(os.environ["INTAKE_SHOTS"]) / "my-zawgyi-offer.png"), full_page=True)
        button = my["Change it to Unicode" if choice == "convert" else "Send it as it is"]
        page.click(f".zawgyi button:text-is('{button}')")
        page.wait_for_selector(".zawgyi", state="detached")
    page.click("button[type=submit]")
    page.wait_for_selector("#receipt-box:not([hidden])", timeout=60000)
    ref = page.inner_text("#receipt")
    context.close()
    assert problems == []
    return ref


def send_without_js(browser, url: str, text: str) -> str:
    """Send `text` as the description through the no-JavaScript form; return the case reference."""
    context, page, _problems = phone(browser, javascript=False)
    page.goto(url)
    page.select_option("#incident_type", "drone")
    page.fill("#description", text)
    page.click("button[type=submit]")
    page.wait_for_selector("#receipt")
    ref = page.inner_text("#receipt")
    context.close()
    return ref


def test_zawgyi_told_apart_by_the_reviewer(browser, served):
    """Zawgyi and Unicode Burmese sent through the real page: `intake-review show` warns about the Zawgyi ones only,
    with ICU's conversion beside the original; a converted report arrives as Unicode."""
    site, server, root = served
    url = f"{server.url}/?lang=my"
    refs = {"js-zawgyi": send_with_js(browser, url, ZAWGYI, "keep"),
            "js-unicode": send_with_js(browser, url, UNICODE, None),
            "js-converted": send_with_js(browser, url, ZAWGYI, "convert"),
            "nojs-zawgyi": send_without_js(browser, url, ZAWGYI),
            "nojs-unicode": send_without_js(browser, url, UNICODE)}
    alice = Reviewer.make(root / "alice", identity=site.identities[0])
    where = ("--db", site.settings.database_url)
    shown = {name: alice.json("show", ref, where=where) for name, ref in refs.items()}
    for name in ("js-zawgyi", "nojs-zawgyi"):
        assert shown[name]["fields"]["description"] == ZAWGYI
        [warning] = shown[name]["warnings"]
        assert warning["field"] == "description"
        assert "Zawgyi" in warning["warning"]
        assert warning["unicode"] == ZAWGYI_AS_UNICODE
    for name in ("js-unicode", "nojs-unicode"):
        assert shown[name]["fields"]["description"] == UNICODE
        assert shown[name]["warnings"] == []
    assert shown["js-converted"]["fields"]["description"] == ZAWGYI_AS_UNICODE
    assert shown["js-converted"]["warnings"] == []
    text = alice.run("show", refs["nojs-zawgyi"], where=where).stdout
    assert ZAWGYI in text
    assert f"[probably Zawgyi] Unicode conversion (beside the original, check it): {ZAWGYI_AS_UNICODE}" in text
    assert "[probably Zawgyi]" not in alice.run("show", refs["nojs-unicode"], where=where).stdout


@pytest.mark.parametrize("lang", ["km", "my"])
def test_api_errors_in_the_page_language(browser, served, lang):
    """A browser that asks for English, on a `?lang=` page: the API's refusal is shown in the page's language."""
    _site, server, _root = served
    context = browser.new_context(viewport={"width": 360, "height": 740}, locale="en-US")
    context.route("**/api/v1/reports", lambda route: route.continue_(post_data="not json"))
    page = context.new_page()
    page.goto(f"{server.url}/?lang={lang}")
    page.wait_for_selector("html[data-sealing=ready]")
    page.select_option("#incident_type", "drone")
    page.fill("#description", "x")
    page.click("button[type=submit]")
    words = catalog(lang)
    refusal = words["send the sealed report as a JSON object (docs/openapi.yaml)"]
    expected = f"{words['Your report was not sent:']} {refusal}"
    page.wait_for_function("t => document.getElementById('status').textContent === t", arg=expected, timeout=60000)
    context.close()


def test_broken_connection_message_in_the_page_language(browser, served):
    """A failed fetch shows the page's own message, not the browser's English error."""
    _site, server, _root = served
    context = browser.new_context(viewport={"width": 360, "height": 740}, locale="en-US")
    context.route("**/api/v1/reports", lambda route: route.abort())
    page = context.new_page()
    page.goto(f"{server.url}/?lang=km")
    page.wait_for_selector("html[data-sealing=ready]")
    page.select_option("#incident_type", "drone")
    page.fill("#description", "x")
    page.click("button[type=submit]")
    words = catalog("km")
    broken = [v for k, v in words.items() if k.startswith("the connection failed, or this page could not seal")]
    expected = f"{words['Your report was not sent:']} {broken[0]}"
    page.wait_for_function("t => document.getElementById('status').textContent === t", arg=expected, timeout=60000)
    context.close()
