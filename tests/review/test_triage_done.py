"""Issue 21's done-when for triage: 60 reports in through the API (as the page's JavaScript sends them) and the
no-JS form, in km, my and en, with provinces, months and Zawgyi text, some tagged; `list` with each filter and
`--search` gives exactly the expected cases from the database and from a bundle; the CSV reads back inert; tags,
a status and a note set on the bundle reach the server's database through the signed replies file."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import re
from dataclasses import dataclass, field

import openpyxl
import pytest
from sqlalchemy import update

from intake.clock import today
from intake.crypto.codename import derive_keys, make_codename
from intake.crypto.message import seal_message
from intake.crypto.report import seal_report
from intake.storage.cases import get_case
from intake.storage.schema import cases
from intake.storage.threads import add_message, salt
from tests.support.nojs import post
from tests.support.photos import plain_jpeg
from tests.support.reviewkit import Reviewer
from tests.support.web import b64, csrf_token, make_site, solve

pytestmark = pytest.mark.slow
KHMER_DRONE = "ដ្រូន"
DRONE_MY = "ဒရုန်း"  # Unicode
ZAWGYI = "ကၽြန္ေတာ္ ဒီေန႔ ေစ်းမွာ ဒ႐ုန္း ျမင္တယ္"  # "I saw a drone at the market today", in Zawgyi
PROVINCES = ("KH-12", "KH-17", "MM-06", "MM-04", None)
TYPES = ("drone", "cctv", "face_recognition", "phone_online", "other")


@dataclass
class Sent:
    """One report as sent, and what triage should find in it."""

    i: int
    way: str
    lang: str
    incident_type: str
    province: str | None
    month: str
    description: str
    files: bool = False
    ref: str = ""
    tags: set[str] = field(default_factory=set)
    day: dt.date = field(default_factory=today)
    unread: bool = False


def _plan() -> list[Sent]:
    plan = []
    for i in range(60):
        lang = ("km", "my", "en")[i % 3]
        text = {"km": f"{KHMER_DRONE} នៅផ្សារ", "my": ZAWGYI if i % 2 else f"{DRONE_MY} တွေ့တယ်",
                "en": "a drone over the market" if i % 4 else "=HYPERLINK(\"http://x\")"}[lang]
        plan.append(Sent(i, "nojs" if i % 2 else "api", lang, TYPES[i % 5], PROVINCES[i % 5], f"{i % 12 + 1:02d}",
                         f"{text} r{i:02d}q", files=i % 2 == 1 and i % 3 == 0))
    return plan


def _nojs(client, s: Sent) -> str:
    data = {"csrf_token": csrf_token(client), "incident_type": s.incident_type, "occurred": "", "device": "",
            "location": "=1+2" if s.i == 1 else "town", "description": s.description, "website": "",
            "occurred_month": s.month, "occurred_year": str(today().year - 1), "province": s.province or "",
            "attachments": [(io.BytesIO(plain_jpeg((16, 16), s.i) if s.files else b""), "p.jpg" if s.files else "",
                             "image/jpeg" if s.files else "application/octet-stream")]}
    page = post(client, data, f"/report?lang={s.lang}").get_data(as_text=True)
    return re.search(r'id="receipt">([^<]+)<', page).group(1)


def _api(client, site, s: Sent, keys=None) -> str:
    fields = {"incident_type": s.incident_type, "description": s.description, "location": "", "occurred": "",
              "device": "", "occurred_month": s.month, "occurred_year": str(today().year - 1), "lang": s.lang}
    if s.province:
        fields["province"] = s.province
    report = seal_report([i.recipient for i in site.identities], fields,
                         reply_key=str(keys.identity.recipient) if keys else None)
    work = client.get("/api/v1/challenge").get_json()
    answer = client.post("/api/v1/reports", headers={"X-CSRFToken": csrf_token(client)}, json={
        "keyring_serial": 1, "header": b64(report.header), "body": b64(report.body), "lengths": [], "website": "",
        "pow_challenge": work["challenge"], "pow_nonce": solve(work["challenge"], work["bits"]),
        **({"lookup": b64(keys.lookup)} if keys else {})})
    assert answer.status_code == 201, answer.get_json()
    return answer.get_json()["ref"]


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    """The 60 reports, a reviewer with an identity file, a few tagged, two with unread follow-ups, ten older."""
    from intake.web import create_app

    root = tmp_path_factory.mktemp("done")
    site = make_site(root, f"sqlite:///{root / 'intake.db'}")
    client = create_app(site.settings).test_client()
    plan = _plan()
    replies = {}
    for s in plan:
        if s.way == "api" and s.i in (4, 10):
            replies[s.i] = derive_keys(make_codename(), salt(site.engine))
        s.ref = _nojs(client, s) if s.way == "nojs" else _api(client, site, s, replies.get(s.i))
    for i, keys in replies.items():
        sealed = seal_message([x.recipient for x in site.identities], keys.identity.recipient, "reporter", "more")
        add_message(site.engine, get_case(site.engine, plan[i].ref).id, "reporter", sealed.header, sealed.body)
        plan[i].unread = True
    with site.engine.begin() as conn:
        for s in plan[:10]:
            s.day = today() - dt.timedelta(days=40 + s.i)
            conn.execute(update(cases).where(cases.c.ref == s.ref).values(received=s.day))
    alice = Reviewer.make(root / "alice", identity=site.identities[0])
    keys = ("--keys-dir", str(root / "keys"), "--signer", site.settings.keyring_signer)
    where = ("--db", site.settings.database_url)
    for s in plan[20:24]:
        s.tags = {"protest", "ឃ្លាំមើល"} if s.i % 2 else {"protest"}
        alice.run("tag", s.ref, *s.tags, *keys, where=where)
    bundle = root / "cases.bundle"
    from tests.support import run_cli

    run_cli("intake", "export-sealed", "--out", str(bundle), cwd=root, env=site.env)
    return {"plan": plan, "alice": alice, "site": site, "keys": keys, "db": where, "bundle": ("--bundle", str(bundle)),
            "root": root}


FILTERS = [
    (("--type", "drone"), lambda s: s.incident_type == "drone"),
    (("--type", "cctv", "--type", "other"), lambda s: s.incident_type in ("cctv", "other")),
    (("--province", "KH-12"), lambda s: s.province == "KH-12"),
    (("--province", "mm-06", "--lang", "my"), lambda s: s.province == "MM-06" and s.lang == "my"),
    (("--lang", "km"), lambda s: s.lang == "km"),
    (("--tag", "protest"), lambda s: "protest" in s.tags),
    (("--tag", "PROTEST", "--tag", "ឃ្លាំមើល"), lambda s: {"protest", "ឃ្លាំមើល"} <= s.tags),
    (("--since", (today() - dt.timedelta(days=45)).isoformat()), lambda s: s.day >= today() - dt.timedelta(days=45)),
    (("--until", (today() - dt.timedelta(days=45)).isoformat()), lambda s: s.day <= today() - dt.timedelta(days=45)),
    (("--unread",), lambda s: s.unread),
    (("--has-files",), lambda s: s.files),
    (("--status", "new", "--type", "phone_online"), lambda s: s.incident_type == "phone_online"),
    (("--search", DRONE_MY), lambda s: s.lang == "my"),  # Unicode finds Unicode and, converted, Zawgyi
    (("--search", KHMER_DRONE), lambda s: s.lang == "km"),
    (("--search", "R07Q"), lambda s: s.i == 7),
    (("--search", "drone market", "--lang", "en"), lambda s: s.lang == "en" and s.i % 4 != 0),
    (("--search", "protest"), lambda s: "protest" in s.tags),
    (("--search", "more"), lambda s: s.unread),  # a thread message
]


@pytest.mark.parametrize("source", ["db", "bundle"])
def test_each_filter_and_search_gives_exactly_the_expected_cases(corpus, source) -> None:
    """From the database and from a bundle, each filter and search lists exactly the cases sent with it."""
    plan, alice = corpus["plan"], corpus["alice"]
    everything = alice.run("list", "--json", where=corpus[source])
    rows = json.loads(everything.stdout)
    assert len(rows) == 60
    assert everything.stderr == "60 cases, 0 not opened\n"
    assert [r["received"] for r in rows] == sorted((r["received"] for r in rows), reverse=True)
    by_ref = {r["id"]: r for r in rows}
    for s in plan:
        row = by_ref[s.ref]
        assert (row["province"], row["lang"], row["occurred_month"]) == (s.province, s.lang, s.month)
    for args, wanted in FILTERS:
        got = alice.run("list", "--json", *args, where=corpus[source])
        expected = {s.ref for s in plan if wanted(s)}
        assert expected, args
        assert {r["id"] for r in json.loads(got.stdout)} == expected, args
        assert got.stderr.startswith(f"{len(expected)} case"), (args, got.stderr)


def test_csv_reads_back_inert(corpus) -> None:
    """--csv: one row per case, parsed by csv and openpyxl, no cell a formula; a reference in lower case works."""
    out = corpus["root"] / "cases.csv"
    corpus["alice"].run("list", "--csv", str(out), where=corpus["db"])
    rows = list(csv.reader(io.StringIO(out.read_text(encoding="utf-8"), newline="")))
    assert len(rows) == 61
    assert rows[0][:3] == ["case", "received", "status"]
    sheet = openpyxl.Workbook().active
    for r, row in enumerate(rows, 1):
        for c, value in enumerate(row, 1):
            assert sheet.cell(row=r, column=c, value=value).data_type != "f", value
    assert "'=1+2" in {row[8] for row in rows}
    again = corpus["alice"].run("list", "--csv", str(out), where=corpus["db"], check=False)
    assert again.returncode != 0
    assert "already exists" in again.stderr


def test_bundle_tags_status_and_note_reach_the_database(corpus) -> None:
    """Tags, a status and a note made on the bundle travel in the signed replies file to the server's database."""
    plan, alice, keys = corpus["plan"], corpus["alice"], corpus["keys"]
    replies = corpus["root"] / "replies.json"
    target = plan[30]
    alice.run("tag", target.ref.lower().replace("-", ""), "airgap", "မြန်မာ", "--out", str(replies), *keys,
              where=corpus["bundle"])
    alice.run("status", target.ref, "needs-follow-up", "--note", "ask about the operator", "--out", str(replies),
              *keys, where=corpus["bundle"])
    from tests.support import run_cli

    done = run_cli("intake", "import-replies", str(replies), cwd=corpus["root"], env=corpus["site"].env)
    assert "1 note, 1 tag change" in done.stderr
    listed = json.loads(alice.run("list", "--json", "--tag", "airgap", "--status", "needs-follow-up",
                                  where=corpus["db"]).stdout)
    assert [r["id"] for r in listed] == [target.ref]
    shown = alice.json("show", target.ref, *keys, where=corpus["db"])
    assert shown["tags"] == sorted(["airgap", "မြန်မာ"])
    assert [n["note"] for n in shown["notes"]] == ["ask about the operator"]
