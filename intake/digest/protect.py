"""The shared digest's rule: no count below K can be read from it, nor worked out from its totals.

A cell is hidden when it counts fewer than K cases (shown as "fewer than K"). Then, in each breakdown whose
cells add up to the total, while a reader could still narrow a count down, the smallest shown cell is hidden
too (shown as "hidden"): the hidden cells must add up to 0 or at least K, and no hidden count may be bounded
to 1..K-1 by what is shown, the labels ("fewer than K" is at most K-1, "hidden" at least K) and the total.
When every cell is hidden and that still does not hold, the breakdown is withheld: each of its cells is "not
shown". A shared digest takes no filters (build.py), so this one digest is all a reader has of a moment;
docs/review.md "What a shared digest still reveals" says what this does not cover.
"""

from __future__ import annotations

from intake.digest.tally import Breakdown, Cell

Bounds = list[list[int]]  # per cell [lowest, highest]


def protect(breakdown: Breakdown, k: int) -> None:
    """Mark the cells of `breakdown` to hide (and, when hiding cannot protect it, to withhold)."""
    for cell in breakdown.cells:
        cell.hidden = cell.count < k
    if not breakdown.exclusive:
        return
    while not _safe(breakdown, k):
        shown = [c for c in breakdown.cells if not c.hidden]
        if not shown:  # every cell hidden, and still a count can be narrowed down: none is shown
            for cell in breakdown.cells:
                cell.withheld = True
            return
        min(shown, key=lambda c: (c.count, c.key)).hidden = True


def _safe(breakdown: Breakdown, k: int) -> bool:
    """Whether the hidden cells add up to 0 or at least K and no hidden count is narrowed to 1..K-1."""
    hidden = sum(c.count for c in breakdown.cells if c.hidden)
    return not 0 < hidden < k and not narrowed(breakdown, k)


def narrowed(breakdown: Breakdown, k: int) -> bool:
    """Whether a reader of the digest can bound a hidden count to 1..K-1."""
    bounds = _seen(breakdown.cells, breakdown.total, k)
    _sum_to(bounds, breakdown.total)
    return any(1 <= low and high < k for low, high in bounds)


def _seen(cells: list[Cell], total: int, k: int) -> Bounds:
    """What a reader knows of each cell: its count when shown, 0..K-1 for "fewer than K", K.. for "hidden"."""
    return [[0, max(total, k)] if c.withheld else [c.count, c.count] if not c.hidden else [0, k - 1]
            if c.count < k else [k, max(total, k)] for c in cells]


def _sum_to(bounds: Bounds, total: int) -> None:
    """Tighten each cell's bounds to every value it takes in some world whose cells add up to `total` (one pass
    is exact: with a single sum, a cell can be anything from the total less the others' highest to the total
    less their lowest)."""
    low, high = sum(b[0] for b in bounds), sum(b[1] for b in bounds)
    for b in bounds:
        b[0], b[1] = max(b[0], total - (high - b[1])), min(b[1], total - (low - b[0]))
