"""The `intake` command: server and admin tasks. Only intake/cli/ knows click; the work lives in the domain."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import click

from intake.cli.errors import Dispatcher
from intake.cli.passphrase import PASSPHRASE_FILE, read_passphrase
from intake.cli.states import STATE
from intake.errors import AlreadyExists, IntakeError
from intake.settings import Settings
from intake.text.counts import count


@click.group(cls=Dispatcher, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="intake")
def main() -> None:
    """intake: a secure, anonymous incident-reporting intake service.

    \b
    Settings (environment variables; README.md lists them all):
      INTAKE_KEYRING_SIGNER  required by the server and every command that reads the
                             keyring: the intake-signer-1:... line `intake keys init`
                             printed, or a file holding it (docs/keys.md)
      INTAKE_INSTANCE        the instance folder (default ./instance)
      INTAKE_DATABASE_URL    default: SQLite intake.db in the instance folder
      INTAKE_KEYS_DIR        the public keyring's folder (default ./keys)
      INTAKE_SIGNING_KEY     default: <instance>/admin-signing.key
      INTAKE_ONION           the onion address, sent as Onion-Location
      INTAKE_PUBLIC_URL      the site's address, written in the offline kit
      INTAKE_SMTP_*          the mail server of `intake notify` (docs/deploy.md)
      INTAKE_TSA_URL         the RFC 3161 timestamping authority of `intake anchor`
    `intake demo` writes the first five for its instance into <instance>/demo.env.
    """


@main.command()
def init() -> None:
    """Create the instance folder and the database schema (safe to run again)."""
    from intake.storage.instance import init_instance

    settings = Settings.from_env()
    init_instance(settings)
    click.echo(f"instance ready in {settings.instance}", err=True)


@main.command("expire-uploads")
@click.option("--all", "every", is_flag=True,
              help="Delete every upload not completed yet, idle or not: only while the server is stopped "
                   "(after a crash), or it would cut uploads under way.")
def expire_uploads(every: bool) -> None:
    """Sweep abandoned uploads now: each run counts one idle sweep, as the server does every hour (docs/web.md)."""
    from intake.storage.db import connect
    from intake.storage.instance import require_database
    from intake.storage.lifecycle import expire_uploads as expire

    settings = Settings.from_env()
    require_database(settings)
    engine = connect(settings.database_url)
    try:
        click.echo(f"expired {count(expire(engine, every), 'abandoned upload')}", err=True)
    finally:
        engine.dispose()


@main.command("export-sealed")
@click.option("--out", "out_file", required=True, type=click.Path(dir_okay=False, path_type=Path),
              help="The bundle file to create (it must not exist yet).")
@click.option("--since", type=click.DateTime(formats=["%Y-%m-%d"]),
              help="Only cases received on or after this day (YYYY-MM-DD).")
def export_sealed(out_file: Path, since: dt.datetime | None) -> None:
    """Write the stored cases, still sealed, into one bundle file for `intake-review --bundle`."""
    from sqlalchemy.exc import SQLAlchemyError

    from intake.bundle.replies import import_identity
    from intake.bundle.write import export_sealed as write_bundle
    from intake.keys.audit import record
    from intake.storage.db import connect
    from intake.storage.instance import require_instance

    settings = Settings.from_env()
    require_instance(settings)
    engine = connect(settings.database_url)
    try:
        done = write_bundle(engine, out_file, since.date() if since else None,
                            import_identity(settings.instance).recipient)
        record(engine, "export-sealed", {"cases": len(done.refs), "sha256": done.sha256,
                                         "since": since.date().isoformat() if since else None})
    except FileExistsError:
        raise AlreadyExists(f"{out_file} already exists: choose a new file name") from None
    except OSError as exc:
        raise IntakeError(f"cannot write {out_file}: {exc.strerror or exc}") from None
    except (SQLAlchemyError, ValueError) as exc:
        reason = str(getattr(exc, "orig", None) or exc).splitlines()[0]
        raise IntakeError(f"cannot export the cases: {reason} (check INTAKE_DATABASE_URL and run "
                          "`intake init`); no bundle was written") from None
    finally:
        engine.dispose()
    click.echo(done.sha256)
    click.echo(f"wrote {done.path}: {count(len(done.refs), 'case')}, {done.size} bytes, still sealed; compare its "
               "SHA-256 "
               "(above, as `sha256sum` prints it) on the machine that reads it", err=True)


@main.command("import-replies")
@click.argument("replies_file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
def import_replies(replies_file: Path) -> None:
    """Store what an air-gapped reviewer did from a bundle: replies, status changes, notes, tags and custody entries
    (docs/bundle.md)."""
    from intake.bundle.importing import import_replies as run
    from intake.bundle.replies import import_identity
    from intake.keys.audit import record
    from intake.keys.trust import verified
    from intake.storage.instance import database

    settings = Settings.from_env()
    with database(settings) as engine:
        keyring = verified(settings, engine)  # signed by INTAKE_KEYRING_SIGNER, never older than one in use
        done = run(engine, replies_file, import_identity(settings.instance), keyring)
        record(engine, "import-replies", {"stored": done.stored["reply"], "notes": done.stored["note"],
                                          "tags": done.stored["tags"], "custody": done.stored["custody"],
                                          "already": done.already,
                                          "thread full": len(done.full), "state kept": len(done.kept)})
    already = f"{done.already} {'was' if done.already == 1 else 'were'} already stored"
    parts = [count(done.stored["reply"], "reply", "replies"), *(
        [count(done.stored["note"], "note")] if done.stored["note"] else []), *(
        [count(done.stored["tags"], "tag change")] if done.stored["tags"] else []), *(
        [count(done.stored["custody"], "custody entry", "custody entries")] if done.stored["custody"] else [])]
    click.echo(f"stored {', '.join(parts)} ({already})", err=True)
    for ref, asked, now in done.kept:
        click.echo(f"case {ref}: kept {now!r}, not {asked!r}: its state changed on the server since the bundle was "
                   "made (the note is stored; set the state again with `intake-review status` if it should be)",
                   err=True)
    if done.full:
        from intake.storage.threads import MAX_MESSAGES, MAX_THREAD_BYTES

        raise IntakeError(f"{count(len(done.full), 'reply', 'replies')} not stored, the thread being full (at most "
                          f"{MAX_MESSAGES} messages and {MAX_THREAD_BYTES >> 20} MiB a case): "
                          f"{', '.join(sorted(set(done.full)))}; every other reply was stored. Nothing more can be "
                          "added to those cases; their reporter can send a new report")


@main.command()
@click.option("--older-than", "days", type=click.IntRange(min=0), required=True, help="Age in days of cases to delete.")
@click.option("--status", type=STATE, help="Only cases with this status (in-review, in_review or \"in review\").")
@click.option("--dry-run", is_flag=True, help="List what would be deleted, and delete nothing.")
@PASSPHRASE_FILE
def purge(days: int, status: str | None, dry_run: bool, passphrase_file: Path | None) -> None:
    """Delete old cases for good (their files, notes and keys too), then reclaim the space."""
    from intake.storage.purge import find_old
    from intake.storage.purge import purge as delete_old

    settings = Settings.from_env()
    found = find_old(settings, days, status)
    for _, ref, received, case_status in found:
        click.echo(f"{ref}  {received.isoformat()}  {case_status}")
    which = f"{count(len(found), 'case')} received more than {days} days ago" + (
        f" with status {status!r}" if status else "")
    if dry_run:
        click.echo(f"dry run: would delete {which}", err=True)
        return
    if not found:
        click.echo(f"nothing to delete: {which}", err=True)
        return
    delete_old(settings, found, days, status, lambda: read_passphrase(passphrase_file, prompt="admin passphrase"))
    click.echo(f"deleted {which}, and reclaimed the space", err=True)


def _register() -> None:
    """Add the command groups that live in their own modules."""
    from intake.cli import audit, keys, operations, serve

    main.add_command(keys.keys)
    main.add_command(audit.audit)
    main.add_command(serve.serve)
    main.add_command(serve.demo)
    for command in (operations.check, operations.backup, operations.restore, operations.notify, operations.anchor):
        main.add_command(command)


_register()
