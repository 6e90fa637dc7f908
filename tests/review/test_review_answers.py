"""`intake-review show` reads the form's structured answers (issue 21 item 1): province by name, month by name,
year with its Buddhist-era year; hostile values escaped and marked; reports from before them open as they did."""

from __future__ import annotations

import pytest

from tests.support.reviewkit import Reviewer, store, store_vector

pytestmark = pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
ANSWERS = {"incident_type": "cctv", "description": "cameras on the bridge", "location": "Hlaing",
           "occurred_month": "03", "occurred_year": "2025", "province": "MM-06", "lang": "my"}
HOSTILE = {"incident_type": "drone", "description": "x", "province": "KH-12\x1b[2J\u202e", "occurred_month": "13",
           "occurred_year": "1" * 5000, "lang": "\x1b]0;pwned\x07"}


def test_show_reads_answers(engine, db_url, tmp_path):
    """Each answer printed with what it means; `--json` keeps the sealed values exactly."""
    alice = Reviewer.make(tmp_path / "alice")
    ref = store(engine, [alice.recipient], fields=ANSWERS)
    where = ("--db", db_url)
    out = alice.run("show", ref, where=where).stdout
    assert "  province: MM-06 (Yangon, Myanmar)" in out
    assert "  occurred_month: 03 (March)" in out
    assert "  occurred_year: 2025 (BE 2568)" in out
    assert "  lang: my (Burmese)" in out
    assert "  location: Hlaing\n" in out
    assert alice.json("show", ref, where=where)["fields"] == ANSWERS


def test_show_marks_hostile_answers_and_escapes_them(engine, db_url, tmp_path):
    """Values no picker offers are printed as written, escaped, and said not to be the form's; nothing is looked up
    from them."""
    alice = Reviewer.make(tmp_path / "alice")
    ref = store(engine, [alice.recipient], fields=HOSTILE)
    result = alice.run("show", ref, where=("--db", db_url))
    out = result.stdout
    assert "\x1b" not in out + result.stderr
    assert "\u202e" not in out
    assert "Phnom Penh" not in out
    assert "(not a province code of the form)" in out
    assert "  occurred_month: 13 (not a month of the form)" in out
    assert "(not a year of the form)" in out
    assert "(not a language of the form)" in out
    assert "BE " not in out


def test_reports_from_before_the_answers_still_open(engine, db_url, tmp_path):
    """A report sealed before the answers existed (vector 01, and a stored one without them) shows as before."""
    ref, identity, body = store_vector(engine, "01-success-one-recipient.vec")
    alice = Reviewer.make(tmp_path / "alice", identity=identity)
    older = store(engine, [alice.recipient], fields={"incident_type": "drone", "description": "before"})
    where = ("--db", db_url)
    for case, fields in ((ref, body["fields"]), (older, {"incident_type": "drone", "description": "before"})):
        shown = alice.json("show", case, where=where)
        assert shown["fields"] == fields
        out = alice.run("show", case, where=where).stdout
        assert "province" not in out
        assert "not a" not in out
