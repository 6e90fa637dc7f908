"""A reader of shared digests tries to work out a count below K: sums of rows against totals, a filtered digest
against the unfiltered one, a selection and its complement, the charts' ends, the map against the table."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from intake.digest.picture import EXCLUSIVE, Picture, picture
from intake.digest.protect import protect, safe_selection
from intake.digest.tally import Breakdown, Cell
from intake.triage.records import CaseRecord
from tests.support.adversary import Published, disclosed, map_titles, read_index, seen
from tests.support.digestkit import make_cases

K = 5


def _published(pic: Picture, name: str) -> Published:
    return Published({c.key: seen(c.count, c.hidden, pic.k, c.withheld) for c in pic.breakdowns[name].cells},
                     seen(pic.total, pic.total < pic.k, pic.k))


def _table(counts: dict[str, int], whole: dict[str, int] | None = None, unfiltered: Breakdown | None = None
           ) -> Breakdown:
    table = Breakdown("x", [Cell(key, key, n) for key, n in counts.items()])
    protect(table, whole or counts, K, unfiltered)
    return table


def _as_published(table: Breakdown) -> Published:
    return Published({c.key: seen(c.count, c.hidden, K, c.withheld) for c in table.cells},
                     seen(table.total, table.total < K, K))


def test_the_reader_wins_where_the_old_rule_let_them():
    """Not a blind adversary: on what the rule before this test published it pins the counts. Two cells of 4 that
    add up to 8 (each "fewer than 5") are 4 each; a filtered digest showing a cell the unfiltered one hid as
    "hidden" gives away the "fewer than 5" beside it (1) through the rule's own 0-or-at-least-K."""
    lone = Published({"a": 20, "c1": "fewer", "c2": "fewer"}, 28)
    assert disclosed(lone, lone, K) == ["c1: F in [4, 4]", "c1: U in [4, 4]", "c2: F in [4, 4]", "c2: U in [4, 4]"]
    unfiltered = Published({"a": 20, "b": "hidden", "c": "fewer", "d": 10}, 37)
    filtered = Published({"a": 10, "b": 6, "c": "fewer", "d": "fewer"}, 16)
    assert "c: U in [1, 1]" in disclosed(unfiltered, filtered, K)


def test_the_rule_now_hides_what_they_won():
    """The same counts through today's rule: nothing pinned, alone or against the unfiltered digest."""
    lone = _table({"a": 20, "c1": 4, "c2": 4})
    assert disclosed(_as_published(lone), _as_published(lone), K) == []
    whole = {"a": 20, "b": 6, "c": 1, "d": 10}
    unfiltered = _table(whole)
    filtered = _table({"a": 10, "b": 6, "c": 0, "d": 0}, whole, unfiltered)
    assert disclosed(_as_published(unfiltered), _as_published(filtered), K) == []


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 12), st.integers(0, 12)), min_size=1, max_size=6))
def test_no_table_gives_a_count_below_k(pairs):
    """Any table (chosen, left out): alone, against the unfiltered one, and with the complement's own digest."""
    whole = {f"c{i}": f + out for i, (f, out) in enumerate(pairs)}
    chosen = {f"c{i}": f for i, (f, _) in enumerate(pairs)}
    rest = {f"c{i}": out for i, (_, out) in enumerate(pairs)}
    unfiltered = _table(whole)
    assert disclosed(_as_published(unfiltered), _as_published(unfiltered), K) == []
    if not safe_selection(sum(chosen.values()), sum(whole.values()), K):
        return
    filtered = _table(chosen, whole, unfiltered)
    assert disclosed(_as_published(unfiltered), _as_published(filtered), K) == []
    if safe_selection(sum(rest.values()), sum(whole.values()), K):  # the complement is a digest of its own
        complement = _table(rest, whole, unfiltered)
        assert disclosed(_as_published(unfiltered), _as_published(filtered), K, _as_published(complement)) == []


def _record(n: int, seed: int) -> CaseRecord:
    day = dt.date(2026, 1, 5) + dt.timedelta(days=(n * 11 + seed) % 150)
    record = CaseRecord(f"REF{n}", day, ("new", "closed", "in review")[(n + seed) % 3], "server", 0, opened=True)
    record.fields = {"incident_type": ("drone", "cctv", "other")[(n * seed) % 3],
                     "province": ("KH-12", "MM-06", "KH-3", "bogus")[(n + seed) % 4],
                     "occurred_year": ("2025", "2026")[n % 2], "occurred_month": f"{1 + (n * seed) % 5:02d}",
                     "lang": ("km", "my", "en")[(n + 2 * seed) % 3]}
    return record


@settings(max_examples=25, deadline=None)
@given(st.integers(5, 28), st.integers(0, 40), st.sets(st.integers(0, 27)))
def test_no_picture_gives_a_count_below_k(size, seed, left_out):
    """Whole pictures of any cases, any selection (a search picks any set) and its complement: in no breakdown
    (the timelines included: their bars are its cells) can the reader pin a count, and the charts run over whole
    quarters (weeks) and whole years (months), so that their ends tell nothing."""
    whole = [_record(n, seed) for n in range(size)]
    chosen = [r for n, r in enumerate(whole) if n not in left_out]
    rest = [r for n, r in enumerate(whole) if n in left_out]
    unfiltered = picture(whole, whole, True, K, "en", str)
    for name in EXCLUSIVE:
        assert disclosed(_published(unfiltered, name), _published(unfiltered, name), K) == [], name
    months = [c.key for c in unfiltered.breakdowns["occurred"].cells if c.key[:1].isdigit()]
    assert not months or (months[0].endswith("-01") and months[-1].endswith("-12"))
    weeks = [dt.date.fromisoformat(c.key) for c in unfiltered.breakdowns["received"].cells]
    for day in (weeks[0] + dt.timedelta(days=6), weeks[-1] + dt.timedelta(days=7)):  # a quarter's first week
        assert day.month in (1, 4, 7, 10)
        assert day.day <= 7
    if not (safe_selection(len(chosen), size, K) and safe_selection(len(rest), size, K)) or not rest:
        return
    filtered, complement = picture(chosen, whole, True, K, "en", str), picture(rest, whole, True, K, "en", str)
    for name in EXCLUSIVE:
        u, f, g = (_published(p, name) for p in (unfiltered, filtered, complement))
        assert disclosed(u, f, K, g) == [], name
        assert disclosed(u, g, K, f) == [], name


@pytest.mark.xfail(strict=True, reason="the documented limit (docs/review.md): two filtered digests that overlap "
                                       "are not protected against each other")
def test_two_overlapping_filtered_digests_give_their_difference():
    """--type drone shows 7 cases in b, --type drone --type cctv shows 9: the 2 cctv cases in b, in the open."""
    whole = {"a": 10, "b": 20, "c": 12}
    drone, both = _table({"a": 5, "b": 7, "c": 0}, whole), _table({"a": 5, "b": 9, "c": 0}, whole)
    shown = [(t.cells[1].count, t.cells[1].hidden) for t in (drone, both)]
    assert shown != [(7, False), (9, False)]


def test_the_digests_as_published(tmp_path):
    """The real command's pages: the map says what the province table says, and the unfiltered digest, a filtered
    one and the digest of the cases it left out give the reader no count below K."""
    url, reviewer, refs = make_cases(tmp_path, plain=30)
    pages = {}
    for name, chosen in (("all", ()), ("drone", ("drone",)), ("rest", ("cctv", "face_recognition", "<b>drone</b>"))):
        out = tmp_path / name
        reviewer.run("digest", "--share", "--out", str(out), *[a for t in chosen for a in ("--type", t)],
                     where=("--db", url))
        pages[name] = (out / "index.html").read_text()
    read = {name: read_index(html, K) for name, html in pages.items()}
    assert read["all"]["type"].total == len(refs)
    assert read["drone"]["type"].total + read["rest"]["type"].total == len(refs)
    for name, html in pages.items():
        drawn = map_titles(html, K)
        table = {re.search(r"\((\w\w-\d+)\)$", label).group(1): n
                 for label, n in read[name]["province"].cells.items() if label.endswith(")")}
        assert drawn
        assert all(table[code] == n for code, n in drawn.items()), name
    for breakdown in read["all"]:
        u, f, g = (read[name][breakdown] for name in ("all", "drone", "rest"))
        assert disclosed(u, u, K) == [], breakdown
        assert disclosed(u, f, K, g) == [], breakdown
        assert disclosed(u, g, K, f) == [], breakdown
