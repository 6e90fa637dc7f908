"""The receipt's codename check: the reporter types one group of the codename back before leaving.

Without JavaScript the check is a form post, and the server stores nothing to check it against:
the receipt page carries the asked group's number and digits sealed (web/boxes.py: libsodium
secretbox under a key derived from the instance's secret key, which only this server holds, with
its expiry inside). The post sends that box back with the typed group and opens its answer in a new
tab; the server compares in memory and answers whether they match, never with the codename: the
receipt stays in the first tab, where the reporter corrects their copy (docs/web.md, "Codenames").
"""

from __future__ import annotations

import secrets

from flask import Blueprint, abort, render_template, request
from flask_babel import gettext as _

from intake.crypto.codename import GROUP, InvalidCodename, normalise
from intake.web.boxes import BoxExpired, open_value, seal_value
from intake.web.guards import form_expired
from intake.web.state import state

bp = Blueprint("receipt", __name__)
PURPOSE = b"receipt group"


def receipt_page(ref: str, codename: str | None, status: int = 200) -> tuple[str, int]:
    """The receipt; with a codename, the codename once and the form that asks one group back."""
    if codename is None:
        return render_template("receipt.html", ref=ref, codename=None), status
    group = secrets.randbelow(5) + 1
    digits = normalise(codename)[(group - 1) * GROUP:group * GROUP]
    sealed = seal_value(PURPOSE, {"group": group, "digits": digits})
    return render_template("receipt.html", ref=ref, codename=codename, group=group, sealed=sealed,
                           form_token=state().tokens.issue()), status


@bp.post("/receipt/confirm")
def confirm() -> tuple[str, int]:
    """Compare the typed group with the sealed one: say whether they match, and nothing of the codename."""
    if not state().tokens.valid(request.form.get("csrf_token")):
        raise form_expired()
    try:
        data = open_value(PURPOSE, request.form.get("sealed", ""))
        group, expected = int(data["group"]), str(data["digits"])  # type: ignore[call-overload]
    except BoxExpired:
        abort(400, _("This check has expired. Your report is stored all the same: keep your paper and compare "
                     "it with the codename on the receipt once more."))
    except (ValueError, KeyError, TypeError):
        abort(400, _("This check was not made by this service's receipt page. Your report is stored all the same."))
    try:
        digits = normalise(request.form.get("typed", ""), GROUP)
    except InvalidCodename:
        digits = ""
    if not secrets.compare_digest(digits.encode(), expected.encode()):
        return render_template("receipt.html", ref=None, codename=None, mismatch=True, group=group), 400
    return render_template("receipt.html", ref=None, codename=None, confirmed=True), 200
