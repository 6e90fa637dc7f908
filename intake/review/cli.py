"""The `intake-review` command: open, read and export cases with a reviewer's identity."""

from __future__ import annotations

from pathlib import Path

import click

from intake.crypto.errors import CryptoError
from intake.review.errors import from_crypto


class Session:
    """What every command needs: the unlocked identities and the source of cases."""

    def __init__(self, identities: list, source: object) -> None:
        self.identities = identities
        self.source = source


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--identity", "identity_files", multiple=True, required=True,
              type=click.Path(dir_okay=False, path_type=Path), envvar="INTAKE_REVIEW_IDENTITY",
              help="Your identity file (NAME.key), or a recovery sheet; repeat for an old and a new key.",
              show_envvar=True)
@click.option("--passphrase-file", type=click.Path(dir_okay=False, path_type=Path),
              help="Read the passphrase from the first line of FILE instead of asking.")
@click.option("--db", "db_url", envvar="INTAKE_DATABASE_URL", show_envvar=True,
              help="Database URL of the server (sqlite:///... or postgresql+psycopg://...).")
@click.pass_context
def main(ctx: click.Context, identity_files: tuple[Path, ...], passphrase_file: Path | None,
         db_url: str | None) -> None:
    """intake-review: read the cases sealed to your key, on the server's database or air-gapped."""
    from intake.crypto.keyfile import read_identities
    from intake.passphrase import read_passphrase

    if not db_url:
        raise click.UsageError("say where the cases are: --db URL")
    try:
        identities, plain = read_identities(identity_files, lambda: read_passphrase(passphrase_file))
    except CryptoError as exc:
        raise from_crypto(exc) from None
    for path in plain:
        click.echo(f"warning: {path} is an unencrypted recovery identity: use it offline, then lock it away", err=True)
    from intake.review.source import DatabaseSource

    ctx.obj = Session(identities, DatabaseSource(db_url))


@main.command("list")
@click.option("--json", "as_json", is_flag=True, help="Print a JSON array instead of a table.")
@click.pass_obj
def list_cases(session: Session, as_json: bool) -> None:
    """List every case, and whether your keys open it."""
    from intake.review.listing import case_row, print_rows

    print_rows((case_row(case, session.identities) for case in session.source.cases()), as_json)

