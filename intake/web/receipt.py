"""The receipt's codename check: the reporter types one group of the codename back before leaving.

Without JavaScript the check is a form post, and the server stores nothing to check it against:
the receipt page carries the codename and reference sealed (web/boxes.py: libsodium secretbox under
a key derived from the instance's secret key, which only this server holds). The post sends
that box back with the typed group; the server opens it in memory, compares, and shows the receipt
again on a mismatch, so the reporter can copy the codename again (docs/web.md, "Codenames").
"""

from __future__ import annotations

import secrets

from flask import Blueprint, abort, render_template, request
from flask_babel import gettext as _

from intake.crypto.codename import GROUP, InvalidCodename, normalise
from intake.web.boxes import open_value, seal_value
from intake.web.guards import form_expired
from intake.web.state import state

bp = Blueprint("receipt", __name__)
PURPOSE = b"receipt"


def receipt_page(ref: str, codename: str | None, status: int = 200, mismatch: bool = False) -> tuple[str, int]:
    """The receipt; with a codename, the codename once and the form that asks one group back."""
    if codename is None:
        return render_template("receipt.html", ref=ref, codename=None), status
    group = secrets.randbelow(5) + 1
    sealed = seal_value(PURPOSE, {"ref": ref, "codename": codename, "group": group})
    return render_template("receipt.html", ref=ref, codename=codename, group=group, mismatch=mismatch,
                           sealed=sealed, form_token=state().tokens.issue()), status


@bp.post("/receipt/confirm")
def confirm() -> tuple[str, int]:
    """Compare the typed group with the sealed codename: the receipt again on a mismatch, else a thank-you."""
    if not state().tokens.valid(request.form.get("csrf_token")):
        raise form_expired()
    try:
        data = open_value(PURPOSE, request.form.get("sealed", ""))
        ref, codename, group = str(data["ref"]), normalise(str(data["codename"])), int(data["group"])  # type: ignore[call-overload]
    except (ValueError, KeyError, TypeError, InvalidCodename):
        abort(400, _("This check was not made by this service's receipt page. Your report is stored all the same."))
    try:
        digits = normalise(request.form.get("typed", ""), GROUP)
    except InvalidCodename:
        digits = ""
    if not secrets.compare_digest(digits, codename[(group - 1) * GROUP:group * GROUP]):
        return receipt_page(ref, " ".join(codename[i:i + GROUP] for i in range(0, 25, GROUP)), 400, mismatch=True)
    return render_template("receipt.html", ref=ref, codename=None, confirmed=True), 200
