"""The `intake` command: server and admin tasks. Each command's work lives in its own module."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import click

from intake.config import Settings
from intake.storage.cases import STATUSES

PASSPHRASE_FILE = click.option("--passphrase-file", type=click.Path(dir_okay=False, path_type=Path),
                               help="Read the passphrase from the first line of FILE instead of asking.")


class Intake(click.Group):
    """The command group; errors a user can cause become a clean message and exit 1, never a traceback."""

    def invoke(self, ctx: click.Context) -> object:
        """Run the command, turning known errors into their message."""
        from intake.crypto.errors import CryptoError
        from intake.keyring import KeyringError
        from intake.storage.cases import StorageError

        try:
            return super().invoke(ctx)
        except (CryptoError, KeyringError, StorageError) as exc:
            raise click.ClickException(str(exc)) from None


@click.group(cls=Intake, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="intake")
def main() -> None:
    """intake: a secure, anonymous incident-reporting intake service.

    Settings come from INTAKE_INSTANCE (default ./instance), INTAKE_DATABASE_URL (default SQLite in
    the instance folder), INTAKE_KEYS_DIR (default ./keys) and INTAKE_SIGNING_KEY (default
    <instance>/admin-signing.key).
    """


@main.command()
def init() -> None:
    """Create the instance folder and the database schema (safe to run again)."""
    from intake.instance import init_instance

    settings = Settings.from_env()
    init_instance(settings)
    click.echo(f"instance ready in {settings.instance}", err=True)


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", default=8000, show_default=True, type=click.IntRange(1, 65535), help="Port to listen on.")
def serve(host: str, port: int) -> None:
    """Serve the reporting site under gunicorn (no access log; refuses a keyring that does not verify)."""
    from intake.web.serve import serve as run

    run(host, port)


@main.command()
@click.option("--instance", type=click.Path(file_okay=False, path_type=Path), default=Path("demo"),
              show_default=True, help="Folder for the demo instance (database, keys, demo identity).")
@click.option("--port", default=8000, show_default=True, type=click.IntRange(1, 65535), help="Port on 127.0.0.1.")
def demo(instance: Path, port: int) -> None:
    """Create a demo instance with a demo reviewer key, print how to read its cases, and serve it."""
    from intake.demo import run_demo

    run_demo(instance, port)


@main.command("expire-uploads")
@click.option("--all", "every", is_flag=True,
              help="Delete every upload not completed yet, idle or not: only while the server is stopped "
                   "(after a crash), or it would cut uploads under way.")
def expire_uploads(every: bool) -> None:
    """Sweep abandoned uploads now: each run counts one idle sweep, as the server does every hour (docs/web.md)."""
    from intake.storage.cases import expire_uploads as expire
    from intake.storage.db import connect

    engine = connect(Settings.from_env().database_url)
    try:
        click.echo(f"expired {expire(engine, every)} abandoned uploads", err=True)
    finally:
        engine.dispose()


@main.group()
def keys() -> None:
    """Make and manage reviewer keys."""


@keys.command("new")
@click.argument("name")
@click.option("--out", "out_dir", type=click.Path(file_okay=False, path_type=Path), default=Path("."),
              show_default=True, help="Folder to write NAME.pub and NAME.key into.")
@PASSPHRASE_FILE
def keys_new(name: str, out_dir: Path, passphrase_file: Path | None) -> None:
    """Make a reviewer key pair: NAME.pub to share, NAME.key (passphrase-protected) to keep."""
    from intake.keygen import new_key_pair
    from intake.passphrase import read_passphrase

    passphrase = read_passphrase(passphrase_file, confirm=True, prompt="passphrase for the new key")
    pub, key, key_id = new_key_pair(name, out_dir, passphrase)
    click.echo(key_id)
    click.echo(f"wrote {pub} (share it with the admin) and {key} (keep it private, never commit it)", err=True)


@keys.command("init")
@PASSPHRASE_FILE
def keys_init(passphrase_file: Path | None) -> None:
    """Create the admin signing key (passphrase-protected) and an empty signed keyring."""
    from intake.keyadmin import init_keyring
    from intake.passphrase import read_passphrase

    signer = init_keyring(Settings.from_env(), read_passphrase(passphrase_file, confirm=True,
                                                               prompt="passphrase for the admin signing key"))
    click.echo(signer)
    click.echo("keyring created: add reviewer keys with `intake keys add NAME.pub`", err=True)


@keys.command("add")
@click.argument("pubfile", type=click.Path(dir_okay=False, exists=True, path_type=Path))
@click.option("--name", help="Reviewer name (default: the file name without .pub).")
@PASSPHRASE_FILE
def keys_add(pubfile: Path, name: str | None, passphrase_file: Path | None) -> None:
    """Add a reviewer's public key (NAME.pub) to the active keyring."""
    from intake.keyadmin import add_key
    from intake.passphrase import read_passphrase

    entry = add_key(Settings.from_env(), pubfile, name, read_passphrase(passphrase_file, prompt="admin passphrase"))
    click.echo(entry.key_id)
    click.echo(f"added {entry.name}: new reports are sealed to this key from now on", err=True)


@main.command("export-sealed")
@click.option("--out", "out_file", required=True, type=click.Path(dir_okay=False, path_type=Path),
              help="The bundle file to create (it must not exist yet).")
@click.option("--since", type=click.DateTime(formats=["%Y-%m-%d"]),
              help="Only cases received on or after this day (YYYY-MM-DD).")
def export_sealed(out_file: Path, since: dt.datetime | None) -> None:
    """Write the stored cases, still sealed, into one bundle file for `intake-review --bundle`."""
    from sqlalchemy.exc import SQLAlchemyError

    from intake.audit import record
    from intake.export_sealed import export_sealed as write_bundle
    from intake.storage.db import connect

    engine = connect(Settings.from_env().database_url)
    try:
        done = write_bundle(engine, out_file, since.date() if since else None)
        record(engine, "export-sealed", {"cases": len(done.refs), "sha256": done.sha256,
                                         "since": since.date().isoformat() if since else None})
    except FileExistsError:
        raise click.ClickException(f"{out_file} already exists: choose a new file name") from None
    except OSError as exc:
        raise click.ClickException(f"cannot write {out_file}: {exc.strerror or exc}") from None
    except (SQLAlchemyError, ValueError) as exc:
        reason = str(getattr(exc, "orig", None) or exc).splitlines()[0]
        raise click.ClickException(f"cannot export the cases: {reason} (check INTAKE_DATABASE_URL and run "
                                   "`intake init`); no bundle was written") from None
    finally:
        engine.dispose()
    click.echo(done.sha256)
    click.echo(f"wrote {done.path}: {len(done.refs)} cases, {done.size} bytes, still sealed; compare its SHA-256 "
               "(above, as `sha256sum` prints it) on the machine that reads it", err=True)


@keys.command("list")
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")
def keys_list(as_json: bool) -> None:
    """List every key, its status and how many stored cases it opens, and the keyring fingerprint."""
    from intake.keylist import print_listing

    print_listing(Settings.from_env(), as_json)


@keys.command("retire")
@click.argument("name")
@PASSPHRASE_FILE
def keys_retire(name: str, passphrase_file: Path | None) -> None:
    """Stop sealing new reports to NAME's active key (run `keys rewrap` to re-seal stored ones)."""
    from intake.keyadmin import retire_key
    from intake.passphrase import read_passphrase

    entry, stored = retire_key(Settings.from_env(), name, read_passphrase(passphrase_file, prompt="admin passphrase"))
    click.echo(entry.key_id)
    hint = f"{stored} stored cases still open with it: run `intake keys rewrap`" if stored else "it opens no case"
    click.echo(f"retired {name}'s key: new reports are no longer sealed to it; {hint}", err=True)


@keys.command("rotate")
@click.argument("name")
@click.option("--out", "out_dir", type=click.Path(file_okay=False, path_type=Path), default=Path("."),
              show_default=True, help="Folder to write the new NAME.pub and NAME.key into.")
@click.option("--pub", "pubfile", type=click.Path(dir_okay=False, exists=True, path_type=Path),
              help="Use the NAME.pub the reviewer made with `intake keys new` instead of making a key here.")
@click.option("--key-passphrase-file", type=click.Path(dir_okay=False, path_type=Path),
              help="Read the new key's passphrase from the first line of FILE instead of asking.")
@PASSPHRASE_FILE
def keys_rotate(name: str, out_dir: Path, pubfile: Path | None, key_passphrase_file: Path | None,
                passphrase_file: Path | None) -> None:
    """Give NAME a new active key and retire the old one (then run `keys rewrap`)."""
    from intake.keyadmin import rotate_key
    from intake.passphrase import read_passphrase

    admin = read_passphrase(passphrase_file, prompt="admin passphrase")
    secret = None if pubfile else read_passphrase(key_passphrase_file, confirm=True,
                                                  prompt=f"passphrase for {name}'s new key")
    old, new, written = rotate_key(Settings.from_env(), name, admin, out_dir, secret, pubfile)
    click.echo(new.key_id)
    if written:
        click.echo(f"wrote {written[0]} and {written[1]} (give the key file to {name}, never commit it)", err=True)
    click.echo(f"{name}: key {new.key_id} active, {old.key_id} retired; now run `intake keys rewrap` so the old "
               "key opens nothing stored", err=True)


@keys.command("rewrap")
@click.option("--identity", "identity_files", multiple=True, required=True,
              type=click.Path(dir_okay=False, path_type=Path),
              help="An identity file (or recovery sheet) that opens the stored cases; repeat as needed.")
@PASSPHRASE_FILE
@click.option("--jobs", type=click.IntRange(1, 64), help="Worker processes for the key work (default: one per CPU).")
def keys_rewrap(identity_files: tuple[Path, ...], passphrase_file: Path | None, jobs: int | None) -> None:
    """Re-seal every stored case to exactly the current keyring; safe to stop and run again."""
    from intake.rewrap import run

    run(Settings.from_env(), identity_files, passphrase_file, jobs)


@keys.command("recovery")
@click.option("--out", "out_dir", type=click.Path(file_okay=False, path_type=Path), default=Path("."),
              show_default=True, help="Folder for the recovery sheet (text and QR code): removable media.")
@click.option("--replace", "replace_old", is_flag=True, help="Replace the recovery key already set.")
@PASSPHRASE_FILE
def keys_recovery(out_dir: Path, replace_old: bool, passphrase_file: Path | None) -> None:
    """Make an offline recovery key that every new case (and every rewrap) is sealed to."""
    from intake.passphrase import read_passphrase
    from intake.recovery import make_recovery

    key_id, written = make_recovery(Settings.from_env(), out_dir, read_passphrase(passphrase_file,
                                                                                  prompt="admin passphrase"),
                                    replace_old)
    click.echo(key_id)
    click.echo(f"wrote {written[0]} and {written[1]}: print them, lock the paper away, then delete both files; "
               "run `intake keys rewrap` to add the recovery key to stored cases", err=True)


@main.command()
@click.option("--older-than", "days", type=click.IntRange(min=0), required=True, help="Age in days of cases to delete.")
@click.option("--status", type=click.Choice(STATUSES),
              help="Only cases with this status.")
@click.option("--dry-run", is_flag=True, help="List what would be deleted, and delete nothing.")
@PASSPHRASE_FILE
def purge(days: int, status: str | None, dry_run: bool, passphrase_file: Path | None) -> None:
    """Delete old cases for good (their files, notes and keys too), then reclaim the space."""
    from intake.purge import purge as run_purge

    run_purge(Settings.from_env(), days, status, dry_run, passphrase_file)


@main.group("audit")
def audit_group() -> None:
    """Read and check the admin audit log."""


@audit_group.command("list")
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of one line an entry.")
def audit_list(as_json: bool) -> None:
    """Show every admin action recorded."""
    from intake.audit import show
    from intake.instance import database

    with database(Settings.from_env()) as engine:
        show(engine, as_json)


@audit_group.command("verify")
def audit_verify() -> None:
    """Check the hash chain, the signatures and the checkpoint in the signed keyring."""
    from intake.audit import check
    from intake.instance import database
    from intake.keyadmin import admin_key
    from intake.keyring import load_keyring, read_signer

    settings = Settings.from_env()
    signer = read_signer(admin_key(settings))
    keyring = load_keyring(settings.keys_dir, signer, require_active=False)
    with database(settings) as engine:
        check(engine, signer, keyring.extra.get("audit"))
