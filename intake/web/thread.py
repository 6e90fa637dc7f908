"""Checking back with a codename (format.md §12): the thread read and answered, with or without JavaScript.

With JavaScript the page derives the keys and sends only the token (web/thread_api.py); it opens the
thread and seals follow-ups itself. Without JavaScript `POST /check` derives the keys in memory for
that one request, opens the thread, seals a follow-up (its files as they arrive: web/followup.py),
and keeps nothing.
"""

from __future__ import annotations

import base64
from collections.abc import Mapping
from dataclasses import dataclass

from flask import Blueprint, abort, render_template, request
from flask_babel import gettext as _

from intake.crypto.codename import CodenameKeys, InvalidCodename, derive_keys
from intake.crypto.errors import CryptoError, InvalidKey
from intake.crypto.keys import Identity
from intake.crypto.message import open_message
from intake.storage.budgets import form_spent
from intake.storage.cases import get_case
from intake.storage.threads import MAX_MESSAGES, Message, case_by_lookup, salt, thread_page
from intake.web.boxes import BoxExpired, open_value, seal_value
from intake.web.deriving import NEVER, RESERVE, Busy
from intake.web.followup import LEADING, message_text, receive_follow_up, spend_nojs, store_text
from intake.web.guards import follow_up_resent, form_expired, no_space
from intake.web.limits import below_floor
from intake.web.reads import READS
from intake.web.state import state
from intake.web.yours import Yours, labels, reopened

bp = Blueprint("thread", __name__)
WAIT = 20.0  # seconds a new report's codename waits for a derivation slot (a check never waits: web/deriving.py)
PURPOSE = b"thread keys"  # a thread page can send a follow-up while its box lives (web/boxes.py), then asks again


def status_words(status: str) -> str:
    """The case's status as the reporter reads it."""
    if status == "new":
        return _("Received, not yet marked by a reviewer.")
    if status in ("closed", "spam"):
        return _("Closed.")
    return _("Being reviewed.")


def wrong_codename() -> str:
    """The one answer to a codename that finds no case: it says nothing about whether a case exists."""
    return _("No report was found for this codename. Check each group of digits against your paper and "
             "try again.")


@dataclass(frozen=True)
class Shown:
    """One message as the page shows it."""

    sender: str
    day: str
    text: str
    files: tuple[str, ...]


@bp.get("/check")
def check_page() -> tuple[str, int]:
    """The form where a reporter types the codename back."""
    return render_template("check.html", shown=None, labels=labels(), form_token=state().tokens.issue()), 200


def derive_in_turn(typed: str, report: bool = False) -> CodenameKeys:
    """A codename's keys in a derivation's turn (web/deriving.py). A check is refused with a 429 at once when no
    turn is free, before it spends a unit of the no-JS budget; a new report's codename (its post paid that unit)
    waits up to WAIT seconds for a slot and is never refused by the CPU budget."""
    intake = state()
    try:
        with intake.derivations.turn(WAIT if report else 0.0, NEVER if report else RESERVE):
            if not report:
                spend_nojs()
            return derive_keys(typed, salt(intake.engine))
    except Busy:
        abort(429, _("Too many people are checking right now. Wait a minute and try again."))
    except InvalidCodename:
        abort(400, _("A codename is 25 digits in 5 groups. Type only the digits, with spaces or dashes "
                     "between the groups."))


def form_keys(fields: Mapping[str, str]) -> CodenameKeys:
    """The keys from the typed codename, or from the sealed keys a thread page carries."""
    if "sealed" not in fields:
        return derive_in_turn(fields.get("codename", ""))
    try:
        value = open_value(PURPOSE, fields["sealed"])
        return CodenameKeys(base64.b64decode(str(value["token"])), Identity(base64.b64decode(str(value["reply"]))))
    except BoxExpired:
        abort(400, _("This page has expired. Open the check page and type your codename again."))
    except (ValueError, KeyError, TypeError, InvalidKey):
        abort(400, _("This page was not made by this service, or it is damaged. Open the check page and type "
                     "your codename again."))


@bp.post("/check")
def check_post() -> tuple[str, int]:
    """Derive the keys in memory, send the follow-up if any (its files sealed as they arrive), show the thread;
    keep nothing."""
    intake = state()
    multipart = request.mimetype == "multipart/form-data"
    fields = request.read_ahead(LEADING) if multipart else request.form  # type: ignore[attr-defined]
    token = fields.get("csrf_token")
    if not intake.tokens.valid(token):
        raise form_expired()
    spent = intake.tokens.spent(token)
    if form_spent(intake.engine, spent):
        raise follow_up_resent()
    text = message_text(fields)
    keys = form_keys(fields)
    found = case_by_lookup(intake.engine, keys.lookup)
    if found is None:
        abort(404, wrong_codename())
    case_id, ref, status = found
    READS.refuse_if_spent(case_id)  # before a follow-up is stored: its answer is the thread page
    sent = bool(text)
    if multipart:
        sent = receive_follow_up(case_id, keys, spent)
    elif text:
        if "sealed" in fields:
            spend_nojs()
        if below_floor(intake.disk, len(text.encode()), intake.settings.free_floor):
            raise no_space()
        store_text(case_id, keys, text, "server", spent)
    shown, older, yours = _page(case_id, ref, keys, fields.get("before", ""))
    carried = seal_value(PURPOSE, {"token": base64.b64encode(keys.token).decode(),
                                   "reply": base64.b64encode(keys.identity.secret_key).decode()})
    return render_template("check.html", shown=shown, older=older, status=status_words(status), sent=sent,
                           yours=yours, sealed=carried, form_token=intake.tokens.issue()), 200


def _page(case_id: int, ref: str, keys: CodenameKeys, before: str) -> tuple[list[Shown], int | None, Yours | None]:
    """The newest messages before place `before` (all when empty) that fit in one read (web/reads.py), opened,
    oldest first; the place of the first one shown when older messages remain (None when none do); and the
    report opened again, its sealed bytes charged to the read too (each view reopens it)."""
    if before and not (len(before) <= 4 and before.isascii() and before.isdigit() and int(before) > 0):
        abort(400, _("This page was not made by this service, or it is damaged. Open the check page and type "
                     "your codename again."))
    with READS.page(case_id) as budget:
        page, more = thread_page(state().engine, case_id, before=int(before) if before else MAX_MESSAGES + 1,
                                 budget=budget)
        case = get_case(state().engine, ref)
        READS.charge(case_id, sum(len(m.header) + len(m.body) for m in page + ([case] if case else [])))
        shown = [_shown(message, keys) for message in page]
        yours = reopened(case, keys.identity) if case is not None else None
    return shown, page[0].seq if more else None, yours


def _shown(message: Message, keys: CodenameKeys) -> Shown:
    """One message opened with the reply identity; a damaged one says so and never hides the others."""
    try:
        opened = open_message(message.header, message.body, len(message.lengths), [keys.identity],
                              keys.identity.recipient, message.sender)
        return Shown(message.sender, message.day.isoformat(), opened.body.text,
                     tuple(f.name for f in opened.body.attachments))
    except (CryptoError, ValueError, TypeError, RecursionError):
        return Shown(message.sender, message.day.isoformat(),
                     _("(This message could not be opened: it is damaged.)"), ())
