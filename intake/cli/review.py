"""The `intake-review` command: open, read and export cases with a reviewer's identity (docs/review.md)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import click

from intake.cli.errors import Dispatcher, Failure
from intake.review.errors import FAILED, ReviewError
from intake.review.session import Session
from intake.storage.cases import STATUSES

DATE = click.DateTime(formats=["%Y-%m-%d"])


def keyring_options(command):  # noqa: ANN001, ANN201 - a click decorator
    """--keys-dir and --signer: the verified keyring that notes and replies are sealed to."""
    command = click.option("--signer", envvar="INTAKE_SIGNER", show_envvar=True,
                           help="The admin's intake-signer-1:... key the keyring must be signed by "
                                "(default: INTAKE_KEYRING_SIGNER, as the server pins it).")(command)
    return click.option("--keys-dir", type=click.Path(file_okay=False, path_type=Path), envvar="INTAKE_KEYS_DIR",
                        default=Path("keys"), show_default=True, show_envvar=True,
                        help="Folder holding keyring.json.")(command)


def pinned_signer(signer: str | None):  # noqa: ANN201 - a signer, or a function that reads the pinned one
    """The --signer given, or (read only when needed) the signer the server pins, INTAKE_KEYRING_SIGNER."""
    from intake.keys.trust import trusted_signer
    from intake.settings import Settings

    return signer or (lambda: trusted_signer(Settings.from_env()))


class ReviewGroup(Dispatcher):
    """Prints `intake-review: what happened; what to do next` and the error's exit code (docs/review.md)."""

    prefix = "intake-review: "

    def invoke(self, ctx: click.Context) -> object:
        """Run the command; a database failure is a known error too."""
        from sqlalchemy.exc import SQLAlchemyError

        try:
            return super().invoke(ctx)
        except SQLAlchemyError as exc:
            reason = str(getattr(exc, "orig", None) or exc).splitlines()[0]
            error = ReviewError(f"cannot read the database: {reason}",
                                "check --db, and that the server ran `intake init`", FAILED)
            raise Failure(self.prefix + error.text(), error.exit_code) from None


def _ask(prompt: str) -> bytes:
    """Ask for a passphrase on the terminal, without echo."""
    return click.prompt(prompt, hide_input=True, err=True).encode()


def _date(value: dt.datetime | None) -> dt.date | None:
    return value.date() if value else None


@click.group(cls=ReviewGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--identity", "identity_files", multiple=True, type=click.Path(dir_okay=False, path_type=Path),
              help="Your identity file (NAME.key); repeat it for an old and a new key.")
@click.option("--passphrase-file", type=click.Path(dir_okay=False, path_type=Path),
              help="Read passphrases from FILE (one a line, each tried on every identity) instead of asking.")
@click.option("--db", "db_url", envvar="INTAKE_DATABASE_URL", show_envvar=True,
              help="Database URL of the server (sqlite:///PATH or postgresql+psycopg://...).")
@click.option("--bundle", type=click.Path(dir_okay=False, path_type=Path),
              help="A bundle made by `intake export-sealed`, read with no database and no network.")
@click.version_option(package_name="intake")
@click.pass_context
def main(ctx: click.Context, identity_files: tuple[Path, ...], passphrase_file: Path | None,
         db_url: str | None, bundle: Path | None) -> None:
    """intake-review: read the cases sealed to your key, on the server's database or air-gapped.

    Your identity files are unlocked once per run. Attachments come from strangers: treat them as hostile.
    """
    interactive = click.get_text_stream("stdin").isatty()
    ctx.obj = Session(identity_files, passphrase_file, None if bundle else db_url, bundle,
                      _ask if interactive else None)


@main.command("list")
@click.option("--json", "as_json", is_flag=True, help="Print a JSON array instead of a table.")
@click.option("--status", type=click.Choice(STATUSES), help="Only cases in this state.")
@click.option("--since", type=DATE, help="Only cases received on or after this day (YYYY-MM-DD).")
@click.pass_obj
def list_cases(session: Session, as_json: bool, status: str | None, since: dt.datetime | None) -> None:
    """List the cases, and which of your keys opens each."""
    from intake.review.listing import case_row, print_rows

    identities = session.identities
    unread = session.source.unread()
    print_rows(({**case_row(case, identities, session.key_name), "unread": case.ref in unread}
                for case in session.source.cases(status, _date(since))), as_json)


@main.command()
@click.argument("case")
@click.option("--json", "as_json", is_flag=True, help="Print a JSON object instead of text.")
@click.pass_obj
def show(session: Session, case: str, as_json: bool) -> None:
    """Show a case: its fields, attachments (checked, with their metadata), notes and thread (files listed).

    Showing a thread on the database marks the reporter's messages in it read.
    """
    from intake.review.show import show_case

    show_case(session, case, as_json)


@main.command()
@click.argument("case")
@click.option("--out", "out_dir", required=True, type=click.Path(file_okay=False, path_type=Path),
              help="Folder to write report.json, the attachments and thread/ (the messages' files) into "
                   "(made if missing).")
@click.option("--keep-metadata", is_flag=True, help="Keep every file byte for byte, metadata and all.")
@click.pass_obj
def export(session: Session, case: str, out_dir: Path, keep_metadata: bool) -> None:
    """Export a case into DIR: report.json, its attachments and its thread's files, checked, metadata removed."""
    from intake.review.export import export_case

    export_case(session, case, out_dir, keep_metadata)


@main.command()
@click.argument("case")
@click.argument("number", type=click.IntRange(min=1))
@click.pass_obj
def cat(session: Session, case: str, number: int) -> None:
    """Write attachment NUMBER of a case, as sealed, to a pipe or a file (never to a terminal)."""
    from intake.review.catout import cat_attachment

    cat_attachment(session, case, number)


@main.command()
@click.argument("case")
@click.argument("state", type=click.Choice(STATUSES))
@click.option("--note", help="A note for the team, sealed to the active keyring.")
@keyring_options
@click.pass_obj
def status(session: Session, case: str, state: str, note: str | None, keys_dir: Path, signer: str | None) -> None:
    """Set a case's triage STATE (on --db only); a --note is sealed, never stored in clear."""
    from intake.review.triage import set_status

    set_status(session, case, state, note, keys_dir, pinned_signer(signer))


@main.command()
@click.argument("case")
@click.option("--text", help="The reply, as the reporter will read it.")
@click.option("--file", "text_file", type=click.File("r", encoding="utf-8"),
              help="Read the reply from FILE (- for stdin).")
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path),
              help="With --bundle: the replies file to add the reply to, for `intake import-replies FILE`.")
@keyring_options
@click.pass_obj
def reply(session: Session, case: str, text: str | None, text_file, out: Path | None, keys_dir: Path,
          signer: str | None) -> None:
    """Seal a reply to the reporter of CASE and to the team; the reporter reads it with the codename."""
    from intake.errors import UsageProblem
    from intake.review.thread import reply_to_case

    if (text is None) == (text_file is None):
        raise UsageProblem("give the reply with --text TEXT or --file FILE (one of them)")
    reply_to_case(session, case, text if text is not None else text_file.read(), keys_dir,
                  pinned_signer(signer), out)
