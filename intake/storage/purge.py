"""`intake purge`: delete old cases for good, audit-logged, with a dry run (docs/keys.md)."""

from __future__ import annotations

from pathlib import Path

import click

from intake.settings import Settings
from intake.storage.instance import database
from intake.storage.retention import delete_cases, old_cases, vacuum


def purge(settings: Settings, older_than: int, status: str | None, dry_run: bool, passphrase_file: Path | None) -> int:
    """Delete (or, in a dry run, list) complete cases older than `older_than` days; return how many."""
    from intake.keys.admin import admin_key, commit, current
    from intake.keys.keyring import unlock_signing_key
    from intake.cli.passphrase import read_passphrase

    with database(settings) as engine:
        found = old_cases(engine, older_than, status)
        for _, ref, received, case_status in found:
            click.echo(f"{ref}  {received.isoformat()}  {case_status}")
        which = f"{len(found)} case{'s' if len(found) != 1 else ''} received more than {older_than} days ago" + (
            f" with status {status!r}" if status else "")
        if dry_run:
            click.echo(f"dry run: would delete {which}", err=True)
            return len(found)
        if not found:
            click.echo(f"nothing to delete: {which}", err=True)
            return 0
        keyring = current(settings)
        key = unlock_signing_key(admin_key(settings), read_passphrase(passphrase_file, prompt="admin passphrase"))
        delete_cases(engine, [case_id for case_id, *_ in found])
        vacuum(engine)
        commit(settings, engine, keyring, key, "purge",
               {"older_than_days": older_than, "status": status, "cases": len(found)})
    click.echo(f"deleted {which}, and reclaimed the space", err=True)
    return len(found)
