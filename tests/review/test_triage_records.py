"""intake/triage in process: every case opened once, filters, search (Khmer, Burmese, Zawgyi), tags, CSV cells."""

from __future__ import annotations

import csv
import datetime as dt
import io
from pathlib import Path

import openpyxl
import pytest
from sqlalchemy import insert, update

from intake.crypto.keys import Identity
from intake.errors import BadValue
from intake.review.notes import seal_note, seal_tags
from intake.review.session import Session
from intake.storage.cases import canonical_ref
from intake.storage.schema import cases, notes
from intake.triage.csvfile import csv_rows, inert
from intake.triage.filters import Filters, select
from intake.triage.records import open_records
from intake.triage.tags import normal_tag
from tests.support.reviewkit import damage_body, store

SQLITE_ONLY = pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
ZAWGYI = "ကၽြန္ေတာ္ ဒီေန႔ ေစ်းမွာ ဒ႐ုန္း ျမင္တယ္"  # "I saw a drone at the market today", typed in Zawgyi
DRONE_MY = "ဒရုန်း"  # "drone" typed in Unicode: not in the Zawgyi bytes, found through the conversion
KHMER = "\u1780\u17b6\u1798\u17c1\u179a\u17c9\u17b6"  # "camera" in Khmer


def _session(url: str, identity: Identity) -> Session:
    return Session((), None, url, None, _identities=[(Path("alice.key"), identity)])


def _case_key(identity: Identity, engine, ref: str) -> bytes:
    from intake.crypto.report import open_report
    from intake.storage.cases import get_case

    case = get_case(engine, ref)
    return open_report(case.header, case.body, len(case.lengths), [identity]).opened.report_key


@SQLITE_ONLY
def test_records_filters_and_search(engine, db_url) -> None:
    """Each filter and a search over fields, notes and tags pick exactly the expected cases; a damaged case stays."""
    alice = Identity.generate()
    me = [alice.recipient]
    drone = store(engine, me, fields={"incident_type": "drone", "province": "KH-12", "lang": "km",
                                      "description": f"{KHMER} at the market", "occurred_year": "2026",
                                      "occurred_month": "03"})
    cctv = store(engine, me, [("a.jpg", "image/jpeg", b"\xff\xd8\xff" + b"0" * 40)],
                 fields={"incident_type": "cctv", "province": "MM-06", "lang": "my", "description": ZAWGYI})
    old = store(engine, me, fields={"incident_type": "other", "lang": "en", "description": "=HYPERLINK(1)"})
    damaged = store(engine, me)
    damage_body(engine, damaged)
    with engine.begin() as conn:
        conn.execute(update(cases).where(cases.c.ref == old).values(received=dt.date(2025, 1, 2)))
    day = dt.date.today()
    header, body = seal_note(me, "new", "the operator wore a blue cap", alice.key_id,
                             _case_key(alice, engine, cctv), day)
    tag = seal_tags(me, ["protest", "ដ្រូន"], [], alice.key_id, _case_key(alice, engine, drone), day.isoformat(), 1)
    with engine.begin() as conn:
        case_id = {r.ref: r.id for r in conn.execute(cases.select())}
        conn.execute(insert(notes), [{"case_id": case_id[cctv], "created": day, "header": header, "body": body},
                                     {"case_id": case_id[drone], "created": day, "header": tag[0], "body": tag[1]}])
    records = open_records(_session(db_url, alice))
    assert [r.ref for r in records][-1] == old  # newest day first
    by_ref = {r.ref: r for r in records}
    assert not by_ref[damaged].opened
    assert by_ref[damaged].error

    def refs(**given) -> set[str]:
        return {r.ref for r in select(records, Filters(**given))}

    assert refs(incident_type=("drone",)) == {drone}
    assert refs(province=("kh-12", "MM-06")) == {drone, cctv}
    assert refs(lang=("my",)) == {cctv}
    assert refs(has_files=True) == {cctv}
    assert refs(tags=("Protest",)) == {drone}
    assert refs(tags=("protest", "ដ្រូន")) == {drone}
    assert refs(until=dt.date(2025, 12, 31)) == {old}
    assert refs(since=day) == {drone, cctv, damaged}
    assert refs(search="BLUE cap") == {cctv}
    assert refs(search=KHMER) == {drone}
    assert refs(search="ដ្រូន") == {drone}
    assert DRONE_MY not in ZAWGYI
    assert refs(search=DRONE_MY) == {cctv}
    assert refs(search="ဒရုန်း မြင်") == {cctv}
    assert refs(search="hyperlink", lang=("en",)) == {old}
    assert refs(status=("closed",)) == set()


def test_tag_rules() -> None:
    """Tags are folded and normal; Khmer and Burmese are allowed; controls, spaces and long ones are refused."""
    assert normal_tag("  Face-Recognition ") == "face-recognition"
    assert normal_tag("ដ្រូន") == "ដ្រូន"
    assert normal_tag("မြန်မာ") == "မြန်မာ"
    for bad in ("a\x1b[31m", "bi\u202edi", "two words", "", "x" * 41, "zero\u200bwidth"):
        with pytest.raises(BadValue):
            normal_tag(bad)


def test_references_in_any_spelling() -> None:
    """A reference typed in lower case, without dashes, with O for 0 or I and L for 1, is the stored one."""
    assert canonical_ref("abcd1234efgh") == "ABCD-1234-EFGH"
    assert canonical_ref("abcd-l234-efgh") == "ABCD-1234-EFGH"
    assert canonical_ref(" ABCD 1234 EFGO ") == "ABCD-1234-EFG0"
    assert canonical_ref("not-a-ref") == "NOT-A-REF"


def test_formula_cells_are_inert() -> None:
    """A cell a spreadsheet would run is text in csv and in openpyxl; controls are escaped."""
    for value in ("=1+1", "+1", "-1", "@SUM(A1)", "\t=1", "\r=1", " =1", "＝1", "\x1b[2J"):
        cell = inert(value)
        assert not cell.lstrip(" ").startswith(("=", "+", "-", "@", "\t", "\r", "＝")), cell
        assert "\x1b" not in cell
    rows = list(csv.reader(io.StringIO("\n".join(",".join(f'"{c}"' for c in row) for row in csv_rows([])))))
    assert rows[0][0] == "case"
    sheet = openpyxl.Workbook().active
    for i, value in enumerate(("=1+1", "@A1", "-2")):
        assert sheet.cell(row=1, column=i + 1, value=inert(value)).data_type != "f"


@SQLITE_ONLY
def test_collections_paused_only_while_listing_and_young_ones_still_run(engine, db_url, monkeypatch) -> None:
    """open_records pauses Python's automatic collections and collects the young generations every YOUNG cases
    (damaged cases' exceptions make cyclic garbage); it leaves the collector as it found it, after an error too."""
    import gc

    from intake.triage import records

    alice = Identity.generate()
    refs = [store(engine, [alice.recipient]) for _ in range(5)]
    damage_body(engine, refs[0])
    collected = []
    monkeypatch.setattr(records, "YOUNG", 2)
    monkeypatch.setattr(gc, "collect", lambda generation=2: collected.append((generation, gc.isenabled())))
    assert gc.isenabled()
    listed = open_records(_session(db_url, alice))
    assert sorted(r.ref for r in listed) == sorted(refs)
    assert collected == [(1, False), (1, False)]
    assert gc.isenabled()
    gc.disable()
    try:
        open_records(_session(db_url, alice))
        assert not gc.isenabled()  # a caller that paused the collector keeps it paused
    finally:
        gc.enable()

    def broken(*_args, **_kwargs):
        yield from ()
        raise OSError("the disk went away")

    monkeypatch.setattr(records, "iter_records", broken)
    with pytest.raises(OSError, match="went away"):
        open_records(_session(db_url, alice))
    assert gc.isenabled()
