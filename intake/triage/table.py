"""Records as `list` prints them: a table for a terminal (every text escaped), or JSON rows."""

from __future__ import annotations

from collections.abc import Sequence

from intake.review.names import terminal_text
from intake.triage.records import CaseRecord

WIDE = 120  # from this many cells, the table adds the province and a snippet of the description
UNBOUNDED = 1 << 16  # the width of a table written to a file or a pipe: nothing is cut


def record_row(record: CaseRecord) -> dict[str, object]:
    """One record as `list --json` prints it (keys as before issue 21, then its structured fields and tags)."""
    return {"id": record.ref, "received": record.received.isoformat(), "status": record.status,
            "sealed_by": record.sealed_by, "incident_type": record.incident_type, "opened": record.opened,
            "error": record.error, "reason": record.reason, "key_id": record.key_id, "identity": record.identity,
            "attachments": record.attachments, "attachment_bytes": record.attachment_bytes,
            "unread": record.unread, "has_files": record.has_files, "province": record.province,
            "occurred_year": record.occurred_year, "occurred_month": record.occurred_month, "lang": record.lang,
            "tags": list(record.tags)}


def print_table(records: Sequence[CaseRecord], cells: int | None) -> None:
    """Print records as a table `cells` wide (None: no terminal, nothing cut); a reference is never cut."""
    from rich.console import Console
    from rich.table import Table
    from rich.text import Text

    from intake.review.listing import human_size

    wide = cells is None or cells >= WIDE
    marked = any(r.unread for r in records)
    table = Table(box=None, pad_edge=False)
    table.add_column("case", no_wrap=True, min_width=14)
    table.add_column("received", no_wrap=True, min_width=10)
    for name in ("type", "status", "files", "size", "tags", *(["province", "description"] if wide else []),
                 "opened by", *(["msg"] if marked else [])):
        table.add_column(name, overflow="fold" if name == "tags" else "ellipsis", no_wrap=name != "tags")

    def cell(value: object, style: str = "") -> Text:
        return Text(terminal_text(str(value)), style=style)

    for r in records:
        opened = cell(r.identity) if r.opened else cell(f"no: {r.error}", "red")
        size = "?" if r.attachment_bytes is None else human_size(r.attachment_bytes)
        table.add_row(cell(r.ref), cell(r.received.isoformat()), cell(r.incident_type or "-"), cell(r.status),
                      cell(r.attachments), cell(size), cell(" ".join(r.tags)),
                      *([cell(r.province or "-"), cell(r.snippet)] if wide else []), opened,
                      *([cell("new" if r.unread else "", "bold")] if marked else []))
    console = Console(highlight=False, width=cells or UNBOUNDED, soft_wrap=False, emoji=False, markup=False)
    if records:
        console.print(table, crop=False)
