"""`intake audit`: read and verify the hash-chained, signed log of admin actions."""

from __future__ import annotations

import json

import click

from intake.errors import IntakeError
from intake.settings import Settings
from intake.text.counts import count as counted


@click.group()
def audit() -> None:
    """Read and check the admin audit log."""


@audit.command("list")
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of one line an entry.")
def audit_list(as_json: bool) -> None:
    """Show every admin action recorded."""
    from intake.keys.audit import at_text, entries
    from intake.storage.instance import database

    with database(Settings.from_env()) as engine:
        rows = entries(engine)
    if as_json:
        click.echo(json.dumps([e.as_json() for e in rows], indent=2, ensure_ascii=False))
        return
    for e in rows:
        signed = "signed  " if e.signature else "unsigned"
        click.echo(f"{e.seq:>5}  {at_text(e.at)}  {signed}  {e.action:<14} {e.detail}")
    if not rows:
        click.echo("the audit log is empty", err=True)


@audit.command("verify")
def audit_verify() -> None:
    """Check the hash chain, the signatures, the checkpoint in the signed keyring, and that it was not rolled back."""
    from intake.keys.audit import entries, verify
    from intake.keys.keyring import load_keyring
    from intake.keys.trust import rollback_problems, trusted_signer
    from intake.storage.instance import database, require_instance

    settings = Settings.from_env()
    require_instance(settings)
    signer = trusted_signer(settings)
    keyring = load_keyring(settings.keys_dir, signer, require_active=False)
    checkpoint = keyring.extra.get("audit")
    with database(settings) as engine:
        problems = verify(engine, signer, checkpoint) + rollback_problems(engine, keyring)
        count = len(entries(engine))
    if problems:
        for p in problems:
            click.echo(f"seq {p.seq}: {p.kind}: {p.message}", err=True)
        raise IntakeError(f"the audit log fails verification ({len(problems)} problem"
                          f"{'s' if len(problems) != 1 else ''}): restore the database from a backup "
                          "and find out who changed it")
    last = f" up to entry {checkpoint['seq']} signed in the keyring" if checkpoint else ""
    click.echo(f"audit log ok: {counted(count, 'entry', 'entries')}, chain and signatures intact{last}", err=True)
