"""GET /keyring.json: the public keys a browser seals new reports to."""

from __future__ import annotations

from flask import Blueprint, Response, jsonify

from intake.web.state import state

bp = Blueprint("keyring", __name__)


@bp.get("/keyring.json")
def keyring_json() -> Response:
    """The verified keyring's recipients (active keys, then the recovery key), serial and fingerprint."""
    keyring = state().keyring.current()
    return jsonify(serial=keyring.serial, date=keyring.date, fingerprint=keyring.fingerprint,
                   recipients=[{"key_id": r.key_id, "recipient": str(r)} for r in keyring.recipients()])
