"""The shared digest's rule: no count below K can be read from it, nor worked out by subtraction.

A cell is hidden when it counts fewer than K cases (shown as "fewer than K"), or when the cases the filters
left out of it number 1 to K-1 (so that a reader holding the unfiltered digest cannot subtract). Then, in each
breakdown whose cells add up to the total, the hidden cells must add up to 0 or at least K, both for the
chosen cases and for those left out: while they do not, the smallest shown cell is hidden too (shown as
"hidden"). docs/review.md "What a shared digest still reveals" says what this does not cover.
"""

from __future__ import annotations

from collections.abc import Mapping

from intake.digest.tally import Breakdown


def protect(breakdown: Breakdown, whole: Mapping[str, int], k: int) -> None:
    """Mark the cells of `breakdown` to hide; `whole` counts the same keys over every case, unfiltered."""
    def left_out(cell) -> int:  # noqa: ANN001
        return whole.get(cell.key, 0) - cell.count

    for cell in breakdown.cells:
        cell.hidden = cell.count < k or 0 < left_out(cell) < k
    if not breakdown.exclusive:
        return
    while True:
        hidden = [c for c in breakdown.cells if c.hidden]
        chosen, out = sum(c.count for c in hidden), sum(left_out(c) for c in hidden)
        shown = [c for c in breakdown.cells if not c.hidden]
        if not shown or (chosen == 0 or chosen >= k) and (out == 0 or out >= k):
            return
        min(shown, key=lambda c: (c.count, c.key)).hidden = True


def safe_selection(chosen: int, whole: int, k: int) -> bool:
    """Whether the filters leave out no case or at least K (else the unfiltered total gives their number)."""
    return chosen == whole or whole - chosen >= k
