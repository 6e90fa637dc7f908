"""`intake-review publish`: a copy of a case safe to publish, and the page to check it on (docs/review.md)."""

from __future__ import annotations

from pathlib import Path

import click

from intake.cli.review import custody, session_command
from intake.review.session import Session


@click.command()
@click.argument("case")
@click.option("--out", "out_dir", required=True, type=click.Path(file_okay=False, path_type=Path),
              help="A new or empty folder for publication/ (what may be published) and check.html (to check it).")
@click.option("--redact", "words", multiple=True, metavar="WORD",
              help="A word or phrase to take out of the text (repeat it); found inside words too, in any case.")
@session_command
def publish(session: Session, case: str, out_dir: Path, words: tuple[str, ...]) -> None:
    """Write a copy of CASE to publish: photos with the faces found hidden, no metadata, --redact words replaced.

    Automatic detection misses faces: look at every photo in DIR/check.html before publishing anything.
    """
    from intake.publish.build import publish_case

    publish_case(session, case, out_dir, words, custody())
