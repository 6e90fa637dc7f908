"""The shared digest's rule, on any counts: no count below K shown, none worked out by subtraction."""

from __future__ import annotations

import datetime as dt

from hypothesis import given, settings
from hypothesis import strategies as st

from intake.digest.picture import EXCLUSIVE, picture
from intake.digest.protect import protect
from intake.digest.tally import Breakdown, Cell
from intake.triage.records import CaseRecord

K = 5
counts = st.lists(st.integers(0, 30), min_size=1, max_size=12)


def _check(breakdown: Breakdown) -> None:
    shown = [c for c in breakdown.cells if not c.hidden]
    assert all(c.count >= K for c in shown)
    if shown:  # the hidden cells add up to 0 or at least K
        hidden = sum(c.count for c in breakdown.cells if c.hidden)
        assert hidden == 0 or hidden >= K


@settings(max_examples=150, deadline=None)
@given(counts)
def test_no_cell_below_k_and_no_subtraction(numbers):
    """Any counts: every shown cell is at least K, and the hidden ones add up to 0 or at least K."""
    breakdown = Breakdown("x", [Cell(str(i), str(i), n) for i, n in enumerate(numbers)])
    protect(breakdown, K)
    _check(breakdown)


def test_one_small_cell_hides_the_next_smallest():
    """8 + 6 + 1 = 15 shown as 8, hidden, fewer than 5: the 1 cannot be had as 15 - 8 - 6."""
    breakdown = Breakdown("x", [Cell("a", "a", 8), Cell("b", "b", 6), Cell("c", "c", 1)])
    protect(breakdown, K)
    assert [c.hidden for c in breakdown.cells] == [False, True, True]


def _record(n: int, seed: int) -> CaseRecord:
    day = dt.date(2026, 1, 1) + dt.timedelta(days=(n * 7 + seed) % 200)
    record = CaseRecord(f"REF{n}", day, ("new", "closed")[n % 2], "server", 0, opened=True)
    record.fields = {"incident_type": ("drone", "cctv", "other")[(n + seed) % 3],
                     "province": ("KH-12", "MM-06", "KH-3", "MM-18", "bogus")[(n * seed) % 5],
                     "occurred_year": ("2025", "2026", "1999")[n % 3], "occurred_month": f"{1 + n % 12:02d}",
                     "lang": ("km", "my", "en", "zz")[(n + 2 * seed) % 4]}
    return record


@settings(max_examples=40, deadline=None)
@given(st.integers(1, 80), st.integers(0, 50))
def test_shared_picture_of_any_cases(size, seed):
    """A whole shared picture of any cases: every breakdown follows the rule, and holds no value's own text."""
    cases = [_record(n, seed) for n in range(size)]
    pic = picture(cases, True, K, "en", str)
    for name in EXCLUSIVE:
        assert sum(pic.breakdowns[name].counts().values()) == len(cases)
        _check(pic.breakdowns[name])
    assert "bogus" not in str(pic.breakdowns["province"].cells)
    assert "zz" not in str(pic.breakdowns["lang"].cells)
