"""The form page and the no-JavaScript post, sealed on arrival by the server."""

from __future__ import annotations

from flask import Blueprint, abort, render_template, request
from flask_babel import gettext as _

from intake.storage.lifecycle import complete_case, discard, open_arrival
from intake.text.zawgyi import zawgyi_fields
from intake.web.forms import ReportForm
from intake.web.guards import GuardError
from intake.web.sealing import Arrival, UploadRefused
from intake.web.state import state

bp = Blueprint("report", __name__)


def form_page(form: ReportForm, status: int = 200) -> tuple[str, int]:
    """Render the form with the current keyring's fingerprint, serial and day of signing."""
    keyring = state().keyring.current()
    return render_template("form.html", form=form, fingerprint=keyring.fingerprint, serial=keyring.serial,
                           keyring_date=keyring.date), status


@bp.get("/")
def index() -> tuple[str, int]:
    """The report form."""
    return form_page(ReportForm())


@bp.post("/report")
def post_report() -> tuple[str, int]:
    """Take a multipart post, sealing every file as it is parsed; show the receipt or a clear error."""
    intake = state()
    intake.expire_now_and_then()
    try:
        intake.budget.take()
    except GuardError as exc:
        abort(exc.status, str(exc))
    keyring = intake.keyring.current()
    arrival = Arrival(intake.engine, keyring.recipients())
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
        if form.website.data:
            abort(400, _("This report looks automated and was not stored. If you are a person, leave the last "
                         "field empty and send it again."))
        if not form.validate():
            return form_page(form, 400)
        if any(not w.closed for w in arrival.writers):
            abort(400, _("A file arrived incomplete: choose it again and send the report again."))
        case_id = arrival.case_id if arrival.case_id is not None else open_arrival(intake.engine)
        arrival.case_id = case_id
        sealer = arrival.sealer
        fields = form.sealed_fields()
        body = sealer.body(fields, zawgyi=zawgyi_fields(fields))
        ref = complete_case(intake.engine, case_id, sealer.header(), body,
                            [r.key_id for r in sealer.recipients], arrival.lengths)
    finally:
        arrival.close()
        if ref is None and arrival.case_id is not None:
            discard(intake.engine, arrival.case_id)
    return render_template("receipt.html", ref=ref), 200


@bp.get("/favicon.ico")
def favicon() -> tuple[str, int]:
    """No icon: browsers ask for one, and a 404 would only clutter their console."""
    return "", 204
