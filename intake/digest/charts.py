"""The SVG drawings of the index page, as numbers for the templates: timeline bars and the shaded map.

Nothing here is markup: the templates write every element and escape every text. A hidden count (shared
digest) never sets a bar's height or a shape's shade: it is drawn as every other hidden count is.
"""

from __future__ import annotations

from dataclasses import dataclass

from intake.digest.places import province_name, shapes
from intake.digest.tally import Breakdown, Cell

WIDTH, HEIGHT, HIDDEN_HEIGHT = 640.0, 150.0, 4.0
WIDEST_BAR, TICK_SPACE = 40.0, 64.0
LEVELS = 4


@dataclass(frozen=True)
class Bar:
    """One bar: where it is, its cell, and the axis label under it (or "")."""

    x: float
    y: float
    width: float
    height: float
    cell: Cell
    tick: str


@dataclass(frozen=True)
class Chart:
    """A bar chart of the dated cells of a breakdown; the other cells ("not given"...) listed beside it."""

    width: float
    height: float
    bars: list[Bar]
    others: list[Cell]


def dated(cell: Cell) -> bool:
    """Whether a cell is a point of the timeline (a month, a day, a week), not "not given" and the like."""
    return cell.key[:1].isdigit()


def bar_chart(breakdown: Breakdown, every_nth_tick: str) -> Chart:
    """Bars for the dated cells; a tick under the first bar and under each bar whose key ends `every_nth_tick`."""
    points = [c for c in breakdown.cells if dated(c)]
    top = max((c.count for c in points if not c.hidden), default=0) or 1
    step = min(WIDTH / max(len(points), 1), WIDEST_BAR)
    bars, last_tick = [], -TICK_SPACE
    for i, cell in enumerate(points):
        height = HIDDEN_HEIGHT if cell.hidden else HEIGHT * cell.count / top
        tick = cell.key if i * step - last_tick >= TICK_SPACE and (
            i == 0 or _ticks(cell.key, every_nth_tick, len(points))) else ""
        last_tick = i * step if tick else last_tick
        bars.append(Bar(round(i * step, 2), round(HEIGHT - height, 2), round(max(step - 1, 0.5), 2),
                        round(height, 2), cell, tick))
    return Chart(WIDTH, HEIGHT, bars, [c for c in breakdown.cells if not dated(c)])


def _ticks(key: str, every: str, count: int) -> bool:
    if every == "month":  # months: each January (and every month if there are few)
        return count <= 12 or key.endswith("-01")
    if count <= 14:  # days or weeks: each one if few, else the first of each month (weeks: the first week)
        return True
    return key.endswith("-01") if count > 120 else int(key[8:]) <= 7 if every == "week" else key[8:] in ("01", "15")


@dataclass(frozen=True)
class Shape:
    """One province on the map: its code, name, path, shade level (0 none, 1-4, or -1 hidden) and cell."""

    code: str
    name: str
    path: str
    level: int
    cell: Cell | None


@dataclass(frozen=True)
class Country:
    """One country's drawing."""

    code: str
    view_box: str
    shapes: list[Shape]


def country_maps(provinces: Breakdown, lang: str) -> list[Country]:
    """Each country's provinces, shaded by their count relative to the largest shown count."""
    cells = {c.key: c for c in provinces.cells}
    top = max((c.count for c in provinces.cells if not c.hidden), default=0) or 1
    drawn = []
    for code, country in shapes().items():
        items = []
        for key, path in country["shapes"].items():  # type: ignore[union-attr]
            cell = cells.get(key)
            level = -1 if cell is not None and cell.hidden else 0 if cell is None or not cell.count else max(
                1, -(-LEVELS * cell.count // top))
            items.append(Shape(key, province_name(key, lang) or key, path, level, cell))
        drawn.append(Country(code, str(country["view_box"]), items))
    return drawn
