"""`intake-review list`: every case opened once, filtered, printed as a table or JSON, written as CSV."""

from __future__ import annotations

from pathlib import Path

from intake.errors import AlreadyExists, IntakeError
from intake.review.listing import dump_json
from intake.review.names import terminal_text
from intake.review.session import Session
from intake.review.terminal import echo, width
from intake.text.counts import count
from intake.triage.filters import Filters, select
from intake.triage.records import open_records


def list_records(session: Session, filters: Filters, as_json: bool, csv_file: Path | None) -> None:
    """Open every case, keep those the filters select, and print them (and write them to a new CSV file)."""
    from intake.triage.tags import normal_tags

    normal_tags(filters.tags)  # a bad --tag is refused before any passphrase is asked
    if csv_file is not None and csv_file.exists():
        raise AlreadyExists(f"{csv_file} already exists: choose a new file name for --csv")
    records = open_records(session, deep=bool(filters.search) or filters.has_files)
    chosen = select(records, filters)
    if as_json:
        from intake.triage.table import record_row

        echo(dump_json([record_row(r) for r in chosen]))
    else:
        from intake.triage.table import print_table

        print_table(chosen, width())
    if csv_file is not None:
        from intake.triage.csvfile import write_csv

        try:
            write_csv(chosen, csv_file)
        except FileExistsError:
            raise AlreadyExists(f"{csv_file} already exists: choose a new file name for --csv") from None
        except OSError as exc:
            raise IntakeError(f"cannot write {csv_file}: {exc.strerror or exc}") from None
    failed = sum(1 for r in chosen if not r.opened)
    shown = count(len(chosen), "case") + ("" if filters.empty else f" of {len(records)}")
    echo(f"{shown}, {failed} not opened" + (f"; written to {terminal_text(str(csv_file))}" if csv_file else "")
         if records else "no cases", err=True)
