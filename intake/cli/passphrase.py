"""Getting a passphrase: from --passphrase-file for scripts, or typed at a terminal."""

from __future__ import annotations

from pathlib import Path

import click

from intake.errors import IntakeError

PASSPHRASE_FILE = click.option("--passphrase-file", type=click.Path(dir_okay=False, path_type=Path),
                               help="Read the passphrase from the first line of FILE instead of asking.")


def read_passphrase(path: Path | None, confirm: bool = False, prompt: str = "passphrase",
                    option: str = "--passphrase-file") -> bytes:
    """Return the passphrase from `path` (first line) or ask for it on the terminal; `option` names `path`'s option."""
    if path is not None:
        try:
            lines = path.read_text(encoding="utf-8").splitlines()
        except (OSError, UnicodeDecodeError) as exc:
            raise IntakeError(f"cannot read passphrase file {path}: {exc}") from exc
        if not lines or not lines[0]:
            raise IntakeError(f"passphrase file {path} is empty: write the passphrase on its first line")
        return lines[0].encode()
    if not click.get_text_stream("stdin").isatty():
        raise IntakeError(f"no terminal to ask for the {prompt}: give {option} FILE")
    return click.prompt(prompt, hide_input=True, confirmation_prompt=confirm).encode()
