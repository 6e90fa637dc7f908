"""GET /keyring.json: the public keys a browser seals new reports to."""

from __future__ import annotations

from flask import Blueprint, Response, jsonify

from intake.crypto.keys import b64encode
from intake.storage.threads import salt
from intake.web.kit import file_name, kit_sha256
from intake.web.state import state

bp = Blueprint("keyring", __name__)


@bp.get("/keyring.json")
def keyring_json() -> Response:
    """The verified keyring's recipients (active keys, then recovery key), serial, date, fingerprint, codename salt,
    and today's offline kit (its file name and SHA-256, docs/web.md "The offline kit")."""
    intake = state()
    keyring = intake.keyring.current()
    return jsonify(serial=keyring.serial, date=keyring.date, fingerprint=keyring.fingerprint,
                   recipients=[{"key_id": r.key_id, "recipient": str(r)} for r in keyring.recipients()],
                   codename_salt=b64encode(salt(intake.engine)),
                   kit={"file": file_name(keyring), "sha256": kit_sha256(keyring)})
