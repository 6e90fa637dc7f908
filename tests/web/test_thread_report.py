"""Issue 20 item 13: the codename opens the reporter's own report again (format.md §4.1, docs/web.md).

Against a live server: what the server checks of the reporter's stanza (one extra stanza, first, only with a
lookup, never a reviewer's key, never a second one), and the reporter rereading the report in Chromium and
without JavaScript; a report sent before the stanza existed says it cannot be shown.
"""

from __future__ import annotations

import nacl.bindings as sodium
import pytest
import requests

from intake.crypto.codename import derive_keys, make_codename
from intake.crypto.envelope import MAC_KEY_ID, derive, parse_header
from intake.crypto.keys import Identity, generichash
from intake.crypto.message import seal_message
from intake.crypto.report import SealedReport, open_report, seal_report
from intake.storage.cases import count_by_key, get_case
from intake.storage.threads import salt
from tests.support.browser import Watched, open_thread
from tests.support.proof import Reporter
from tests.support.threads import CODENAME, check_nojs
from tests.support.web import b64, solve

pytestmark = [pytest.mark.slow, pytest.mark.browser]
OLD = "Your report cannot be shown here: it was sent before reports could be opened again with the codename."


def _stanza(key: bytes, recipient) -> bytes:
    return bytes.fromhex(recipient.key_id) + sodium.crypto_box_seal(key, recipient.public_key)


def _report(version: int, key: bytes, first: list, reviewers: list, body: bytes) -> SealedReport:
    """A report with exactly these stanzas (`first` before the reviewers') and a valid MAC: its sender holds K."""
    stanzas = [_stanza(key, r) for r in [*first, *reviewers]]
    signed = b"INTK" + bytes([version, len(stanzas)]) + b"".join(stanzas)
    return SealedReport(signed + generichash(32, signed, derive(key, MAC_KEY_ID)), body, ())


def test_server_checks_the_reporter_stanza(live):
    site, server = live
    reporter = Reporter(server.url)
    team = reporter.recipients
    keys = derive_keys(make_codename(), salt(site.engine))
    honest = seal_report(team, {"description": "honest"}, reply_key=str(keys.identity.recipient))
    key = open_report(honest.header, honest.body, 0, [site.identities[0]]).opened.report_key
    stranger = Identity.generate().recipient

    def refused(report: SealedReport, lookup: bytes | None, needle: str) -> None:
        answer = reporter.begin(report, **({"lookup": b64(lookup)} if lookup else {}))
        assert answer.status_code == 400, answer.text
        assert needle in answer.json()["error"], answer.text

    me = keys.identity.recipient
    refused(honest, None, "needs the codename's `lookup`")
    refused(_report(2, key, [me, stranger], team, honest.body), keys.lookup, "")  # a second reporter's stanza
    refused(_report(2, key, [team[0]], team, honest.body), keys.lookup, "same key id")  # a reviewer's key id
    refused(_report(2, key, [team[0], me], team[1:], honest.body), keys.lookup, "")  # the reporter's not first
    refused(_report(2, key, [me], team[1:], honest.body), keys.lookup, "")  # a reviewer left out
    refused(_report(1, key, [me], team, honest.body), keys.lookup, "")  # version 1: every stanza a reviewer's
    answer = reporter.begin(honest, lookup=b64(keys.lookup))
    assert answer.status_code == 201, answer.text
    case = get_case(site.engine, answer.json()["ref"])
    assert parse_header(case.header).reporter == me.key_id
    assert me.key_id not in count_by_key(site.engine)
    assert open_report(case.header, case.body, 0, [keys.identity]).body.fields == {"description": "honest"}
    answers = []
    for reply in (stranger, me):  # a follow-up's stanza 0 must be the report's reporter's stanza's key id
        sealed = seal_message(team, reply, "reporter", "more")
        work = reporter.http.get(server.url + "/api/v1/challenge", timeout=60).json()
        answers.append(reporter.http.post(
            server.url + "/api/v1/thread/messages", headers={"X-CSRFToken": reporter.token}, timeout=60,
            json={"token": b64(keys.token), "header": b64(sealed.header), "body": b64(sealed.body),
                  "pow_challenge": work["challenge"], "pow_nonce": solve(work["challenge"], work["bits"])}))
    assert [a.status_code for a in answers] == [409, 201], answers[0].text
    assert "was sent by someone else" in answers[0].json()["error"]
    reporter.close()


def _read_in_page(browser, url: str, codename: str) -> dict[str, object]:
    """Check back with JavaScript: the report's fields, files and note as the page shows them."""
    context = browser.new_context()
    watched = Watched(context)
    page = watched.page
    open_thread(page, url, codename)
    shown = {"fields": page.locator("#report-fields").inner_text(), "files": page.locator("#report-files li")
             .all_inner_texts(), "note": page.inner_text("#report-note") if page.is_visible("#report-note") else ""}
    watched.check()
    context.close()
    return shown


def _send_in_page(browser, url: str, description: str) -> str:
    """Send a report with JavaScript; the codename the receipt shows."""
    from tests.support.browser import wait_receipt

    context = browser.new_context()
    page = context.new_page()
    page.goto(url + "/")
    page.wait_for_selector("html[data-sealing=ready]")
    page.select_option("#incident_type", "drone")
    page.fill("#description", description)
    page.click("button[type=submit]")
    wait_receipt(page)
    codename = page.inner_text("#codename")
    context.close()
    return codename


def test_reporter_rereads_the_report(browser, live):
    site, server = live
    reporter = Reporter(server.url)
    sealed_here = _send_in_page(browser, server.url, "sealed in the page")
    with_js = _read_in_page(browser, server.url, sealed_here)
    assert "What did you see?" in with_js["fields"]
    assert "sealed in the page" in with_js["fields"]
    assert "A drone recorded me or people near me" in with_js["fields"]
    assert with_js["files"] == []
    assert with_js["note"] == ""

    receipt = reporter.post_nojs({"incident_type": "cctv", "description": "sealed by the server"},
                                 [("notes.txt", "text/plain", b"n" * 2500)])
    assert receipt.status_code == 200, receipt.text[-2000:]
    codename = CODENAME.search(receipt.text).group(1)
    page = check_nojs(requests.Session(), server.url, codename=codename)
    assert page.status_code == 200
    assert "sealed by the server" in page.text
    assert "<dt>What did you see?</dt>" in page.text
    assert "<li>notes.txt (2 KB)</li>" in page.text
    assert "/report/" not in page.text.split('id="your-report"')[1]  # a name and a size: never a link to the file
    assert _read_in_page(browser, server.url, codename)["files"] == ["notes.txt (2 KB)"]

    typed = make_codename()
    old = derive_keys(typed, salt(site.engine))
    before = seal_report(reporter.recipients, {"description": "written long ago"},
                         reply_key=str(old.identity.recipient), reporter_stanza=False)
    assert reporter.begin(before, lookup=b64(old.lookup)).status_code == 201
    page = check_nojs(requests.Session(), server.url, codename=typed)
    assert page.status_code == 200
    assert OLD in page.text
    assert "written long ago" not in page.text
    assert _read_in_page(browser, server.url, typed)["note"].startswith(OLD)
    reporter.close()
