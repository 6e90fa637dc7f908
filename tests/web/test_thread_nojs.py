"""Two-way without JavaScript, on a real server: codename on the receipt, a reply with the real CLI, checking back."""

from __future__ import annotations

import pytest
import requests

from tests.support.canary import hits, new_canary, temp_entries
from tests.support.proof import Reporter
from tests.support.threads import CODENAME, GROUP, SEALED, STATUS, Team, check_nojs, form_token, texts
from tests.support.web import Server

pytestmark = pytest.mark.slow


@pytest.mark.parametrize("backend", ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def test_nojs_thread_round_trip(backend, tmp_path, request, prepared):
    before = temp_entries()
    root = tmp_path / "site"
    root.mkdir()
    db_url = f"sqlite:///{root / 'instance' / 'intake.db'}" if backend == "sqlite" else request.getfixturevalue(
        "pg_url")
    inst, keys = prepared.setup(root, db_url, "alice", "bob")
    inst.env.update(INTAKE_POW_BITS="4", INTAKE_NOJS_PER_MINUTE="1000")
    reply, answer, description = new_canary("reply"), new_canary("answer"), new_canary("desc")
    server = Server(inst.env, root).start()
    try:
        reporter = Reporter(server.url)
        receipt = reporter.post_nojs({"incident_type": "cctv", "description": description})
        assert receipt.status_code == 200, receipt.text[-2000:]
        codename = CODENAME.search(receipt.text).group(1)
        ref = receipt.text.split('id="receipt">')[1][:14]
        groups = codename.split()
        assert len(groups) == 5
        assert all(len(g) == 5 for g in groups)
        assert codename.replace(" ", "") not in str(receipt.headers).replace(" ", "")

        fresh = requests.Session()
        sealed, group = SEALED.search(receipt.text).group(1), int(GROUP.search(receipt.text).group(1))
        token = form_token(receipt.text)
        wrong = "00000" if groups[group - 1] != "00000" else "11111"
        again = fresh.post(server.url + "/receipt/confirm",
                           data={"csrf_token": token, "sealed": sealed, "typed": wrong}, timeout=60)
        assert again.status_code == 400
        assert f"does not match group {group}" in again.text
        assert CODENAME.search(again.text) is None  # issue 19.2: no endpoint sends the codename back
        assert not any(g in again.text for g in groups)
        khmer = "".join("០១២៣៤៥៦៧៨៩"[int(d)] for d in groups[group - 1])
        ok = fresh.post(server.url + "/receipt/confirm", data={"csrf_token": token, "sealed": sealed, "typed": khmer},
                        timeout=60)
        assert ok.status_code == 200
        assert "copied your codename correctly" in ok.text
        forged = fresh.post(server.url + "/receipt/confirm", data={"csrf_token": token, "sealed": sealed[:-4] + "AAAA",
                                                                   "typed": "1"},
                            timeout=60)
        assert forged.status_code == 400

        team = Team(inst, keys["alice"])
        first = check_nojs(fresh, server.url, codename=codename)
        assert first.status_code == 200
        assert texts(first.text) == []
        assert STATUS.search(first.text).group(1).startswith("Your report: Received")
        team.reply(ref, reply)
        team.review("status", ref, "in review")
        dashed = "-".join(groups)
        shown = check_nojs(fresh, server.url, codename=dashed)
        assert texts(shown.text) == [reply]
        assert "Being reviewed" in STATUS.search(shown.text).group(1)
        sent = check_nojs(fresh, server.url, sealed=SEALED.search(shown.text).group(1), message=answer)
        assert sent.status_code == 200
        assert texts(sent.text) == [reply, answer]
        assert team.unread() == {ref: True}
        thread = team.thread(ref)
        assert [(m["from"], m["text"]) for m in thread] == [("reviewer", reply), ("reporter", answer)]
        assert team.unread() == {ref: False}
        bob = Team(inst, keys["bob"]).thread(ref)
        assert [m["text"] for m in bob] == [reply, answer]

        nobody = check_nojs(fresh, server.url, codename="12345 67890 12345 67890 12345")
        malformed = check_nojs(fresh, server.url, codename="my name is " + codename)
        assert nobody.status_code == 404
        assert "No report was found for this codename" in nobody.text
        assert malformed.status_code == 400
        assert "25 digits in 5 groups" in malformed.text
        reporter.close()
        fresh.close()
    finally:
        server.kill()
    inst.engine.dispose()
    canaries = [codename.replace(" ", ""), codename, reply, answer, description]
    logs = {name: path.read_bytes() for name, path in ((p.name, p) for p in server.logs)}
    assert hits([root, *sorted(temp_entries() - before)], canaries, {**team.outputs, **logs}) == []
