"""Every page in Khmer and Burmese: chosen by Accept-Language or `?lang=`, no cookie, nothing left in English."""

from __future__ import annotations

import html
import io
import re

import pytest
from werkzeug.datastructures import FileStorage, MultiDict
from werkzeug.test import encode_multipart

from tests.support.catalogs import catalog
from tests.support.web import csrf_token

pytestmark = pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
LANGS = ("km", "my")


def visible(page: str) -> str:
    """The page's text and attribute values, unescaped, without the Zawgyi offer (always in Burmese)."""
    page = re.sub(r'<div id="zawgyi-texts"[^>]*>', "", page)
    return html.unescape(page)


def assert_in(page: str, lang: str) -> None:
    """`<html lang>` matches, no English message is left, and some of the language's messages are there."""
    assert f'<html lang="{lang}"' in page
    text = visible(page)
    left = [english for english in catalog(lang) if len(english) > 12 and english in text]
    assert left == []
    assert sum(translated in text for translated in catalog(lang).values()) >= 3


def post(client, lang_query: str, headers: dict[str, str], **fields: object):
    """POST /report (no JavaScript) with `fields`, a CSRF token and no file."""
    values = MultiDict({"csrf_token": csrf_token(client), "incident_type": "drone", "description": "",
                        "website": "", **fields})
    values.add("attachments", FileStorage(io.BytesIO(b""), "", content_type="application/octet-stream"))
    boundary, body = encode_multipart(values)
    return client.post("/report" + lang_query, data=body, headers=headers,
                       content_type=f"multipart/form-data; boundary={boundary}")


@pytest.mark.parametrize("lang", LANGS)
@pytest.mark.parametrize("how", ["header", "query"])
def test_every_page_in_the_language(client, lang, how):
    """The form, a 404, a refused post (form with errors), the receipt and an API error, all in `lang`."""
    headers = {"Accept-Language": f"{lang},en;q=0.5"} if how == "header" else {"Accept-Language": "en"}
    query = "" if how == "header" else f"?lang={lang}"
    form = client.get("/" + query, headers=headers)
    assert form.status_code == 200
    assert_in(form.get_data(as_text=True), lang)
    missing = client.get("/nothing-here" + query, headers=headers)
    assert missing.status_code == 404
    assert_in(missing.get_data(as_text=True), lang)
    refused = post(client, query, headers, description="")
    assert refused.status_code == 400
    assert_in(refused.get_data(as_text=True), lang)
    assert catalog(lang)["Describe what happened: this field is needed."] in refused.get_data(as_text=True)
    receipt = post(client, query, headers, description="cameras at the market")
    assert receipt.status_code == 200
    assert_in(receipt.get_data(as_text=True), lang)
    api = client.post("/api/v1/reports" + query, data="not json", content_type="application/json",
                      headers={**headers, "X-CSRFToken": csrf_token(client)})
    assert api.status_code == 400
    assert api.get_json()["error"] == catalog(lang)["send the sealed report as a JSON object (docs/openapi.yaml)"]


@pytest.mark.parametrize("lang", LANGS)
def test_lang_kept_in_links_and_forms(client, lang):
    """`?lang=` beats Accept-Language, stays in the form's action and links, and is remembered nowhere."""
    page = client.get(f"/?lang={lang}", headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert f'action="/report?lang={lang}"' in page
    for other in {"en", "km", "my"} - {lang}:
        assert f'href="/?lang={other}"' in page
    for code, name in (("en", "English"), ("km", "ខ្មែរ"), ("my", "မြန်မာ")):
        assert f'lang="{code}"' in page
        assert name in page
    error = client.get(f"/nothing?lang={lang}").get_data(as_text=True)
    assert f'href="/?lang={lang}"' in error
    assert '<html lang="en"' in client.get("/", headers={"Accept-Language": "en"}).get_data(as_text=True)
    english = client.get("/?lang=en", headers={"Accept-Language": lang}).get_data(as_text=True)
    assert '<html lang="en"' in english
    assert "Stay safe" in english


def test_language_links_set_no_cookie(client):
    """Choosing a language sets no cookie: the only cookie is the CSRF one the form always had."""
    response = client.get("/?lang=my")
    cookies = response.headers.getlist("Set-Cookie")
    assert all(c.startswith("csrf=") for c in cookies)
    assert not any("my" in c.split(";")[0].split("=", 1)[1] and "lang" in c for c in cookies)
    assert '<html lang="en"' in client.get("/").get_data(as_text=True)


def test_unknown_lang_falls_back(client):
    """`?lang=` with a language we do not have is ignored, and is not echoed into links."""
    page = client.get("/?lang=nolanguage%22%3E", headers={"Accept-Language": "my"}).get_data(as_text=True)
    assert '<html lang="my"' in page
    assert "nolanguage" not in page.split("<main>")[0]  # "xx" was here once: a random nonce can hold two letters
    assert 'action="/report"' in page


def test_burmese_zawgyi_offer_on_every_form(client):
    """The JavaScript's Zawgyi offer is in Burmese whatever the page's language."""
    page = html.unescape(client.get("/?lang=km").get_data(as_text=True))
    my = catalog("my")
    assert my["Change it to Unicode"] in page
    assert my["Send it as it is"] in page


ALLOWED_LATIN = {"English", "Tor", "Browser", "JavaScript", "JPEG", "PNG", "CCTV", "Unicode", "Zawgyi", "MiB",
                 "ProofMode"}  # names


@pytest.mark.parametrize("lang", LANGS)
def test_no_english_words_between_tags(client, lang):
    """Beyond the catalog check: text between the tags has no Latin word but names (a hard-coded string shows)."""
    for path in ("/", "/nowhere"):
        page = client.get(f"{path}?lang={lang}").get_data(as_text=True)
        page = re.sub(r'<code id="fingerprint">.*?</code>', "", page)
        page = re.sub(r'<a id="check-address"[^>]*>[^<]*</a>', "", page)  # an address, not words
        text = html.unescape(re.sub(r"<[^>]+>", " ", page))
        assert set(re.findall(r"[A-Za-z]{3,}", text)) - ALLOWED_LATIN == set(), path


@pytest.mark.parametrize(("header", "lang"), [("km-KH", "km"), ("my-MM,en;q=0.5", "my"), ("fr, my;q=0.8", "my"),
                                              ("th, fr", "en"), ("", "en"), ("km;q=0, en", "en"), ("MY_mm", "my")])
def test_accept_language_regions(client, header, lang):
    """A phone's regional tag picks its language; a language we lack falls back to English."""
    page = client.get("/", headers={"Accept-Language": header}).get_data(as_text=True)
    assert f'<html lang="{lang}"' in page
