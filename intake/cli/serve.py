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
    """Create a demo instance with a demo reviewer key and demo.env, print how to use them, and serve it."""
    from intake.demo import demo_commands, demo_settings, make_demo, write_env
    from intake.web.serve import check_port
    from intake.web.serve import serve as run

    check_port("127.0.0.1", port)
    settings = demo_settings(instance, Settings.from_env())
    key_file, settings = make_demo(settings)
    env_file = write_env(settings, scripts_dir())
    first, then = demo_commands(settings, key_file, scripts_dir(), Path.cwd())
    click.echo(f"demo instance in {settings.instance}: open http://127.0.0.1:{port}/ and send a report "
               "(Ctrl-C stops the demo)", err=True)
    click.echo(f"then, in another terminal in {Path.cwd()}, load the demo's settings ({env_file}: INTAKE_INSTANCE, "
               "INTAKE_DATABASE_URL, INTAKE_KEYS_DIR, INTAKE_KEYRING_SIGNER, and this install on PATH) and read "
               "the cases:", err=True)
    for line in first:
        click.echo(line)
    click.echo("with CASE a case that list printed (the demo's admin passphrase is demo.passphrase too: give "
               "--passphrase-file to `intake keys add` and the like):", err=True)
    for line in then:
        click.echo(line)
    run(settings, "127.0.0.1", port)


def scripts_dir() -> Path:
    """The folder holding the running `intake` and its `intake-review` (the virtual environment's bin/)."""
    import sys
    import sysconfig

    here = Path(sys.argv[0]).absolute().parent
    return here if (here / "intake-review").exists() else Path(sysconfig.get_path("scripts"))
