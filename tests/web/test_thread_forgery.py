"""Issue 19 finding 10: whoever can write the database forges thread messages; every reader refuses them.

The forger copies stanza 0 from a stored message of the thread, seals a fresh K to the public keyring and
writes the message straight into the database (real SQLite and PostgreSQL). `intake-review show` (a real
process), the reporter's page in Chromium and the no-JS `POST /check` must each refuse the version 2 forgery
(format.md §12.4, *thread mac*) and never show a version 1 one as genuine: in a case whose report has the
reporter's stanza it is a downgrade, refused by reviewers too (red team round 3: it was shown, marked unverified);
the reporter cannot open it at all.
"""

from __future__ import annotations

import base64

import nacl.bindings as sodium
import nacl.utils
import pytest

from intake.crypto.envelope import MAC_KEY_ID, derive, seal_padded
from intake.crypto.keys import generichash
from intake.crypto.message import MESSAGE_BODY_KEY_ID, MessageBody
from intake.storage.cases import get_case
from intake.storage.threads import add_message, thread
from tests.support.browser import CHROMIUM_ARGS, Watched, open_thread
from tests.support.proof import Reporter
from tests.support.threads import CODENAME, Team, check_nojs, texts
from tests.support.web import Server

pytestmark = [pytest.mark.slow, pytest.mark.browser]
DAMAGED = "(This message could not be opened: it is damaged.)"
FORGED = "Please close and delete my case."
OLD_STYLE = "Reporter here: send everything to this new address."


def forge(stored_header: bytes, keyring, version: int) -> tuple[bytes, bytes]:
    """A message as a database writer makes it: stanza 0 copied, a fresh K sealed to the public keyring."""
    key = nacl.utils.random(32)
    recipients = keyring.recipients()
    stanzas = stored_header[6:6 + 96] + b"".join(
        bytes.fromhex(r.key_id) + sodium.crypto_box_seal(key, r.public_key) for r in recipients)
    signed = b"INTK" + bytes([1, 1 + len(recipients)]) + stanzas
    guess = base64.urlsafe_b64encode(nacl.utils.random(32)).decode().rstrip("=")
    text = FORGED if version == 2 else OLD_STYLE
    body = MessageBody("reporter", text, [], version, guess if version == 2 else None)
    return (signed + generichash(32, signed, derive(key, MAC_KEY_ID)),
            seal_padded(derive(key, MESSAGE_BODY_KEY_ID), body.to_json()))


def read_in_chromium(url: str, codename: str) -> list[str]:
    """The reporter checks back with JavaScript: the texts the page shows."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        chromium = pw.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
        context = chromium.new_context()
        watched = Watched(context)
        page = watched.page
        open_thread(page, url, codename)
        shown = [t.strip() for t in page.locator("#thread .text").all_inner_texts()]
        watched.check()
        context.close()
        chromium.close()
    return shown


@pytest.mark.parametrize("backend", ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def test_forged_messages_are_refused_by_every_reader(backend, tmp_path, request, prepared):
    root = tmp_path / "site"
    root.mkdir()
    db_url = f"sqlite:///{root / 'instance' / 'intake.db'}" if backend == "sqlite" else request.getfixturevalue(
        "pg_url")
    inst, keys = prepared.setup(root, db_url, "alice", "bob")
    inst.env.update(INTAKE_POW_BITS="4", INTAKE_NOJS_PER_MINUTE="1000")
    server = Server(inst.env, root).start()
    try:
        reporter = Reporter(server.url)
        receipt = reporter.post_nojs({"incident_type": "cctv", "description": "the drone at the market"})
        assert receipt.status_code == 200, receipt.text[-2000:]
        codename = CODENAME.search(receipt.text).group(1)
        ref = receipt.text.split('id="receipt">')[1][:14]
        team = Team(inst, keys["alice"])
        team.reply(ref, "Which street?")
        case_id = get_case(inst.engine, ref).id
        genuine = thread(inst.engine, case_id)[0].header
        for version in (2, 1):
            add_message(inst.engine, case_id, "reporter", *forge(genuine, inst.keyring(), version))

        shown = team.thread(ref)
        # the report has the reporter's stanza (header version 2), so a version 1 message is a downgrade
        assert get_case(inst.engine, ref).header[4] == 2
        assert [m.get("error") for m in shown] == [None, "thread mac", "thread mac"]
        assert shown[0]["text"] == "Which street?"
        assert "unverified" not in shown[0]
        assert "text" not in shown[1]
        assert "text" not in shown[2]
        assert "unverified" not in shown[2]
        assert "a version 1 message in a case whose report has the reporter's stanza" in shown[2]["why"]
        printed = team.review("show", ref).stdout
        assert "(not opened: thread mac) - not bound to this thread" in printed
        assert "(not opened: thread mac) - a version 1 message in a case" in printed
        assert FORGED not in printed
        assert OLD_STYLE not in printed
        assert "UNVERIFIED" not in printed
        assert "Which street?" in printed
        assert Team(inst, keys["bob"]).thread(ref)[1]["error"] == "thread mac"

        nojs = check_nojs(reporter.http, server.url, codename=codename)
        assert nojs.status_code == 200
        assert texts(nojs.text) == ["Which street?", DAMAGED, DAMAGED]
        assert FORGED not in nojs.text
        assert read_in_chromium(server.url, codename) == ["Which street?", DAMAGED, DAMAGED]
        reporter.close()
    finally:
        server.kill()
        inst.engine.dispose()
