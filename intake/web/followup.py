"""A no-JavaScript follow-up in multipart: its files sealed as they arrive into a carrier, as a report's are.

`POST /check` reads the text fields before the first file ahead (web/ahead.py): the form token and
the sealed keys a thread page carries come first (templates/check.html), so a forged post or an
unknown codename is refused before a byte is sealed. The files go through the same sealing writer as
a report's (web/sealing.py), unpadded as format.md §12.4 says, into a carrier
(storage/followups.py), which `deliver` moves into the thread once the message is sealed.
"""

from __future__ import annotations

from flask import abort, request
from flask_babel import gettext as _

from intake.crypto.codename import CodenameKeys
from intake.crypto.message import seal_message_around
from intake.storage.budgets import charge
from intake.storage.cases import StorageError
from intake.storage.db import writing
from intake.storage.followups import deliver
from intake.storage.lifecycle import discard
from intake.web.guards import daily_spent, no_space
from intake.web.limits import below_floor
from intake.web.sealing import Arrival, UploadRefused
from intake.web.state import state
from intake.web.thread import LEADING, message_text, spend_nojs, store_text


def _admit() -> None:
    """The budgets of a multipart post, paid before a file is sealed: one no-JS unit, the floor, the day's bytes."""
    intake = state()
    spend_nojs()
    size = request.content_length or LEADING
    if below_floor(intake.disk, size, intake.settings.free_floor):
        raise no_space()
    with writing(intake.engine) as conn:
        if not charge(conn, "server", size, intake.settings.daily_bytes):
            raise daily_spent()


def receive_follow_up(case_id: int, keys: CodenameKeys) -> bool:
    """Seal a multipart follow-up (text, files or both) to the thread of `case_id`; False when it was empty."""
    intake = state()
    _admit()
    reviewers = intake.keyring.current().recipients()
    arrival = Arrival(intake.engine, reviewers, follow_up=True)
    request.arrival = arrival  # type: ignore[attr-defined]
    delivered = False
    try:
        try:
            form, files = request.form, request.files
        except UploadRefused as exc:
            abort(400, str(exc))
        if set(files) - {"attachments"}:
            abort(400, _("A file arrived in place of a text field. Nothing was stored: send the form as the page "
                         "shows it."))
        if any(not w.closed for w in arrival.writers):
            abort(400, _("A file arrived incomplete: choose it again and send the report again."))
        text = message_text(form)
        if not arrival.writers:
            if text:
                store_text(case_id, keys, text, None)
            return bool(text)
        try:
            header, body = seal_message_around(arrival.sealer, keys.identity.recipient, "reporter", text)
            deliver(intake.engine, arrival.case_id, header, body, arrival.lengths, case_id)  # type: ignore[arg-type]
        except (StorageError, ValueError) as exc:
            abort(409, str(exc))
        delivered = True
    finally:
        arrival.close()
        if not delivered and arrival.case_id is not None:
            discard(intake.engine, arrival.case_id)
    return True
