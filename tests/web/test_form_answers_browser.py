"""The form's structured answers in Chromium (issue 21 item 1), in en, km and my, with JavaScript and without: the
province, month and year chosen are what the reviewer opens; an unchosen type is refused before anything is sent;
the reporter reads the answers again by name."""

from __future__ import annotations

import pytest

from intake.clock import today
from intake.text import answers
from tests.support.browser import wait_receipt
from tests.support.catalogs import catalog
from tests.support.web import open_stored

pytestmark = [pytest.mark.browser, pytest.mark.slow]
CHOICES = {"en": ("KH-2", "01"), "km": ("KH-12", "04"), "my": ("MM-06", "11")}


def translated(lang: str, english: str) -> str:
    """A string of the form as the page in `lang` shows it."""
    return english if lang == "en" else catalog(lang)[english]


def choose(page, lang: str, year: str) -> None:
    """Choose this language's province and month, `year`, and fill the text."""
    province, month = CHOICES[lang]
    page.select_option("#occurred_month", month)
    page.select_option("#occurred_year", year)
    page.select_option("#province", province)
    page.fill("#location", "Hlaing")
    page.fill("#description", f"a drone over the market ({lang})")


def sealed_answers(site, ref: str) -> dict[str, str]:
    """The structured answers of a stored case, as the reviewer opens it."""
    fields, _, _ = open_stored(site.engine, ref, site.identities[:1])
    return {k: v for k, v in fields.items() if k in ("occurred_month", "occurred_year", "province", "lang")}


@pytest.mark.parametrize("lang", ["en", "km", "my"])
def test_with_javascript(browser, served, lang):
    """"Choose one" is refused in the page's language with nothing sent; the chosen answers are sealed in the page;
    the codename shows them again by name."""
    site, server, _ = served
    context = browser.new_context()
    page = context.new_page()
    posted: list[str] = []
    page.on("request", lambda r: posted.append(r.url) if r.method == "POST" else None)
    page.goto(f"{server.url}/?lang={lang}")
    page.wait_for_selector("html[data-sealing=ready]")
    year = str(today().year - 2)
    choose(page, lang, year)
    page.click("button[type=submit]")
    assert page.inner_text("#status") == translated(lang, "Choose what happened.")
    assert page.evaluate("document.activeElement.id") == "incident_type"
    assert posted == []
    page.select_option("#incident_type", "cctv")
    page.click("button[type=submit]")
    ref = wait_receipt(page)
    province, month = CHOICES[lang]
    assert sealed_answers(site, ref) == {"occurred_month": month, "occurred_year": year, "province": province,
                                         "lang": lang}
    codename = page.inner_text("#codename")
    page.goto(f"{server.url}/check?lang={lang}")
    page.wait_for_selector("html[data-sealing=ready]")
    page.fill("#codename", codename)
    page.click("#check-form button")
    page.wait_for_selector("#js-thread:not([hidden])", timeout=60000)
    shown = page.inner_text("#report-fields")
    place = answers.place(province)
    assert (place.name if lang == "en" else catalog(lang)[place.name]) in shown
    assert answers.month_name(month, lang) in shown
    assert translated(lang, "%(year)s (BE %(be)s)") % {"year": year, "be": int(year) + 543} in shown
    context.close()


@pytest.mark.parametrize("lang", ["en", "km", "my"])
def test_without_javascript(browser, served, lang):
    """The browser asks for a type before posting (nothing sent); the chosen answers are sealed by the server."""
    site, server, _ = served
    context = browser.new_context(java_script_enabled=False)
    page = context.new_page()
    page.goto(f"{server.url}/?lang={lang}")
    year = str(today().year)
    choose(page, lang, year)
    posted: list[str] = []
    page.on("request", lambda r: posted.append(r.url) if r.method == "POST" else None)
    page.click("button[type=submit]")
    page.wait_for_timeout(500)
    assert posted == []
    assert page.locator("#incident_type:invalid").count() == 1
    page.select_option("#incident_type", "drone")
    page.click("button[type=submit]")
    page.wait_for_selector("#receipt")
    province, month = CHOICES[lang]
    assert sealed_answers(site, page.inner_text("#receipt")) == {
        "occurred_month": month, "occurred_year": year, "province": province, "lang": lang}
    context.close()
