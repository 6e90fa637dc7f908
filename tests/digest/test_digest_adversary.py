"""A reader of a shared digest tries to work out a count below K: sums of rows against the total, the charts'
ends, the map against the table; a second digest with filters is refused, and one made a week later gives
that week's cases away (the documented limit)."""

from __future__ import annotations

import dataclasses
import datetime as dt
import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from intake.digest.picture import EXCLUSIVE, Picture, picture
from intake.digest.protect import protect
from intake.digest.tally import Breakdown, Cell, keys_of, monday
from intake.triage.filters import Filters
from intake.triage.records import CaseRecord
from tests.support import run_cli
from tests.support.adversary import Published, disclosed, map_titles, read_index, seen
from tests.support.digestkit import make_cases

K = 5
FILTERS = {"status": ("--status", "new"), "tags": ("--tag", "seen"), "incident_type": ("--type", "drone"),
           "province": ("--province", "KH-12"), "lang": ("--lang", "km"), "since": ("--since", "2026-01-01"),
           "until": ("--until", "2026-12-31"), "unread": ("--unread",), "has_files": ("--has-files",),
           "search": ("--search", "street")}


def _published(pic: Picture, name: str) -> Published:
    return Published({c.key: seen(c.count, c.hidden, pic.k, c.withheld) for c in pic.breakdowns[name].cells},
                     seen(pic.total, pic.total < pic.k, pic.k))


def _table(counts: dict[str, int]) -> Published:
    table = Breakdown("x", [Cell(key, key, n) for key, n in counts.items()])
    protect(table, K)
    return Published({c.key: seen(c.count, c.hidden, K, c.withheld) for c in table.cells},
                     seen(table.total, table.total < K, K))


def test_the_reader_wins_where_the_old_rule_let_them():
    """Not a blind adversary: on what an earlier rule published (it only made the hidden cells add up to 0 or at
    least K) it pins the counts: two cells of 4 that add up to 8, each "fewer than 5", are 4 each."""
    lone = Published({"a": 20, "c1": "fewer", "c2": "fewer"}, 28)
    assert disclosed(lone, K) == ["c1 in [4, 4]", "c2 in [4, 4]"]


def test_the_rule_now_hides_what_they_won():
    """The same counts through today's rule: nothing pinned."""
    assert disclosed(_table({"a": 20, "c1": 4, "c2": 4}), K) == []


@settings(max_examples=200, deadline=None)
@given(st.lists(st.integers(0, 24), min_size=1, max_size=6))
def test_no_table_gives_a_count_below_k(counts):
    """Any table of counts, as the rule publishes it: no count pinned to 1..K-1."""
    assert disclosed(_table({f"c{i}": n for i, n in enumerate(counts)}), K) == []


def _record(n: int, seed: int) -> CaseRecord:
    day = dt.date(2026, 1, 5) + dt.timedelta(days=(n * 11 + seed) % 150)
    record = CaseRecord(f"REF{n}", day, ("new", "closed", "in review")[(n + seed) % 3], "server", 0, opened=True)
    record.fields = {"incident_type": ("drone", "cctv", "other")[(n * seed) % 3],
                     "province": ("KH-12", "MM-06", "KH-3", "bogus")[(n + seed) % 4],
                     "occurred_year": ("2025", "2026")[n % 2], "occurred_month": f"{1 + (n * seed) % 5:02d}",
                     "lang": ("km", "my", "en")[(n + 2 * seed) % 3]}
    return record


@settings(max_examples=25, deadline=None)
@given(st.integers(1, 28), st.integers(0, 40))
def test_no_picture_gives_a_count_below_k(size, seed):
    """Whole pictures of any cases: in no breakdown (the timelines included: their bars are its cells) can the
    reader pin a count, and the charts run over whole quarters (weeks) and whole years (months), so that their
    ends tell nothing."""
    pic = picture([_record(n, seed) for n in range(size)], True, K, "en", str)
    for name in EXCLUSIVE:
        assert disclosed(_published(pic, name), K) == [], name
    months = [c.key for c in pic.breakdowns["occurred"].cells if c.key[:1].isdigit()]
    assert not months or (months[0].endswith("-01") and months[-1].endswith("-12"))
    weeks = [dt.date.fromisoformat(c.key) for c in pic.breakdowns["received"].cells]
    for day in (weeks[0] + dt.timedelta(days=6), weeks[-1] + dt.timedelta(days=7)):  # a quarter's first week
        assert day.month in (1, 4, 7, 10)
        assert day.day <= 7


def test_two_digests_a_week_apart_give_that_weeks_cases():
    """The documented limit (docs/review.md): a digest made a week after another differs by that week's cases.
    Its one case is "fewer than 5" on the weekly chart, yet the total grew by 1, and the cell that grew in each
    breakdown (shown in both digests) says its type, status, language and province; its month, "fewer than 5"
    before and 5 after, says that and that the month had 4 cases before."""
    cases = [_record(n, 1) for n in range(40)]
    new = _record(40, 1)
    new.received = max(r.received for r in cases) + dt.timedelta(days=7)
    before, after = (picture(chosen, True, K, "en", str) for chosen in (cases, [*cases, new]))
    assert after.total - before.total == 1
    week = {c.key: c for c in after.breakdowns["received"].cells}[monday(new.received).isoformat()]
    assert seen(week.count, week.hidden, K) == "fewer"
    for name in ("type", "status", "lang", "province"):
        was = {c.key: c for c in before.breakdowns[name].cells}
        grew = {c.key: c.count - was[c.key].count for c in after.breakdowns[name].cells
                if not (c.hidden or was[c.key].hidden) and c.count != was[c.key].count}
        assert grew == {keys_of(new, True)[name]: 1}, name
    month = keys_of(new, True)["occurred"]
    was, now = ({c.key: c for c in p.breakdowns["occurred"].cells}[month] for p in (before, after))
    assert (seen(was.count, was.hidden, K), seen(now.count, now.hidden, K)) == ("fewer", K)


@pytest.fixture(scope="module")
def published(tmp_path_factory):
    """A database of 30 ordinary cases and two others, and its shared digest."""
    base = tmp_path_factory.mktemp("adversary")
    url, reviewer, refs = make_cases(base, plain=30)
    reviewer.run("digest", "--share", "--out", str(base / "all"), where=("--db", url))
    return {"base": base, "url": url, "reviewer": reviewer, "refs": refs, "html": (base / "all/index.html").read_text()}


def test_the_refusal_is_tried_with_every_filter():
    """FILTERS names every filter of list: a new one must be added to it, and so to the test below."""
    assert set(FILTERS) == {f.name for f in dataclasses.fields(Filters)}


@pytest.mark.parametrize("name", sorted(FILTERS))
def test_a_shared_digest_takes_no_filter(published, name):
    """--share with any filter of list is refused before a case is opened or a file written (two shared digests
    with different filters, `--type drone` and `--type drone --type cctv`, gave the cctv cases by subtraction)."""
    out = published["base"] / f"filtered-{name}"
    done = published["reviewer"].run("digest", "--share", "--out", str(out), *FILTERS[name],
                                     where=("--db", published["url"]), check=False)
    assert done.returncode == 2, done.stderr
    assert f"a shared digest takes no filters (given: {FILTERS[name][0]})" in done.stderr
    assert "can be subtracted to reveal counts below 5" in done.stderr
    assert "drop the filters" in done.stderr
    assert not out.exists()


def test_the_digest_as_published(published):
    """The real command's page: the map says what the province table says, and the reader pins no count."""
    read = read_index(published["html"], K)
    assert read["type"].total == len(published["refs"])
    drawn = map_titles(published["html"], K)
    table = {re.search(r"\((\w\w-\d+)\)$", label).group(1): n
             for label, n in read["province"].cells.items() if label.endswith(")")}
    assert drawn
    assert all(table[code] == n for code, n in drawn.items())
    for name, breakdown in read.items():
        assert disclosed(breakdown, K) == [], name


def test_a_shared_digest_of_a_bundle_exported_since_a_day_is_refused(published, tmp_path):
    """A bundle exported with --since is a filter by other means: its shared digest is refused, and one of a
    bundle of every case is written."""
    (tmp_path / "instance").mkdir(mode=0o700)  # the instance folder holds the import key a bundle carries
    for since in ((), ("--since", dt.date.today().isoformat())):
        bundle = tmp_path / f"cases{len(since)}.bundle"
        run_cli("intake", "export-sealed", "--out", str(bundle), *since, cwd=tmp_path,
                env={"INTAKE_DATABASE_URL": published["url"]})
        out = tmp_path / f"shared{len(since)}"
        done = published["reviewer"].run("digest", "--share", "--out", str(out), where=("--bundle", str(bundle)),
                                         check=False)
        assert done.returncode == (2 if since else 0), done.stderr
        assert ("exported with --since" in done.stderr) == bool(since)
        assert out.exists() != bool(since)
