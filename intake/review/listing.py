"""`intake-review list`: one row per case, opened with the reviewer's identities."""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence

import click

from intake.crypto.errors import CryptoError
from intake.crypto.keys import Identity
from intake.crypto.report import open_report
from intake.storage.cases import Case


def case_row(case: Case, identities: Sequence[Identity]) -> dict[str, object]:
    """Open one case's header and body; a failure becomes the row's `error`, never an exception."""
    row: dict[str, object] = {"id": case.ref, "received": case.received.isoformat(), "status": case.status,
                              "sealed_by": case.sealed_by, "incident_type": None, "opened": False, "error": None,
                              "key_id": None, "attachments": len(case.lengths), "attachment_bytes": sum(case.lengths)}
    try:
        report = open_report(case.header, case.body, len(case.lengths), identities)
    except CryptoError as exc:
        row["error"] = f"{exc.expect}: {exc}"
        return row
    row.update(opened=True, key_id=report.opened.key_id, incident_type=report.body.fields.get("incident_type"),
               attachment_bytes=sum(a.size for a in report.body.attachments))
    return row


def print_rows(rows: Iterable[dict[str, object]], as_json: bool) -> None:
    """Print rows as a JSON array, or as a table on a terminal."""
    rows = list(rows)
    if as_json:
        click.echo(json.dumps(rows, indent=2, ensure_ascii=False))
        return
    from rich.console import Console
    from rich.table import Table

    table = Table("case", "received", "type", "status", "files", "size", "opened by", box=None)
    for row in rows:
        opened = str(row["key_id"])[:16] if row["opened"] else f"[red]{row['error']}[/red]"
        table.add_row(str(row["id"]), str(row["received"]), str(row["incident_type"] or "-"), str(row["status"]),
                      str(row["attachments"]), _size(int(row["attachment_bytes"])), opened)
    Console(markup=True, highlight=False).print(table)
    if not rows:
        click.echo("no cases", err=True)


def _size(n: int) -> str:
    for unit in ("B", "KiB", "MiB", "GiB"):
        if n < 1024 or unit == "GiB":
            return f"{n} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024
    return str(n)
