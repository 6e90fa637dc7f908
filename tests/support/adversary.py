"""A reader of published shared digests who tries to work out a count below K (tests of the digest's --share).

The reader holds the unfiltered digest and one filtered digest of the same moment (and maybe the digest of the
cases that one left out). For one breakdown, each cell's count in the filtered digest (F), in the unfiltered one
(U = F + L) and left out (L) must fit what is published: a number, "fewer than K" (0 to K-1) or "hidden" (K or
more), and the totals. The reader enumerates every such world exactly (no rounding, no linear relaxation) and
wins when some count is below K and above 0 in every world: they know that 1 to K-1 cases are there. The
reader knows the published rule too: a cell the filtered digest shows has 0 or at least K cases left out (and
a cell the complement's digest shows has 0 or at least K chosen).
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


def _fits(value: int, shown: Shown | None, k: int) -> bool:
    if shown is None or shown == "withheld":
        return True
    if shown == "fewer":
        return value < k
    if shown == "hidden":
        return value >= k
    return value == shown


def worlds(unfiltered: Published, chosen: Published, k: int, left_out: Published | None = None
           ) -> dict[str, tuple[set[int], set[int], set[int]]]:
    """Per key: every value of F, U and L that some world consistent with the digests gives it."""
    keys = list(unfiltered.cells)
    totals = [(f, u) for f in _range(chosen.total, k) for u in _range(unfiltered.total, k) if u >= f and (
        left_out is None or _fits(u - f, left_out.total, k))]
    top_f, top_l = max(f for f, _ in totals), max(u - f for f, u in totals)
    width = 2 * (top_l + 1)  # (sum F, sum L) is bit F * width + L: adding L never carries into F
    valid = sum(((1 << (top_l + 1)) - 1) << (a * width) for a in range(top_f + 1))
    options = {key: tuple((f, o) for f in range(top_f + 1) for o in range(top_l + 1)
                          if _fits(f, chosen.cells.get(key, 0), k) and _fits(f + o, unfiltered.cells[key], k)
                          and (not isinstance(chosen.cells.get(key), int) or o == 0 or o >= k)  # the rule
                          and (left_out is None or not isinstance(left_out.cells.get(key), int) or f == 0 or f >= k)
                          and (left_out is None or _fits(o, left_out.cells.get(key, 0), k))) for key in keys}
    found: dict[str, tuple[set[int], set[int], set[int]]] = {}
    answers: dict[tuple[tuple[int, int], ...], list[tuple[int, int]]] = {}
    for key in keys:  # cells with the same options (the many empty provinces) share one answer
        if options[key] not in answers:
            others = list(options.values())
            others.remove(options[key])
            reach = 1
            for choices in others:
                reach = sum_bits(reach, choices, width) & valid
            answers[options[key]] = [(f, o) for f, o in options[key] if any(
                tf >= f and tu - tf >= o and reach >> ((tf - f) * width + tu - tf - o) & 1 for tf, tu in totals)]
        fits = answers[options[key]]
        found[key] = ({f for f, _ in fits}, {f + o for f, o in fits}, {o for _, o in fits})
    return found


def _range(total: Shown, k: int) -> range:
    return range(total, total + 1) if isinstance(total, int) else range(k)


def sum_bits(reach: int, choices: tuple[tuple[int, int], ...], width: int) -> int:
    """Every (sum F, sum L) reachable by adding one of `choices` to one of `reach`."""
    out = 0
    for f, o in choices:
        out |= reach << (f * width + o)
    return out


def disclosed(unfiltered: Published, chosen: Published, k: int, left_out: Published | None = None) -> list[str]:
    """The counts the reader pins to 1..K-1 (as "key: F|U|L in [low, high]")."""
    won = []
    for key, values in worlds(unfiltered, chosen, k, left_out).items():
        for name, found in zip("FUL", values, strict=True):
            assert found, f"no world fits {key}: the digests contradict each other"
            if min(found) >= 1 and max(found) < k:
                won.append(f"{key}: {name} in [{min(found)}, {max(found)}]")
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
