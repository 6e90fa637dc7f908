"""`intake-review status`: set a case's triage state, with a note sealed to the verified keyring."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from intake.errors import BadValue
from intake.review.errors import NO_KEYRING, ReviewError, no_case
from intake.review.names import terminal_text
from intake.review.opening import open_case
from intake.review.session import Session
from intake.review.terminal import echo


def reviewer_keyring(session: Session, keys_dir: Path, signer: str | Callable[[], str], what: str):
    """The keyring in keys_dir, verified against the pinned signer, and no older than the newest in use.

    On the database that is the instance's forward-only state (`keys.trust.trusted_keyring`); on a
    bundle, the newest keyring in use when the bundle was made (docs/bundle.md §3 `keyrings`).
    `what` ("note", "reply") names what cannot be sealed when the keyring is refused.
    """
    from intake.keys.keyring import FILENAME, KeyringError, load_keyring
    from intake.keys.trust import trusted_keyring
    from intake.storage.keyring_state import KeyringRollback, refuse_older

    try:
        pinned = (signer() if callable(signer) else signer).strip()
        source = session.source
        if not source.read_only:
            return trusted_keyring(keys_dir, pinned, source.engine)
        keyring = load_keyring(keys_dir, pinned)
        floor = source.keyring_floor(pinned)
        if floor is not None:
            refuse_older(*floor, keyring.serial, keyring.digest, str(keys_dir / FILENAME))
        return keyring
    except (KeyringError, KeyringRollback) as exc:
        raise ReviewError(f"cannot seal the {what}: {exc}",
                          "give --keys-dir DIR (the folder of the newest keyring.json) and --signer "
                          "intake-signer-1:... (ask the admin for it, out of band)", NO_KEYRING) from None


def set_status(session: Session, ref: str, state: str, note: str | None, keys_dir: Path,
               signer: str | Callable[[], str], out: Path | None = None, custody=None) -> None:  # noqa: ANN001
    """Set the state of a case in the database; a note is sealed first and stored in the same transaction.
    From a bundle, the state and a sealed note (empty without --note) go into the replies file `out`. With
    `custody` (intake.evidence.record.Custody) the change joins the case's custody record."""
    from intake.clock import today
    from intake.review.notes import seal_note
    from intake.storage.cases import StorageError
    from intake.storage.notes import triage

    source = session.source
    if source.read_only and out is None:
        raise ReviewError("a bundle is read-only: a status change from it goes into a replies file",
                          "add --out FILE, then carry FILE to the server for `intake import-replies FILE`")
    case = source.case(ref)
    if case is None:
        raise no_case(ref)
    sealed, day = None, today()  # the note's day is sealed in it and stored with it
    if note is not None and not note.strip():
        raise BadValue("the note is empty", "--note")
    if note is not None or source.read_only:
        recipients = reviewer_keyring(session, keys_dir, signer, "note").recipients()
        case_key = open_case(session, ref).report.opened.report_key  # the note is bound to this case
        try:
            sealed = seal_note(recipients, state, note or "", session.identities[0].key_id, case_key, day)
        except ValueError as exc:
            raise ReviewError(f"cannot seal the note: {exc}", "shorten the note") from None
    if source.read_only:
        from intake.bundle.replies import Reply, append_item

        append_item(out, source.import_key, session.identities,  # type: ignore[arg-type]
                    Reply(case.ref, "", *sealed, b"", b"", kind="note", day=day.isoformat(), state=state,  # type: ignore[misc]
                          was=case.status))
        echo(terminal_text(f"case {case.ref}: {state} (sealed into {out}, for `intake import-replies`)"), err=True)
        if custody is not None:
            custody.append(open_case(session, ref), "status", {}, detail=state)  # into the replies file too
        return
    try:
        triage(source.engine, case.ref, state, sealed, day)
    except StorageError as exc:
        raise ReviewError(str(exc), "check the reference with `list`") from None
    echo(terminal_text(f"case {case.ref}: {state}" + (" (note sealed to the keyring)" if sealed else "")), err=True)
    if custody is not None:
        custody.append(open_case(session, ref), "status", {}, detail=state)
