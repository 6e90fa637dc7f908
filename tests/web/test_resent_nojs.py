"""A no-JS page posted again (a reload, a browser restoring its tabs) stores nothing more: its form token is spent
with what it sent, so the second post, sequential or parallel, gets a 409 that shows no codename."""

from __future__ import annotations

import re
from concurrent.futures import ThreadPoolExecutor

import requests
from sqlalchemy import func, select

from intake.storage.schema import cases, messages
from tests.support.threads import CODENAME, SEALED, check_nojs, form_token, texts

ANY_CODENAME = re.compile(r"\d{5}[ -]\d{5}[ -]\d{5}[ -]\d{5}[ -]\d{5}")
REPORT = {"incident_type": "cctv", "occurred": "2026-03", "location": "Mandalay", "description": "cameras",
          "device": "", "website": ""}
PHOTO = ("attachments", ("street.jpg", b"\xff\xd8" + b"x" * 200000 + b"\xff\xd9", "image/jpeg"))


def _count(site, table) -> int:
    with site.engine.connect() as conn:
        return conn.execute(select(func.count()).select_from(table).where(
            cases.c.complete.is_(True)) if table is cases else select(func.count()).select_from(table)).scalar_one()


def _report(url: str, token: str, lang: str = "en") -> requests.Response:
    """POST the no-JS report form as a browser does (token and honeypot first, then fields, then a file)."""
    data = [("csrf_token", token), *REPORT.items()]
    return requests.post(url + "/report", data=data, files=[PHOTO], headers={"Accept-Language": lang}, timeout=120)


def _refused(response: requests.Response, *codenames: str) -> str:
    page = response.text
    assert response.status_code == 409, page
    assert ANY_CODENAME.search(page) is None
    assert all(c not in page for c in codenames)
    return page


def test_report_posted_again_is_stored_once(live):
    """The same report page posted twice in a row, then twice at once: one case each time, the other a 409."""
    site, server = live
    token = form_token(requests.get(server.url + "/", timeout=60).text)
    first = _report(server.url, token)
    assert first.status_code == 200
    codename = CODENAME.search(first.text).group(1)
    assert _count(site, cases) == 1
    page = _refused(_report(server.url, token), codename)
    assert "already received from this page" in page
    assert _count(site, cases) == 1

    token = form_token(requests.get(server.url + "/", timeout=60).text)
    with ThreadPoolExecutor(2) as pool:
        answers = list(pool.map(lambda _: _report(server.url, token), range(2)))
    assert sorted(a.status_code for a in answers) == [200, 409]
    _refused(next(a for a in answers if a.status_code == 409), codename)
    assert _count(site, cases) == 2


def test_report_posted_again_is_told_in_khmer_and_burmese(live):
    """The refusal is translated."""
    _site, server = live
    for lang in ("km", "my"):
        token = form_token(requests.get(server.url + "/", headers={"Accept-Language": lang}, timeout=60).text)
        assert _report(server.url, token, lang).status_code == 200
        page = _refused(_report(server.url, token, lang))
        assert "already received from this page" not in page
        assert f'lang="{lang}"' in page


def test_follow_up_posted_again_is_stored_once(live):
    """A thread page's follow-up posted twice in a row, then twice at once (text, then with a file): stored once."""
    site, server = live
    token = form_token(requests.get(server.url + "/", timeout=60).text)
    codename = CODENAME.search(_report(server.url, token).text).group(1)
    http = requests.Session()
    page = check_nojs(http, server.url, codename=codename).text
    before = _count(site, messages)
    base = {"csrf_token": form_token(page), "sealed": SEALED.search(page).group(1), "message": "first note"}
    assert http.post(server.url + "/check", data=base, timeout=120).status_code == 200
    assert "already sent from this page" in _refused(http.post(server.url + "/check", data=base, timeout=120),
                                                      codename)
    assert _count(site, messages) == before + 1

    for files in ((), [PHOTO]):
        page = check_nojs(http, server.url, codename=codename).text
        data = {**base, "csrf_token": form_token(page), "message": f"note {len(files)}"}
        with ThreadPoolExecutor(2) as pool:
            answers = list(pool.map(lambda _, d=data, f=files: requests.post(
                server.url + "/check", data=d, files=f or None, timeout=120), range(2)))
        assert sorted(a.status_code for a in answers) == [200, 409]
        _refused(next(a for a in answers if a.status_code == 409), codename)
    assert _count(site, messages) == before + 3
    assert texts(check_nojs(http, server.url, codename=codename).text)[-3:] == ["first note", "note 0", "note 1"]
