"""The `intake-review` command: open, read and export cases with a reviewer's identity (docs/review.md)."""

from __future__ import annotations

from pathlib import Path

import click

from intake.cli.errors import Dispatcher, Failure
from intake.cli.filtering import filter_options
from intake.cli.states import STATE
from intake.review.errors import FAILED, ReviewError
from intake.review.session import Session


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


SHARED = "intake.review.shared"


def _remember(ctx: click.Context, param: click.Parameter, value: object) -> object:
    """Keep a shared option's value wherever it was given: a value typed on the command line wins over the
    environment or a default; typed both before and after the subcommand, --identity adds up, others must agree."""
    from click.core import ParameterSource

    given = ctx.find_root().meta.setdefault(SHARED, {})
    typed = ctx.get_parameter_source(param.name) is ParameterSource.COMMANDLINE
    old = given.get(param.name)
    if old is None or (typed and not old[1]):
        given[param.name] = (value, typed)
    elif typed and param.multiple:
        given[param.name] = (old[0] + value, True)
    elif typed and value != old[0]:
        raise click.BadParameter(f"given twice with different values ({old[0]} and {value}): give it once", ctx, param)
    return value


def shared_options(command):  # noqa: ANN001, ANN201 - a click decorator
    """The options every command shares, accepted before the subcommand or after it (docs/review.md)."""
    def opt(*names: str, **settings: object):  # noqa: ANN202 - a click decorator
        return click.option(*names, expose_value=False, callback=_remember, **settings)

    options = [
        opt("--identity", "identity_files", multiple=True, type=click.Path(dir_okay=False, path_type=Path),
            help="Your identity file (NAME.key); repeat it for an old and a new key."),
        opt("--passphrase-file", type=click.Path(dir_okay=False, path_type=Path),
            help="Read passphrases from FILE (one a line, each tried on every identity) instead of asking."),
        opt("--db", "db_url", envvar="INTAKE_DATABASE_URL", show_envvar=True,
            help="Database URL of the server (sqlite:///PATH or postgresql+psycopg://...)."),
        opt("--bundle", type=click.Path(dir_okay=False, path_type=Path),
            help="A bundle made by `intake export-sealed`, read with no database and no network."),
        opt("--keys-dir", type=click.Path(file_okay=False, path_type=Path), envvar="INTAKE_KEYS_DIR",
            default=Path("keys"), show_default=True, show_envvar=True,
            help="Folder holding keyring.json (the keyring notes and replies are sealed to)."),
        opt("--signer", envvar="INTAKE_SIGNER", show_envvar=True,
            help="The admin's intake-signer-1:... key the keyring must be signed by "
                 "(default: INTAKE_KEYRING_SIGNER, as the server pins it)."),
    ]
    for option in reversed(options):
        command = option(command)
    return command


def _given(ctx: click.Context) -> dict[str, object]:
    """The shared options: typed on the command line, else the reviewer profile's (review/profile.py), else the
    environment's or the default."""
    root = ctx.find_root()
    if "intake.review.settings" in root.meta:
        return root.meta["intake.review.settings"]
    from intake.review.profile import check_signer, load_profile

    stored = root.meta.get(SHARED, {})
    typed = {name for name, (_, was_typed) in stored.items() if was_typed}
    values = {name: value for name, (value, _) in stored.items()}
    profile = load_profile()
    if "signer" not in typed:
        check_signer(profile)
    for name, value in (("identity_files", profile.identity), ("passphrase_file", profile.passphrase_file),
                        ("keys_dir", profile.keys_dir), ("signer", profile.signer)):
        if name not in typed and value:
            values[name] = value
    if not {"db_url", "bundle"} & typed and (profile.db or profile.bundle):
        values["db_url"], values["bundle"] = profile.db, profile.bundle
    values["replies"] = profile.replies
    root.meta["intake.review.settings"] = values
    return values


def replies_file(out: Path | None) -> Path | None:
    """--out, else the profile's replies file."""
    return out or _given(click.get_current_context()).get("replies")  # type: ignore[return-value]


def session_command(command):  # noqa: ANN001, ANN201 - a click decorator
    """Give the command the Session made from the shared options, wherever they were typed."""
    import functools

    @functools.wraps(command)
    def run(*args: object, **kwargs: object) -> object:
        given = _given(click.get_current_context())
        interactive = click.get_text_stream("stdin").isatty()
        session = Session(tuple(given.get("identity_files") or ()), given.get("passphrase_file"),
                          None if given.get("bundle") else given.get("db_url"), given.get("bundle"),
                          _ask if interactive else None, keyring_at=keyring_given())
        return command(session, *args, **kwargs)

    return shared_options(run)


def keyring_given() -> tuple[Path, object]:
    """The --keys-dir and the signer (--signer, else the pinned one, read only when needed)."""
    given = _given(click.get_current_context())
    return given.get("keys_dir") or Path("keys"), pinned_signer(given.get("signer"))


def custody(required: bool = False, replies: Path | None = None):  # noqa: ANN201 - an evidence.record.Custody
    """Where this command's custody entry is sealed: the keyring of --keys-dir, verified as for notes; on a bundle,
    into the replies file (--out, else the profile's)."""
    from intake.evidence.record import Custody

    return Custody(*keyring_given(), required=required, replies=replies_file(replies))


@click.group(cls=ReviewGroup, context_settings={"help_option_names": ["-h", "--help"]})
@shared_options
@click.version_option(package_name="intake")
def main() -> None:
    """intake-review: read the cases sealed to your key, on the server's database or air-gapped.

    Your identity files are unlocked once per run. Attachments come from strangers: treat them as hostile.
    The options --identity, --passphrase-file, --db, --bundle, --keys-dir and --signer go before or after
    the command.
    """


@main.command("list")
@click.option("--json", "as_json", is_flag=True, help="Print a JSON array instead of a table.")
@click.option("--csv", "csv_file", type=click.Path(dir_okay=False, path_type=Path),
              help="Also write the cases listed into this new CSV file (plaintext: keep it on the reviewing "
                   "machine).")
@filter_options
@session_command
def list_cases(session: Session, as_json: bool, csv_file: Path | None, filters) -> None:  # noqa: ANN001
    """List the cases, newest day first, and which of your keys opens each; filters combine."""
    from intake.triage.listing import list_records

    list_records(session, filters, as_json, csv_file)


@main.command()
@click.argument("case")
@click.option("--json", "as_json", is_flag=True, help="Print a JSON object instead of text.")
@session_command
def show(session: Session, case: str, as_json: bool) -> None:
    """Show a case: its fields, attachments (checked, with their metadata), notes and thread (files listed).

    Showing a thread on the database marks the reporter's messages in it read.
    """
    from intake.review.show import show_case

    show_case(session, case, as_json, custody())


@main.command()
@click.argument("case")
@click.option("--out", "out_dir", required=True, type=click.Path(file_okay=False, path_type=Path),
              help="Folder to write report.json, the attachments and thread/ (the messages' files) into "
                   "(made if missing).")
@click.option("--keep-metadata", is_flag=True, help="Keep every file byte for byte, metadata and all.")
@click.option("--metadata-out", type=click.Path(dir_okay=False, path_type=Path),
              help="Write the metadata found in the originals (GPS, serials, names: sensitive) to this new file, "
                   "outside DIR. Without it, the values are written nowhere (`show` prints them).")
@session_command
def export(session: Session, case: str, out_dir: Path, keep_metadata: bool, metadata_out: Path | None) -> None:
    """Export a case into DIR: report.json, its attachments and its thread's files, checked, metadata removed."""
    from intake.review.export import export_case

    export_case(session, case, out_dir, keep_metadata, metadata_out, custody())


@main.command()
@click.argument("case")
@click.argument("number", type=click.IntRange(min=1))
@session_command
def cat(session: Session, case: str, number: int) -> None:
    """Write attachment NUMBER of a case, as sealed, to a pipe or a file (never to a terminal)."""
    from intake.review.catout import cat_attachment

    cat_attachment(session, case, number)


@main.command()
@click.argument("case")
@click.argument("state", type=STATE)
@click.option("--note", help="A note for the team, sealed to the active keyring.")
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path),
              help="With --bundle: the replies file to add the change to, for `intake import-replies FILE`.")
@session_command
def status(session: Session, case: str, state: str, note: str | None, out: Path | None) -> None:
    """Set a case's triage STATE (in-review, in_review or "in review"); a --note is sealed to the keyring."""
    from intake.review.triage import set_status

    set_status(session, case, state, note, *keyring_given(), replies_file(out), custody(replies=out))


@main.command()
@click.argument("case")
@click.argument("tags", nargs=-1)
@click.option("--remove", multiple=True, metavar="TAG", help="A tag to take off the case (repeat it).")
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path),
              help="With --bundle: the replies file to add the change to, for `intake import-replies FILE`.")
@session_command
def tag(session: Session, case: str, tags: tuple[str, ...], remove: tuple[str, ...], out: Path | None) -> None:
    """Add TAGS to a case (and --remove others), sealed to the keyring: the server sees no tag name.

    A tag is one word of letters and digits of any script (Khmer and Burmese too) and - _ . : / # + &,
    at most 40 characters, compared without case (docs/review.md "Tags").
    """
    from intake.triage.tagging import set_tags

    set_tags(session, case, tags, remove, *keyring_given(), replies_file(out))


@main.command()
@click.argument("case")
@click.option("--text", help="The reply, as the reporter will read it.")
@click.option("--file", "text_file", type=click.File("r", encoding="utf-8"),
              help="Read the reply from FILE (- for stdin).")
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path),
              help="With --bundle: the replies file to add the reply to, for `intake import-replies FILE`.")
@session_command
def reply(session: Session, case: str, text: str | None, text_file, out: Path | None) -> None:
    """Seal a reply to the reporter of CASE and to the team; the reporter reads it with the codename."""
    from intake.errors import UsageProblem
    from intake.review.thread import reply_to_case

    if (text is None) == (text_file is None):
        raise UsageProblem("give the reply with --text TEXT or --file FILE (one of them)")
    reply_to_case(session, case, text if text is not None else text_file.read(), *keyring_given(),
                  replies_file(out))


def _register() -> None:
    """Add the commands that live in their own modules."""
    from intake.cli import evidence, overview, publish

    main.add_command(evidence.evidence)
    main.add_command(evidence.verify)
    main.add_command(publish.publish)
    main.add_command(overview.digest)
    main.add_command(overview.desk)


_register()
