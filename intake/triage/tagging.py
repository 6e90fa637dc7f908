"""`intake-review tag`: add and remove a case's tags, sealed to the keyring as a tag entry (triage/tags.py)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path

from intake.errors import BadValue, UsageProblem
from intake.review.errors import ReviewError
from intake.review.names import terminal_text
from intake.review.notes import current_tags, next_n, seal_tags
from intake.review.opening import open_case
from intake.review.session import Session
from intake.review.terminal import echo
from intake.triage.tags import MAX_TAGS, normal_tags


def set_tags(session: Session, ref: str, add: Sequence[str], remove: Sequence[str], keys_dir: Path,
             signer: str | Callable[[], str], out: Path | None = None) -> tuple[str, ...]:
    """Seal one tag change and store it (database) or add it to a replies file (bundle); return the tags after."""
    from intake.clock import today
    from intake.review.triage import reviewer_keyring

    add, remove = normal_tags(add), normal_tags(remove)
    if not add and not remove:
        raise UsageProblem("give a TAG to add, or --remove TAG")
    both = set(add) & set(remove)
    if both:
        raise BadValue(f"{terminal_text(sorted(both)[0])} is both added and removed: give it once", "TAG")
    source = session.source
    if source.read_only and out is None:
        raise ReviewError("a bundle is read-only: a tag change from it goes into a replies file",
                          "add --out FILE, then carry FILE to the server for `intake import-replies FILE`")
    case = open_case(session, ref)
    entries = case.entries()
    now = current_tags(entries)
    adding, removing = [t for t in add if t not in now], [t for t in remove if t in now]
    after = tuple(sorted((set(now) - set(removing)) | set(adding)))
    if not adding and not removing:
        echo(terminal_text(f"case {case.case.ref}: nothing to change; tags: {' '.join(now) or 'none'}"), err=True)
        return now
    if len(after) > MAX_TAGS:
        raise BadValue(f"a case holds at most {MAX_TAGS} tags", "TAG")
    recipients = reviewer_keyring(session, keys_dir, signer, "tags").recipients()
    day = today()
    sealed = seal_tags(recipients, adding, removing, session.identities[0].key_id, case.report.opened.report_key,
                       day.isoformat(), next_n(entries))
    if source.read_only:
        from intake.bundle.replies import Reply, append_item

        append_item(out, source.import_key, session.identities,  # type: ignore[arg-type]
                    Reply(case.case.ref, "", *sealed, b"", b"", kind="tags", day=day.isoformat()))
        where = f"sealed into {out}"
    else:
        from intake.storage.notes import add_note

        add_note(source.engine, case.case.id, sealed, day)
        where = "sealed to the keyring"
    echo(terminal_text(f"case {case.case.ref}: tags {' '.join(after) or 'none'} ({where})"), err=True)
    return after
