"""The form page and the no-JavaScript post, sealed on arrival by the server."""

from __future__ import annotations

import re

from flask import Blueprint, abort, render_template, request
from flask_babel import gettext as _

from intake.crypto.codename import make_codename
from intake.crypto.envelope import MAX_STANZAS, Sealer
from intake.storage.budgets import Resent, form_spent
from intake.storage.lifecycle import KeysChanged, complete_case, discard, open_arrival
from intake.text.zawgyi import zawgyi_fields
from intake.web.forms import ReportForm
from intake.web.guards import automated, check_server_post, form_expired, nojs_busy, report_resent
from intake.web.receipt import receipt_page
from intake.web.sealing import Arrival, UploadRefused
from intake.web.state import state
from intake.web.thread import derive_in_turn

bp = Blueprint("report", __name__)
SHA256 = re.compile(r"[0-9a-f]{64}")
LEADING = 256 * 1024


def form_page(form: ReportForm, status: int = 200) -> tuple[str, int]:
    """Render the form with the current keyring's fingerprint, serial and day of signing, and a form token."""
    intake = state()
    keyring = intake.keyring.current()
    return render_template("form.html", form=form, fingerprint=keyring.fingerprint, serial=keyring.serial,
                           keyring_date=keyring.date, form_token=intake.tokens.issue()), status


@bp.get("/")
def index() -> tuple[str, int]:
    """The report form."""
    return form_page(ReportForm())


def read_token(fields) -> str:
    """The form token read ahead, refused when expired or spent, and the honeypot: the first checks of a no-JS post."""
    intake = state()
    token = fields.get("csrf_token")
    if not intake.tokens.valid(token):
        raise form_expired()
    if form_spent(intake.engine, intake.tokens.spent(token)):
        raise report_resent()
    if fields.get("website"):
        raise automated()
    return token


def admit_post() -> None:
    """The no-JS post's checks before anything is sealed: token and honeypot first, then its budgets.

    A multipart body's text fields before its first file are read ahead (web/ahead.py); the page
    puts the token and the honeypot first, so a post without a valid token never has a file sealed.
    """
    intake = state()
    if request.mimetype == "multipart/form-data":
        fields = request.read_ahead(LEADING)  # type: ignore[attr-defined]
    else:
        fields = request.form
    read_token(fields)
    if not intake.nojs.take():
        raise nojs_busy()
    check_server_post(request.content_length or 0)


def page_originals(sealer: Sealer) -> list[str | None] | None:
    """The SHA-256 of each file before the page cleaned it (format.md §5.1 `original_sha256`), when the page
    with JavaScript posted here: one `original_sha256` field a file, in order: 64 hex digits, "" for a file sent as
    chosen (its sealed SHA-256), "-" for one cleaned whose original the page could not hash (not recorded).
    None without them (no JavaScript: every file is sealed as it arrived)."""
    given = request.form.getlist("original_sha256")
    if not given:
        return None
    if len(given) != len(sealer.manifest) or any(o not in ("", "-") and not SHA256.fullmatch(o) for o in given):
        abort(400, _("The page's list of your files did not match the files that arrived. Nothing was stored: "
                     "reload the page and send the report again."))
    pairs = zip(given, sealer.manifest, strict=True)
    return [entry.sha256 if o == "" else None if o == "-" else o for o, entry in pairs]


@bp.post("/report")
def post_report() -> tuple[str, int]:
    """Take a multipart post, sealing every file as it is parsed; show the receipt or a clear error."""
    intake = state()
    admit_post()
    keyring = intake.keyring.current()
    arrival = Arrival(intake.engine, keyring.recipients(), daily=intake.settings.daily_bytes)
    request.arrival = arrival  # type: ignore[attr-defined]
    ref = None
    try:
        try:
            form = ReportForm()
        except UploadRefused as exc:
            abort(400, str(exc))
        if set(request.files) - {"attachments"}:
            abort(400, _("A file arrived in place of a text field. Nothing was stored: send the form as the page "
                         "shows it."))
        if not form.csrf_token.data and request.mimetype == "multipart/form-data":  # its token was read ahead
            abort(400, _("The form could not be read to its end: a file name or a field may not be in UTF-8, or the "
                         "upload was cut. Nothing was stored. Rename the file with plain letters or choose it "
                         "again, and send the report again."))
        if form.website.data or not intake.tokens.valid(form.csrf_token.data):
            raise automated() if form.website.data else form_expired()
        if not form.validate():
            return form_page(form, 400)
        if any(not w.closed for w in arrival.writers):
            abort(400, _("A file arrived incomplete: choose it again and send the report again."))
        case_id = arrival.case_id if arrival.case_id is not None else open_arrival(intake.engine)
        arrival.case_id = case_id
        sealer = arrival.sealer
        fields = form.sealed_fields()
        codename = make_codename()
        keys = derive_in_turn(codename, report=True)
        body = sealer.body(fields, reply_key=str(keys.identity.recipient), zawgyi=zawgyi_fields(fields),
                           originals=page_originals(sealer))
        reporter = keys.identity.recipient if len(sealer.recipients) < MAX_STANZAS else None  # §4.1
        try:
            ref = complete_case(intake.engine, case_id, sealer.header(reporter), body,
                                [r.key_id for r in sealer.recipients], arrival.lengths, lookup=keys.lookup,
                                daily=intake.settings.daily_bytes, keys_held=lambda: intake.keyring.holds(keyring),
                                form=intake.tokens.spent(form.csrf_token.data))
        except Resent:
            raise report_resent() from None
        except KeysChanged:
            abort(409, _("The reviewers' keys changed while your report was arriving, so nothing was stored. Send "
                         "it again."))
    finally:
        arrival.close()
        if ref is None and arrival.case_id is not None:
            discard(intake.engine, arrival.case_id)
    return receipt_page(ref, codename)


@bp.get("/favicon.ico")
def favicon() -> tuple[str, int]:
    """No icon: browsers ask for one, and a 404 would only clutter their console."""
    return "", 204
