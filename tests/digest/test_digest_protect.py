"""The shared digest's rule, on any counts: no count below K shown, none worked out by subtraction."""

from __future__ import annotations

import datetime as dt

from hypothesis import given, settings
from hypothesis import strategies as st

from intake.digest.picture import EXCLUSIVE, picture
from intake.digest.protect import protect
from intake.digest.tally import Breakdown, Cell, count_keys
from intake.triage.records import CaseRecord

K = 5
counts = st.lists(st.tuples(st.integers(0, 30), st.integers(0, 30)), min_size=1, max_size=12)


def _safe(n: int) -> bool:
    return n == 0 or n >= K


def _check(breakdown: Breakdown, whole: dict[str, int]) -> None:
    shown = [c for c in breakdown.cells if not c.hidden]
    hidden = [c for c in breakdown.cells if c.hidden]
    assert all(c.count >= K and _safe(whole[c.key] - c.count) for c in shown)
    if shown:  # the hidden cells add up to 0 or at least K, chosen and left out alike
        assert _safe(sum(c.count for c in hidden))
        assert _safe(sum(whole[c.key] - c.count for c in hidden))


@settings(max_examples=150, deadline=None)
@given(counts)
def test_no_cell_below_k_and_no_subtraction(pairs):
    """Any counts (chosen, left out by the filters): every shown cell passes, the hidden ones protect each other."""
    breakdown = Breakdown("x", [Cell(str(i), str(i), chosen) for i, (chosen, _) in enumerate(pairs)])
    whole = {str(i): chosen + out for i, (chosen, out) in enumerate(pairs)}
    protect(breakdown, whole, K)
    _check(breakdown, whole)


def test_one_small_cell_hides_the_next_smallest():
    """8 + 6 + 1 = 15 shown as 8, hidden, fewer than 5: the 1 cannot be had as 15 - 8 - 6."""
    breakdown = Breakdown("x", [Cell("a", "a", 8), Cell("b", "b", 6), Cell("c", "c", 1)])
    protect(breakdown, {"a": 8, "b": 6, "c": 1}, K)
    assert [c.hidden for c in breakdown.cells] == [False, True, True]


def test_a_filtered_cell_whose_left_out_part_is_small_is_hidden():
    """Chosen 9 of a province's 11: the 2 left out would show by subtraction from the unfiltered digest."""
    breakdown = Breakdown("x", [Cell("a", "a", 9), Cell("b", "b", 20)])
    protect(breakdown, {"a": 11, "b": 20}, K)
    assert breakdown.cells[0].hidden


def _record(n: int, seed: int) -> CaseRecord:
    day = dt.date(2026, 1, 1) + dt.timedelta(days=(n * 7 + seed) % 200)
    record = CaseRecord(f"REF{n}", day, ("new", "closed")[n % 2], "server", 0, opened=True)
    record.fields = {"incident_type": ("drone", "cctv", "other")[(n + seed) % 3],
                     "province": ("KH-12", "MM-06", "KH-3", "MM-18", "bogus")[(n * seed) % 5],
                     "occurred_year": ("2025", "2026", "1999")[n % 3], "occurred_month": f"{1 + n % 12:02d}",
                     "lang": ("km", "my", "en", "zz")[(n + 2 * seed) % 4]}
    return record


@settings(max_examples=40, deadline=None)
@given(st.integers(1, 80), st.integers(0, 50), st.sets(st.integers(0, 79)))
def test_shared_picture_of_any_selection(size, seed, left_out):
    """A whole shared picture, of any cases and any selection of them: every breakdown follows the rule."""
    whole = [_record(n, seed) for n in range(size)]
    chosen = [r for n, r in enumerate(whole) if n not in left_out]
    pic = picture(chosen, whole, True, K, "en", str)
    every = count_keys(whole, True)
    for name in EXCLUSIVE:
        assert sum(pic.breakdowns[name].counts().values()) == len(chosen)
        if name != "occurred":  # its years outside the window are one cell: checked by the shown counts below
            _check(pic.breakdowns[name], every[name])
        assert all(c.count >= K for c in pic.breakdowns[name].cells if not c.hidden)
    assert "bogus" not in str(pic.breakdowns["province"].cells)
    assert "zz" not in str(pic.breakdowns["lang"].cells)
