"""The form's structured answers without JavaScript (issue 21 item 1): what the pickers offer, what is sealed, and
every value the pickers cannot send refused with a 4xx that stores nothing."""

from __future__ import annotations

import html
import re

import pycountry
import pytest

from intake.clock import today
from intake.crypto.codename import derive_keys, make_codename
from intake.storage.threads import salt
from intake.text import answers
from tests.support.catalogs import catalog
from tests.support.nojs import form, post
from tests.support.web import csrf_token, open_stored, report_with_lookup, rows

EMPTY = {"cases": 0, "attachments": 0, "parts": 0, "case_keys": 0}
OPTION = re.compile(r'<option (?:selected )?value="([^"]*)">([^<]*)</option>')
pytestmark = pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)


def select(page: str, name: str) -> list[tuple[str, str]]:
    """The (value, label) options of one select of a page."""
    found = re.search(rf'<select[^>]* name="{name}"[^>]*>(.*?)</select>', page, re.DOTALL)
    return [(v, html.unescape(t)) for v, t in OPTION.findall(found.group(1))]


def translated(lang: str, english: str) -> str:
    """A string of the form as the page in `lang` shows it."""
    return english if lang == "en" else catalog(lang)[english]


@pytest.mark.parametrize("lang", ["en", "km", "my"])
def test_pickers_offer_pycountry_places_months_and_years(client, lang):
    """Type starts on "Choose one"; one province list of both countries, its codes exactly pycountry's; twelve months
    by name; this year back ten, each with its Buddhist-era year."""
    page = client.get(f"/?lang={lang}").get_data(as_text=True)
    assert select(page, "incident_type")[0] == ("", translated(lang, "Choose one"))
    assert '<option selected value="">' in page.split('name="incident_type"')[1].split("</select>")[0]
    codes = [v for v, _ in select(page, "province")[1:]]
    assert sorted(codes) == sorted(s.code for c in ("KH", "MM") for s in pycountry.subdivisions.get(country_code=c))
    groups = re.findall(r'<optgroup label="([^"]+)">', page)
    assert groups == [answers.country_name("KH", lang), answers.country_name("MM", lang)]
    assert page.index(f'label="{groups[0]}"') < page.index('value="KH-12"') < page.index(f'label="{groups[1]}"')
    assert page.index(f'label="{groups[1]}"') < page.index('value="MM-06"')
    names = dict(select(page, "province"))
    assert names["KH-12"] == {"en": "Phnom Penh", "km": "ភ្នំពេញ", "my": "ဖနွမ်းပင်မြို့"}[lang]
    assert names["MM-06"] == {"en": "Yangon", "km": "តំបន់យ៉ាំងហ្គូន", "my": "ရန်ကုန်တိုင်း"}[lang]
    assert len(set(names.values())) == len(names)
    months = select(page, "occurred_month")
    assert [v for v, _ in months] == ["", *answers.MONTHS]
    assert months[3][1] == {"en": "March", "km": "មីនា", "my": "မတ်"}[lang]
    year = today().year
    offered = select(page, "occurred_year")
    assert [v for v, _ in offered] == ["", *(str(y) for y in range(year, year - 11, -1))]
    word = {"en": "BE", "km": "ព.ស.", "my": "သာသနာ"}[lang]
    assert offered[1][1] == f"{year} ({word} {year + 543})"


@pytest.mark.parametrize("lang", ["en", "km", "my"])
def test_chosen_answers_are_sealed_and_unchosen_left_out(client, site, lang):
    """The reviewer opens exactly the chosen answers and the page's language; an answer not chosen is not there."""
    year = str(today().year - 1)
    r = post(client, form(csrf_token(client), occurred_month="03", occurred_year=year, province="MM-04"),
             f"/report?lang={lang}")
    assert r.status_code == 200
    ref = r.get_data(as_text=True).split('id="receipt">', 1)[1].split("<", 1)[0]
    fields, _, _ = open_stored(site.engine, ref, site.identities[:1])
    assert {k: fields[k] for k in ("occurred_month", "occurred_year", "province", "lang")} == {
        "occurred_month": "03", "occurred_year": year, "province": "MM-04", "lang": lang}
    r = post(client, form(csrf_token(client), lang="xx"), f"/report?lang={lang}")
    ref = r.get_data(as_text=True).split('id="receipt">', 1)[1].split("<", 1)[0]
    fields, _, _ = open_stored(site.engine, ref, site.identities[:1])
    assert set(fields) == {"incident_type", "occurred", "location", "description", "device", "lang"}
    assert fields["lang"] == lang  # the page's language, never a posted one


@pytest.mark.parametrize("lang", ["en", "km", "my"])
def test_unchosen_type_is_refused_with_the_form_again(client, site, lang):
    """"Choose one" left as it is: the form again, saying so in the page's language, the text kept, nothing stored."""
    r = post(client, form(csrf_token(client), incident_type="", location="Sagaing"), f"/report?lang={lang}")
    assert r.status_code == 400
    page = r.get_data(as_text=True)
    assert html.escape(translated(lang, "Choose what happened."), quote=False) in page
    assert 'id="report-form"' in page
    assert 'value="Sagaing"' in page
    assert rows(site.engine) == EMPTY


LONG = "K" * 5000


@pytest.mark.parametrize(("changes", "message"), [
    ({"province": "XX-99"}, "Choose the province, state or region from the list"),
    ({"province": "KH-99"}, "Choose the province, state or region from the list"),
    ({"province": "kh-12"}, "Choose the province, state or region from the list"),
    ({"province": "TH-10"}, "Choose the province, state or region from the list"),
    ({"province": "KH-12" + LONG}, "Choose the province, state or region from the list"),
    ({"occurred_year": "1e9"}, "Choose the year from the list"),
    ({"occurred_year": str(today().year + 1)}, "Choose the year from the list"),
    ({"occurred_year": str(today().year - 11)}, "Choose the year from the list"),
    ({"occurred_year": f" {today().year}"}, "Choose the year from the list"),
    ({"occurred_year": LONG}, "Choose the year from the list"),
    ({"occurred_month": "13"}, "Choose the month from the list"),
    ({"occurred_month": "3"}, "Choose the month from the list"),
    ({"occurred_month": "00"}, "Choose the month from the list"),
    ({"occurred_month": LONG}, "Choose the month from the list"),
    ({"incident_type": LONG}, "Choose what happened from the list"),
    ({"occurred": LONG}, "at most 40 characters"),
    ({"location": LONG}, "at most 200 characters"),
], ids=["unknown code", "unknown KH", "lower case", "other country", "long code", "1e9", "next year", "too old",
        "space", "long year", "month 13", "month 3", "month 00", "long month", "long type", "long when", "long where"])
def test_hostile_answers_refused_storing_nothing(client, site, changes, message):
    """A value no picker offers (sent by hand, with a photo that is sealed as it arrives): a 400 form naming the
    field, no 500, and not a row left behind."""
    r = post(client, form(csrf_token(client), **changes))
    assert r.status_code == 400
    assert message in r.get_data(as_text=True)
    assert rows(site.engine) == EMPTY


def reread(client, codename: str, lang: str = "en") -> tuple[str, dict[str, str]]:
    """The reporter's own report as POST /check shows it without JavaScript: the page, and each label's value."""
    page = client.get(f"/check?lang={lang}").get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    page = client.post(f"/check?lang={lang}", data={"csrf_token": token, "codename": codename}).get_data(as_text=True)
    shown = page.split('id="report-fields">', 1)[1].split("</dl>", 1)[0]
    return page, {html.unescape(a): html.unescape(b) for a, b in
                  re.findall(r'<dt>([^<]*)</dt><dd class="text-report">([^<]*)</dd>', shown)}


@pytest.mark.parametrize("lang", ["en", "km", "my"])
def test_reporter_rereads_answers_by_name(client, lang):
    """Without JavaScript, the codename shows the province by name, the month by name and the year with its
    Buddhist-era year, in the page's language."""
    year = today().year
    r = post(client, form(csrf_token(client), occurred_month="12", occurred_year=str(year), province="KH-17"),
             f"/report?lang={lang}")
    codename = re.search(r'id="codename">([^<]+)<', r.get_data(as_text=True)).group(1)
    _, shown = reread(client, codename, lang)
    assert shown[translated(lang, "Province, state or region")] == {"en": "Siem Reab", "km": "សៀមរាប",
                                                                     "my": "ဆီအမ်ရိပ်"}[lang]
    assert shown[translated(lang, "Month")] == {"en": "December", "km": "ធ្នូ", "my": "ဒီဇင်ဘာ"}[lang]
    assert shown[translated(lang, "Year")] == translated(lang, "%(year)s (BE %(be)s)") % {"year": year,
                                                                                          "be": year + 543}
    assert shown[translated(lang, "Language")] == {"en": "English", "km": "ខ្មែរ", "my": "မြန်မာ"}[lang]


HOSTILE = {"incident_type": "drone", "description": "x", "province": "<b>KH-12</b>", "occurred_month": "13",
           "occurred_year": "1e9", "lang": "<i>km</i>", "occurred": "KH-12"}


def test_reporter_rereads_hostile_answers_as_written(client, site):
    """A browser may seal anything: values the pickers never offer are shown as written, escaped, not looked up."""
    codename = make_codename()
    keys = derive_keys(codename, salt(site.engine))
    assert report_with_lookup(client, site, keys.lookup, keys.identity.recipient, HOSTILE)[0] == 201
    page, shown = reread(client, codename)
    assert "<b>KH-12" not in page
    assert "<i>km" not in page
    assert shown["Province, state or region"] == "<b>KH-12</b>"
    assert shown["Month"] == "13"
    assert shown["Year"] == "1e9"
    assert shown["Language"] == "<i>km</i>"
    assert shown["Day or time, in your own words"] == "KH-12"  # free text is never read as a code
