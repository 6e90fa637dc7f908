"""The `intake` command: server and admin tasks. Each command's work lives in its own module."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import click

from intake.config import Settings

PASSPHRASE_FILE = click.option("--passphrase-file", type=click.Path(dir_okay=False, path_type=Path),
                               help="Read the passphrase from the first line of FILE instead of asking.")


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="intake")
def main() -> None:
    """intake: a secure, anonymous incident-reporting intake service.

    Settings come from INTAKE_INSTANCE (default ./instance), INTAKE_DATABASE_URL (default SQLite in
    the instance folder) and INTAKE_KEYS_DIR (default ./keys).
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
def expire_uploads() -> None:
    """Delete uploads that were abandoned before they completed (the server also does this as it runs)."""
    from intake.storage.cases import expire_uploads as expire
    from intake.storage.db import connect

    engine = connect(Settings.from_env().database_url)
    try:
        click.echo(f"expired {expire(engine)} abandoned uploads", err=True)
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

    from intake.export_sealed import export_sealed as write_bundle
    from intake.storage.db import connect

    engine = connect(Settings.from_env().database_url)
    try:
        done = write_bundle(engine, out_file, since.date() if since else None)
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
