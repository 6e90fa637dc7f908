"""Searching a database and its files for anything from which an arrival time finer than the day can be read."""

from __future__ import annotations

import datetime as dt
import re
import struct

from sqlalchemy import Engine, MetaData, select

PG_EPOCH = 946684800
DIGITS = re.compile(rb"\d{7,20}")
CLOCK = re.compile(rb"\d{4}-\d{2}-\d{2}[ T]\d{2}:\d{2}")


def windows(start: float, end: float, slack: float) -> dict[str, tuple[int, int]]:
    """The range each way of writing a time in [start - slack, end + slack] gives, by unit."""
    lo, hi = start - slack, end + slack
    return {"seconds": (int(lo), int(hi) + 1), "milliseconds": (int(lo * 1e3), int(hi * 1e3) + 1),
            "microseconds": (int(lo * 1e6), int(hi * 1e6) + 1), "nanoseconds": (int(lo * 1e9), int(hi * 1e9) + 1),
            "minutes": (int(lo // 60), int(hi // 60)), "hours": (int(lo // 3600), int(hi // 3600)),
            "postgres microseconds": (int((lo - PG_EPOCH) * 1e6), int((hi - PG_EPOCH) * 1e6) + 1)}


def _number(value: int, spans: dict[str, tuple[int, int]]) -> list[str]:
    return [unit for unit, (lo, hi) in spans.items() if lo <= value <= hi]


def _common_prefix(a: bytes, b: bytes) -> bytes:
    n = 0
    while n < len(a) and a[n] == b[n]:
        n += 1
    return a[:n]


def scan_bytes(data: bytes, spans: dict[str, tuple[int, int]]) -> list[str]:
    """Times written in `data` as decimal text, clock text, or binary integers and doubles (both byte orders)."""
    found = [f"text {m.group().decode()}: {units}" for m in DIGITS.finditer(data)
             if (units := _number(int(m.group()), spans))]
    found += [f"clock text {m.group().decode()}" for m in CLOCK.finditer(data)]
    for unit, (lo, hi) in spans.items():
        for width, order in ((4, "big"), (6, "big"), (8, "big"), (4, "little"), (8, "little")):
            if not 0 <= lo < hi < 1 << (8 * width):
                continue
            a, b = lo.to_bytes(width, order), hi.to_bytes(width, order)
            if order == "big":
                prefix, at = _common_prefix(a, b), 0
            else:
                prefix, at = _common_prefix(a[::-1], b[::-1])[::-1], None
            if len(prefix) < 2:
                continue
            for m in re.finditer(re.escape(prefix), data):
                start = m.start() if at == 0 else m.end() - width
                if start >= 0 and lo <= int.from_bytes(data[start:start + width], order) <= hi:
                    found.append(f"{width}-byte {order}-endian {unit} at {start}")
    lo, hi = spans["seconds"]
    for fmt in (">d", "<d"):
        a, b = struct.pack(fmt, lo), struct.pack(fmt, hi)
        prefix = _common_prefix(a, b) if fmt == ">d" else _common_prefix(a[::-1], b[::-1])[::-1]
        for m in re.finditer(re.escape(prefix), data):
            start = m.start() if fmt == ">d" else m.end() - 8
            if start >= 0 and lo <= struct.unpack(fmt, data[start:start + 8])[0] <= hi:
                found.append(f"double {fmt} seconds at {start}")
    return found


def scan_rows(engine: Engine, spans: dict[str, tuple[int, int]]) -> list[str]:
    """Times in any value of any row of any table: datetimes with a time of day, numbers, text and bytes."""
    meta = MetaData()
    meta.reflect(engine)
    found = []
    with engine.connect() as conn:
        for table in meta.sorted_tables:
            for row in conn.execute(select(table)):
                for column, value in zip(table.columns, row, strict=True):
                    where = f"{table.name}.{column.name}"
                    if isinstance(value, dt.datetime):
                        found.append(f"{where}: datetime {value}")
                    elif isinstance(value, bool) or value is None:
                        continue
                    elif isinstance(value, int | float):
                        found += [f"{where}: {value} as {u}" for u in _number(int(value), spans)]
                    elif isinstance(value, str):
                        found += [f"{where}: {f}" for f in scan_bytes(value.encode(), spans)]
                    elif isinstance(value, bytes | memoryview):
                        found += [f"{where}: {f}" for f in scan_bytes(bytes(value), spans)]
    return found
