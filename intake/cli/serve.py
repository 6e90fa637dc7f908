"""`intake serve` and `intake demo`: the reporting site under gunicorn."""

from __future__ import annotations

from pathlib import Path

import click

from intake.settings import Settings


@click.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", default=8000, show_default=True, type=click.IntRange(1, 65535), help="Port to listen on.")
def serve(host: str, port: int) -> None:
    """Serve the reporting site under gunicorn (no access log; refuses a keyring that does not verify)."""
    from intake.web.serve import serve as run

    run(Settings.from_env(), host, port)


@click.command()
@click.option("--instance", type=click.Path(file_okay=False, path_type=Path), default=Path("demo"),
              show_default=True, help="Folder for the demo instance (database, keys, demo identity).")
@click.option("--port", default=8000, show_default=True, type=click.IntRange(1, 65535), help="Port on 127.0.0.1.")
def demo(instance: Path, port: int) -> None:
    """Create a demo instance with a demo reviewer key, print how to read its cases, and serve it."""
    from intake.demo import demo_settings, make_demo
    from intake.web.serve import serve as run

    settings = demo_settings(instance, Settings.from_env())
    key_file, settings = make_demo(settings)
    click.echo(f"demo instance in {settings.instance}; open http://127.0.0.1:{port}/ and send a report", err=True)
    click.echo("read the cases with:", err=True)
    click.echo(f"intake-review --identity {key_file} --passphrase-file {settings.instance / 'demo.passphrase'} "
               f"--db {settings.database_url} list")
    run(settings, "127.0.0.1", port)
