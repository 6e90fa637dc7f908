"""The filters of `intake-review list` as click options, for every command that chooses cases (triage/filters.py)."""

from __future__ import annotations

import click

from intake.cli.states import STATE

DATE = click.DateTime(formats=["%Y-%m-%d"])


def filter_options(command):  # noqa: ANN001, ANN201 - a click decorator
    """The filters of `list` and `digest` (intake/triage/filters.py), given as `filters=Filters(...)`."""
    import functools

    @functools.wraps(command)
    def run(*args: object, status, tags, incident_type, province, lang_of, since, until, unread, has_files,  # noqa: ANN001
            search, **kwargs: object) -> object:
        from intake.triage.filters import Filters

        filters = Filters(status, tags, incident_type, province, lang_of, since and since.date(),
                          until and until.date(), unread, has_files, search)
        return command(*args, filters=filters, **kwargs)

    options = [
        click.option("--status", multiple=True, type=STATE, help="Only cases in this state (in-review, in_review or "
                     "\"in review\"); repeat it for any of several."),
        click.option("--tag", "tags", multiple=True, help="Only cases with this tag; repeat it for cases with all of "
                     "them."),
        click.option("--type", "incident_type", multiple=True, help="Only this incident type, as the form sends it "
                     "(drone, cctv, face_recognition, phone_online, other); repeat it for any of several."),
        click.option("--province", multiple=True, help="Only this province, state or region, as the form sends it "
                     "(KH-12, MM-06); repeat it for any of several."),
        click.option("--lang", "lang_of", multiple=True, help="Only reports written on the page in this language "
                     "(km, my, en)."),
        click.option("--since", type=DATE, help="Only cases received on or after this day (YYYY-MM-DD)."),
        click.option("--until", type=DATE, help="Only cases received on or before this day (YYYY-MM-DD)."),
        click.option("--unread", is_flag=True, help="Only cases whose reporter wrote since a reviewer last showed "
                     "them."),
        click.option("--has-files", is_flag=True, help="Only cases with a file (in the report or a message)."),
        click.option("--search", default="", metavar="WORDS", help="Only cases holding every word, in a field, note, "
                     "tag or message (any case; Khmer and Burmese as written; a Zawgyi report is searched in its "
                     "Unicode conversion too)."),
    ]
    for option in reversed(options):
        run = option(run)
    return run
