"""`intake-review list`: one row per case, opened with the reviewer's identities."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Sequence

from intake.crypto.errors import CryptoError
from intake.crypto.keys import Identity
from intake.crypto.report import open_report
from intake.review.names import safe_json, terminal_text
from intake.review.terminal import echo
from intake.storage.cases import Case
from intake.text.counts import count


def case_row(case: Case, identities: Sequence[Identity], key_name: Callable[[str], str] = str) -> dict[str, object]:
    """Open one case's header and body; a failure becomes the row's `error`, never an exception."""
    row: dict[str, object] = {"id": case.ref, "received": case.received.isoformat(), "status": case.status,
                              "sealed_by": case.sealed_by, "incident_type": None, "opened": False, "error": None,
                              "reason": None, "key_id": None, "identity": None, "attachments": len(case.lengths),
                              "attachment_bytes": None}
    try:
        report = open_report(case.header, case.body, len(case.lengths), identities)
    except CryptoError as exc:
        row.update(error=exc.expect, reason=str(exc))
        return row
    except (ValueError, TypeError, RecursionError) as exc:  # a hostile case must never hide the others
        row.update(error="damaged case", reason=f"could not be read: {type(exc).__name__}")
        return row
    row.update(opened=True, key_id=report.opened.key_id, identity=key_name(report.opened.key_id),
               incident_type=report.body.fields.get("incident_type"),
               attachment_bytes=sum(a.size for a in report.body.attachments))
    return row


def dump_json(data: object) -> str:
    """JSON that keeps Khmer and Burmese readable but escapes every character that could drive a terminal."""
    return safe_json(json.dumps(data, indent=2, ensure_ascii=False))


def print_rows(rows: Iterable[dict[str, object]], as_json: bool) -> None:
    """Print rows as a JSON array, or as a table; a msg column marks "new" where the reporter wrote since `show`."""
    rows = list(rows)
    if as_json:
        echo(dump_json(rows))
        return
    from rich.console import Console
    from rich.table import Table
    from rich.text import Text

    marked = any(row.get("unread") for row in rows)
    table = Table("case", "received", "type", "status", "files", "size", "opened by", *(["msg"] if marked else []),
                  box=None)
    def cell(value: object) -> Text:
        return Text(terminal_text(str(value)))

    for row in rows:
        opened = cell(row["identity"]) if row["opened"] else Text(terminal_text(f"no: {row['error']}"), style="red")
        size = "?" if row["attachment_bytes"] is None else human_size(int(row["attachment_bytes"]))
        table.add_row(cell(row["id"]), cell(row["received"]), cell(row["incident_type"] or "-"), cell(row["status"]),
                      cell(row["attachments"]), Text(size), opened,
                      *([Text("new" if row.get("unread") else "", style="bold")] if marked else []))
    Console(highlight=False).print(table)
    failed = sum(1 for row in rows if not row["opened"])
    echo(f"{count(len(rows), 'case')}, {failed} not opened" if rows else "no cases", err=True)


def human_size(n: float) -> str:
    """A size in B, KiB, MiB or GiB."""
    for unit in ("B", "KiB", "MiB"):
        if n < 1024:
            return f"{int(n)} B" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024
    return f"{n:.1f} GiB"
