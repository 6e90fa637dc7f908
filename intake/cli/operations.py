"""`intake check | backup | restore | notify | anchor`: running a deployment (the work lives in intake/operations/)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import TYPE_CHECKING

import click

from intake.settings import Settings
from intake.text.counts import count

if TYPE_CHECKING:
    from intake.anchor.day import Outcome


@click.command()
def check() -> None:
    """Inspect this deployment: keyring, schema, permissions, disk, settings; exit 1 if anything must be fixed."""
    from intake.operations import OperationError
    from intake.operations.check import run_checks

    findings = run_checks(Settings.from_env())
    for finding in findings:
        click.echo(finding.line())
    failed = sum(f.level == "FAIL" for f in findings)
    if failed:
        raise OperationError(f"{count(failed, 'check')} failed: fix the FAIL lines above, then run `intake check` "
                             "again")
    click.echo("every check passed", err=True)


@click.command()
@click.option("--out", "out_file", required=True, type=click.Path(dir_okay=False, path_type=Path),
              help="The backup file to create (it must not exist yet).")
def backup(out_file: Path) -> None:
    """Write a consistent copy of the sealed data (no private key, no unfinished upload) while the server runs."""
    from intake.keys.audit import record
    from intake.operations.backup import backup as run
    from intake.storage.db import connect
    from intake.storage.instance import require_database

    settings = Settings.from_env()
    require_database(settings)
    done = run(settings.database_url, out_file)
    engine = connect(settings.database_url)
    try:
        record(engine, "backup", {"cases": done.cases, "revision": done.revision})
    finally:
        engine.dispose()
    click.echo(f"wrote {out_file}: {count(done.cases, 'case')}, schema {done.revision}; copy it off this machine",
               err=True)


@click.command()
@click.argument("backup_file", type=click.Path(dir_okay=False, exists=True, path_type=Path))
def restore(backup_file: Path) -> None:
    """Fill a new, empty instance from a backup file, then upgrade it to the newest schema."""
    from sqlalchemy.engine import make_url

    from intake.operations.backup import restore as run

    settings = Settings.from_env()
    settings.instance.mkdir(mode=0o700, parents=True, exist_ok=True)
    done = run(settings.database_url, backup_file)
    where = make_url(settings.database_url).render_as_string(hide_password=True)
    click.echo(f"restored {count(done.cases, 'case')} into {where}; now restore keys/ and the "
               "admin signing key, then run `intake check`", err=True)


@click.command()
def notify() -> None:
    """Tell each reviewer (notify.json) whether anything arrived since the last notice; at most once a day."""
    from intake.operations.notify import notify as run
    from intake.operations.notify import require_settings
    from intake.storage.db import connect
    from intake.storage.instance import require_instance

    settings = Settings.from_env()
    require_instance(settings)
    require_settings(settings)
    engine = connect(settings.database_url)
    try:
        sent = run(settings, engine)
    finally:
        engine.dispose()
    click.echo(f"sent the daily notice to {sent} reviewer(s)" if sent else "today's notice was already sent", err=True)


@click.command()
@click.option("--day", type=click.DateTime(formats=["%Y-%m-%d"]),
              help="The day to anchor (YYYY-MM-DD, UTC); default: yesterday, the day that has just ended, and any "
                   "earlier day a missed run left without an anchor or a timestamp. Today gives a partial anchor, "
                   "never timestamped.")
def anchor(day: dt.datetime | None) -> None:
    """Put a day's sealed cases and messages under one Merkle root, timestamped by INTAKE_TSA_URL if set."""
    from intake.anchor.day import anchor_day
    from intake.clock import today
    from intake.keys.audit import record
    from intake.storage.anchors import days_behind
    from intake.storage.instance import database

    settings = Settings.from_env()
    now = today()
    with database(settings) as engine:
        days = [day.date()] if day else days_behind(engine, now - dt.timedelta(days=1), bool(settings.tsa_url))
        for when in days:
            done = anchor_day(engine, when, now, settings.tsa_url)
            if not done.partial:  # the audit's time of day must not date what had arrived by then
                record(engine, "anchor", {"day": when.isoformat(), "root": done.root.hex(),
                                          "timestamped": done.stamped})
            click.echo(done.root.hex())
            click.echo(f"{when}: {said(done)}", err=True)


def said(done: Outcome) -> str:
    """What one day's run did, in a line."""
    if done.done_before:
        return "already anchored" + ("" if done.stamped else ", still without a timestamp (INTAKE_TSA_URL is unset)")
    return (f"anchored {count(done.items, 'item')} in {done.size} leaves"
            + (": partial, the day is still running (anchor it again once it has ended)" if done.partial else "")
            + ("" if done.partial or done.stamped else "; no timestamp: INTAKE_TSA_URL is unset"))
