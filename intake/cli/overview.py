"""`intake-review digest` and `intake-review desk`: the whole picture, as static pages or a full-screen desk."""

from __future__ import annotations

from pathlib import Path

import click

from intake.cli.filtering import filter_options
from intake.cli.review import custody, keyring_given, replies_file, session_command
from intake.review.errors import ReviewError
from intake.review.session import Session


@click.command()
@click.option("--out", "out_dir", required=True, type=click.Path(file_okay=False, path_type=Path),
              help="A new or empty folder to write index.html (and, for the team, cases/) into.")
@click.option("--share", is_flag=True, help="For the public: counts, charts and the map only; no case pages, no "
              "text, no thumbnails, no references; weeks, not days; every count below --min-count hidden; every "
              "case, no filters (two shared digests with different filters could be subtracted).")
@click.option("--min-count", type=click.IntRange(min=2), default=5, show_default=True,
              help="With --share: a count below this is shown as \"fewer than K\".")
@click.option("--pages-in", "pages_in", type=click.Choice(["en", "km", "my"]), default="en", show_default=True,
              help="The language the pages are written in.")
@filter_options
@session_command
def digest(session: Session, out_dir: Path, share: bool, min_count: int, pages_in: str, filters) -> None:  # noqa: ANN001
    """Write a digest of the cases into DIR: static pages, no script, that open from the file system.

    Without --share it holds what reporters wrote: keep it on the reviewing machine. The filters are list's
    (for the team's digest only: a shared digest counts every case).
    """
    from intake.digest.build import write_digest

    write_digest(session, filters, out_dir, share, min_count, pages_in)


@click.command()
@click.option("--search", "query", default="", metavar="LINE",
              help="Start with this search line: words to search, and status:S tag:T type:T province:P lang:L "
                   "since:DAY until:DAY is:unread has:files.")
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path),
              help="With --bundle: the replies file that replies and tags made on the desk go into, for "
                   "`intake import-replies FILE`.")
@session_command
def desk(session: Session, query: str, out: Path | None) -> None:
    """A full-screen desk: the cases, searched and filtered, beside the opened case; single keys set the
    status, tags and notes, reply and export (docs/review.md "The desk")."""
    if not (click.get_text_stream("stdin").isatty() and click.get_text_stream("stdout").isatty()):
        raise ReviewError("the desk needs a terminal", "in a script, use list, show, status, tag and reply")
    from intake.desk.app import run_desk
    from intake.desk.cases import Desk

    session.identities  # noqa: B018 - unlock once, on the terminal, before the desk takes the screen
    session.source  # noqa: B018 - and say now if the database or bundle cannot be read
    run_desk(Desk(session, *keyring_given(), replies_file(out), custody=custody(replies=out)), query)
