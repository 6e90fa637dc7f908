"""The shared digest's rule: no count below K can be read from it, nor worked out by subtraction.

A cell is hidden when it counts fewer than K cases (shown as "fewer than K"), when the cases the filters left
out of it number 1 to K-1 (so that a reader holding the unfiltered digest cannot subtract), or, in a filtered
digest, when the unfiltered digest of the same cases hides it. Then, in each breakdown whose cells add up to
the total, while a reader could still narrow a count down, the smallest shown cell is hidden too (shown as
"hidden"): the hidden cells must add up to 0 or at least K, both for the chosen cases and for those left out,
and no hidden count (chosen, unfiltered, or left out) may be bounded to 1..K-1 by what is shown, the labels
("fewer than K" is at most K-1, "hidden" at least K) and the totals. When every cell is hidden and that still
does not hold, the breakdown is withheld: each of its cells is "not shown". docs/review.md "What a shared digest still
reveals" says what this does not cover.
"""

from __future__ import annotations

from collections.abc import Mapping

from intake.digest.tally import Breakdown, Cell

Bounds = list[list[int]]  # per cell [lowest, highest]


def protect(breakdown: Breakdown, whole: Mapping[str, int], k: int, unfiltered: Breakdown | None = None) -> None:
    """Mark the cells of `breakdown` to hide; `whole` counts the same keys over every case, unfiltered, and
    `unfiltered` is the protected breakdown of the unfiltered digest (made here when not given).

    A filtered digest is protected together with the digest of the cases it leaves out (its complement), by a
    rule that treats both alike: whichever of the two is made, it hides what it would hide beside the other."""
    if unfiltered is None and any(whole.get(c.key, 0) != c.count for c in breakdown.cells):
        unfiltered = Breakdown(breakdown.key, [Cell(c.key, c.label, whole.get(c.key, 0)) for c in breakdown.cells])
        protect(unfiltered, whole, k)
    rest = None if unfiltered is None else Breakdown(breakdown.key, [
        Cell(c.key, c.label, whole.get(c.key, 0) - c.count) for c in breakdown.cells], breakdown.exclusive)
    shown_whole = None if unfiltered is None else {c.key for c in unfiltered.cells if not c.hidden}
    pairs = [(breakdown, rest)] if rest is None else [(breakdown, rest), (rest, breakdown)]
    for mine, other in pairs:
        for cell, beside in zip(mine.cells, other.cells if other else mine.cells, strict=True):
            cell.hidden = cell.count < k or (other is not None and 0 < beside.count < k) or (
                shown_whole is not None and cell.key not in shown_whole)
    if not breakdown.exclusive:
        return
    sides = [breakdown] if rest is None else [breakdown, rest]
    while not _safe(breakdown, rest, unfiltered or breakdown, k):
        shown = [c for side in sides for c in side.cells if not c.hidden]
        if not shown:  # every cell hidden, and still a count can be narrowed down: none is shown
            for cell in breakdown.cells:
                cell.withheld = True
            return
        smallest = min((c.count, c.key) for c in shown)
        for cell in shown:  # both sides alike, so that the rule gives the same answer from either
            cell.hidden = cell.hidden or (cell.count, cell.key) == smallest


def _safe(chosen: Breakdown, rest: Breakdown | None, unfiltered: Breakdown, k: int) -> bool:
    """Whether each side's hidden cells add up to 0 or at least K (on both sides) and no count is narrowed."""
    for mine, other in [(chosen, rest), (rest, chosen)] if rest is not None else [(chosen, None)]:
        hidden = [i for i, c in enumerate(mine.cells) if c.hidden]
        for side in (mine, other) if other is not None else (mine,):
            total = sum(side.cells[i].count for i in hidden)
            if 0 < total < k:
                return False
    return not narrowed(chosen, rest, unfiltered, k)


def safe_selection(chosen: int, whole: int, k: int) -> bool:
    """Whether the filters leave out no case or at least K (else the unfiltered total gives their number)."""
    return chosen == whole or whole - chosen >= k


def narrowed(chosen: Breakdown, rest: Breakdown | None, unfiltered: Breakdown, k: int) -> bool:
    """Whether a reader of the digests (unfiltered, chosen, and the complement `rest`) can bound a hidden count
    (chosen, unfiltered or left out) to 1..K-1."""
    every_total = unfiltered.total
    mine = _seen(chosen.cells, chosen.total, k)
    every = _seen(unfiltered.cells, every_total, k)
    out = _seen(rest.cells, every_total - chosen.total, k) if rest else [[0, 0] for _ in chosen.cells]
    for _ in range(4 * len(mine) + 8):
        before = str((mine, every, out))
        for bounds, total in ((mine, chosen.total), (every, every_total), (out, every_total - chosen.total)):
            _sum_to(bounds, total)
        for m, e, o in zip(mine, every, out, strict=True):  # every = mine + out, cell by cell
            _tighten(e, m[0] + o[0], m[1] + o[1])
            _tighten(m, e[0] - o[1], e[1] - o[0])
            _tighten(o, e[0] - m[1], e[1] - m[0])
        if str((mine, every, out)) == before:
            break
    return any(1 <= low and high < k for low, high in mine + every + out)


def _seen(cells: list[Cell], total: int, k: int) -> Bounds:
    """What a reader knows of each cell: its count when shown, 0..K-1 for "fewer than K", K.. for "hidden"."""
    return [[0, max(total, k)] if c.withheld else [c.count, c.count] if not c.hidden else [0, k - 1]
            if c.count < k else [k, max(total, k)] for c in cells]


def _sum_to(bounds: Bounds, total: int) -> None:
    """Tighten each cell's bounds knowing that the cells add up to `total`."""
    low, high = sum(b[0] for b in bounds), sum(b[1] for b in bounds)
    for b in bounds:
        _tighten(b, total - (high - b[1]), total - (low - b[0]))


def _tighten(bounds: list[int], low: int, high: int) -> None:
    bounds[0], bounds[1] = max(bounds[0], low), min(bounds[1], high)
