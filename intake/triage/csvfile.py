"""`list --csv FILE`: one row per case with its structured fields, tags, status, day and language."""

from __future__ import annotations

import csv
import os
from collections.abc import Sequence
from pathlib import Path

from intake.review.names import terminal_text
from intake.triage.records import CaseRecord

COLUMNS = ("case", "received", "status", "incident_type", "province", "occurred_year", "occurred_month", "lang",
           "location", "tags", "attachments", "has_files", "unread", "opened", "error")
# a cell a spreadsheet would run as a formula (OWASP "CSV injection"), full-width forms too
FORMULA = tuple("=+-@\t\r") + tuple("\uff1d\uff0b\uff0d\uff20")
MAX_CELL = 32000  # a spreadsheet's cell holds 32,767 characters: a longer one would spill into the next


def inert(value: object) -> str:
    """A cell a spreadsheet shows as text: controls escaped, and a leading ' before what it would run."""
    text = terminal_text("" if value is None else str(value))
    text = text if len(text) <= MAX_CELL else text[:MAX_CELL - 1] + "…"
    return "'" + text if text.lstrip().startswith(FORMULA) else text  # after any blank: NBSP, ideographic...


def csv_rows(records: Sequence[CaseRecord]) -> list[list[str]]:
    """The header row, then one row per record, every cell inert."""
    rows = [list(COLUMNS)]
    for r in records:
        rows.append([inert(v) for v in (
            r.ref, r.received.isoformat(), r.status, r.incident_type, r.province, r.occurred_year, r.occurred_month,
            r.lang, r.value("location"), " ".join(r.tags), r.attachments, "yes" if r.has_files else "no",
            "yes" if r.unread else "no", "yes" if r.opened else "no", r.error)])
    return rows


def write_csv(records: Sequence[CaseRecord], path: Path) -> None:
    """Write the records into a new file (mode 0600; an existing file is never overwritten): FileExistsError."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8", newline="") as f:
        csv.writer(f).writerows(csv_rows(records))
