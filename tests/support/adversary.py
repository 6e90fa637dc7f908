"""A reader of a published shared digest who tries to work out a count below K (tests of the digest's --share).

For one breakdown, each cell's count must fit what is published: a number, "fewer than K" (0 to K-1), "hidden"
(K or more) or "not shown" (anything), and the cells add up to the total (a number, or "fewer than K"). The
reader enumerates every such world exactly (no rounding, no linear relaxation) and wins when some count is
below K and above 0 in every world: they know that 1 to K-1 cases are there. A shared digest takes no filters,
so one digest of a moment is all there is to read.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from html import unescape

Shown = int | str  # a number, "fewer", "hidden" or "withheld" (anything)


@dataclass
class Published:
    """One breakdown of one digest as its reader sees it: each key's cell, and the total."""

    cells: dict[str, Shown]
    total: Shown  # a number or "fewer"


def seen(cell_count: int, hidden: bool, k: int, withheld: bool = False) -> Shown:
    """What a digest shows for a cell."""
    return "withheld" if withheld else cell_count if not hidden else "fewer" if cell_count < k else "hidden"


def _fits(value: int, shown: Shown, k: int) -> bool:
    if shown == "withheld":
        return True
    if shown == "fewer":
        return value < k
    if shown == "hidden":
        return value >= k
    return value == shown


def worlds(published: Published, k: int) -> dict[str, set[int]]:
    """Per key: every count that some world consistent with the digest gives it."""
    totals = range(published.total, published.total + 1) if isinstance(published.total, int) else range(k)
    top = max(totals)
    options = {key: tuple(n for n in range(top + 1) if _fits(n, shown, k)) for key, shown in published.cells.items()}
    found: dict[str, set[int]] = {}
    answers: dict[tuple[int, ...], set[int]] = {}
    for key, mine in options.items():  # cells with the same options (the many empty provinces) share one answer
        if mine not in answers:
            others = list(options.values())
            others.remove(mine)
            reach = 1  # bit S is set when the other cells can add up to S
            for choices in others:
                reach = sum_bits(reach, choices) & ((1 << (top + 1)) - 1)
            answers[mine] = {n for n in mine if any(t >= n and reach >> (t - n) & 1 for t in totals)}
        found[key] = answers[mine]
    return found


def sum_bits(reach: int, choices: tuple[int, ...]) -> int:
    """Every sum reachable by adding one of `choices` to one of `reach`."""
    out = 0
    for n in choices:
        out |= reach << n
    return out


def disclosed(published: Published, k: int) -> list[str]:
    """The counts the reader pins to 1..K-1 (as "key in [low, high]")."""
    won = []
    for key, found in worlds(published, k).items():
        assert found, f"no world fits {key}: the digest contradicts itself"
        if min(found) >= 1 and max(found) < k:
            won.append(f"{key} in [{min(found)}, {max(found)}]")
    return won


def read_index(html: str, k: int) -> dict[str, Published]:
    """A shared index.html as its reader sees it: the total and each breakdown's table (by label)."""
    def value(text: str) -> Shown:
        text = unescape(text).strip()
        return int(text) if text.isdigit() else "fewer" if text == f"fewer than {k}" else "withheld" if (
            text == "not shown") else "hidden"

    total = value(re.search(r'<strong id="total">(.*?)</strong>', html).group(1))
    found = {}
    for name in ("type", "status", "lang", "province"):
        section = re.search(rf'id="by-{name}".*?</section>', html, re.S).group(0)
        rows = re.findall(r'<td><bdi class="text">(.*?)</bdi></td><td class="n">(.*?)</td>', section)
        found[name] = Published({unescape(label): value(n) for label, n in rows}, total)
    return found


def map_titles(html: str, k: int) -> dict[str, Shown]:
    """Each drawn province's count, from the map's titles, by its code."""
    titles = re.findall(r"<path [^>]*><title>[^<]*\((\w\w-\d+)\): (.*?)</title>", html)
    return {code: int(n) if n.isdigit() else "fewer" if n == f"fewer than {k}" else "withheld" if n == "not shown"
            else "hidden" for code, n in titles}
