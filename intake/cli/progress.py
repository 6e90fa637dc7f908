"""`intake keys rewrap` at the terminal: verify the keyring, unlock the identities, a progress bar, the tally."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path

import click

from intake.errors import IntakeError
from intake.keys.rewrap import Outcome
from intake.settings import Settings
from intake.text.counts import count


def rewrap_with_progress(settings: Settings, identity_files: Sequence[Path], passphrase: Callable[[], bytes],
                         jobs: int | None) -> Outcome:
    """Rewrap every stored case with a progress bar on stderr, record it in the audit log, and report."""
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

    from intake.crypto.keyfile import read_identities
    from intake.keys import audit
    from intake.keys.rewrap import rewrap
    from intake.keys.trust import verified
    from intake.storage.cases import count_headers
    from intake.storage.instance import database

    with database(settings) as engine:
        keyring = verified(settings, engine)  # never an older keyring than one in use, never another signer
    identities, plain = read_identities(identity_files, passphrase)
    for path in plain:
        click.echo(f"warning: {path} is an unencrypted recovery identity: lock it away again after use", err=True)
    click.echo(f"sealing every stored case to {', '.join(k.name for k in keyring.active)}"
               f"{' and the recovery key' if keyring.recovery else ''} (keyring {keyring.fingerprint}, "
               f"serial {keyring.serial})", err=True)
    with database(settings) as engine:
        columns = (TextColumn("rewrap"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn())
        # No refresh thread: the worker processes are forked from a process with one thread.
        with Progress(*columns, console=Console(stderr=True), auto_refresh=False) as bar:
            task = bar.add_task("rewrap", total=count_headers(engine))

            def advance(n: int) -> None:
                bar.advance(task, n)
                bar.refresh()

            outcome = rewrap(engine, identities, keyring.recipients(), jobs, advance)
        audit.record(engine, "keys rewrap", {**outcome.as_json(), "key_ids": keyring.key_ids})
    click.echo(f"rewrapped {outcome.rewrapped}, already current {outcome.current}, changed meanwhile "
               f"{outcome.changed_meanwhile}, could not open {len(outcome.failed)}", err=True)
    if outcome.failed:
        for line in outcome.failed[:20]:
            click.echo(f"  {line}", err=True)
        more = f" (and {len(outcome.failed) - 20} more)" if len(outcome.failed) > 20 else ""
        raise IntakeError(f"{count(len(outcome.failed), 'case or note', 'cases or notes')} could not be opened{more}: "
                          "run rewrap again "
                          "with an --identity that opens them (another reviewer's, or the recovery sheet)")
    if outcome.changed_meanwhile:
        click.echo("some cases changed while rewrap ran: run it again to finish them", err=True)
    return outcome
