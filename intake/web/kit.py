"""The offline kit: one HTML file that seals a report with no network (docs/web.md "The offline kit").

`GET /kit` is a page (in the reporter's language) that says what the kit is, with its SHA-256 and the keyring's
fingerprint, and links to the file, `GET /kit/intake-kit-<serial>.html`. The file holds the page's own modules
joined into one inline script (web/inline.py), the vendored libsodium.js, the photo cleaner, the signed keyring,
the signer it must verify against, the codename salt and the form's questions in every language; a strict CSP in
a `<meta>` tag allows that one script by its hash and nothing else. It is the same bytes for everyone on a day
(nothing per request in it: the address it names is INTAKE_PUBLIC_URL, else INTAKE_ONION, never the request's Host),
so its SHA-256 can be published and compared, and no request can make the server build another.
"""

from __future__ import annotations

import base64
import datetime as dt
import gzip
import hashlib
import json
import threading

from flask import Blueprint, Response, abort, current_app, render_template, url_for
from flask_babel import force_locale, gettext

from intake.clock import today
from intake.keys.keyring import FILENAME, Keyring, canonical
from intake.storage.threads import salt
from intake.web.forms import ReportForm
from intake.web.inline import STATIC, kit_script
from intake.web.language import NAMES
from intake.web.state import state

bp = Blueprint("kit", __name__)
ORDER = ("km", "my", "en")
TITLE = "Form"
_built: dict[str, object] = {}  # the one kit of today's keyring: its key (keyring digest, day, address) and bytes
_lock = threading.Lock()


def _hash(text: str) -> str:
    return "'sha256-" + base64.b64encode(hashlib.sha256(text.encode()).digest()).decode() + "'"


def csp(script: str, style: str) -> str:
    """The kit's policy: its one script and its one style by hash, WebAssembly, and nothing to fetch or send to."""
    return (f"default-src 'none'; script-src {_hash(script)} 'wasm-unsafe-eval'; style-src {_hash(style)}; "
            "form-action 'none'; base-uri 'none'")


def file_name(keyring: Keyring) -> str:
    """The kit's file name: plain, with nothing that names what it is for."""
    return f"intake-kit-{keyring.serial}.html"


def _signed_keyring() -> dict[str, str]:
    """The keyring file as signed: the exact bytes its signature covers, and the signature."""
    data = json.loads((state().settings.keys_dir / FILENAME).read_text(encoding="utf-8"))
    signature = data.pop("signature")
    return {"signed": canonical(data).decode(), "signature": signature}


def build(keyring: Keyring) -> bytes:
    """The kit file for this keyring, today (cached: the same bytes for every download, whatever the request's Host:
    the address written in it is the configured one, so no request can make the server build another)."""
    key = (keyring.digest, today().isoformat(), state().settings.site_url)
    with _lock:
        if _built.get("key") != key:
            _built.update(key=key, kit=_render(keyring))
        return _built["kit"]  # type: ignore[return-value]


def _render(keyring: Keyring) -> bytes:
    intake = state()
    expires = (today() + dt.timedelta(days=intake.settings.kit_days)).isoformat()
    with current_app.test_request_context("/kit", base_url=intake.settings.site_url):  # nothing of the request's
        sealed_url = url_for("sealed.page", _external=True)
        check_href = url_for("thread.check_page", _external=True)
        forms, noscript = [], {}
        for code in ORDER:
            with force_locale(code):
                form = ReportForm(meta={"csrf": False}, formdata=None)
                forms.append((code, render_template(
                    "kit_form.html", form=form, sealed_url=sealed_url, check_href=check_href, expires=expires,
                    fingerprint=keyring.fingerprint, serial=keyring.serial, keyring_date=keyring.date)))
                noscript[code] = gettext("This form needs JavaScript and a recent browser: turn JavaScript on, "
                                         "or open this file in another browser. It sends nothing anywhere.")
        script = kit_script()
        style = (STATIC / "style.css").read_text(encoding="utf-8")
        data = {"signer": keyring.signer, "keyring": _signed_keyring(), "serial": keyring.serial,
                "fingerprint": keyring.fingerprint, "salt": base64.urlsafe_b64encode(salt(intake.engine)).decode()
                .rstrip("="), "expires": expires}
        data["pages"] = _packed(forms)
        html = render_template("kit.html", csp=csp(script, style), title=TITLE, style=style, script=script,
                               names=[(c, NAMES[c]) for c in ORDER], noscript=noscript, data=data)
    return html.encode()


def _packed(forms: list[tuple[str, str]]) -> str:
    """The page in every language, each without its blank lines and indentation, as one JSON object gzipped (no
    time in it) and in base64: a quarter of the bytes, which the 600 KB the kit may weigh needs (kit.js opens it
    with the browser's DecompressionStream)."""
    pages = {code: "\n".join(filter(None, (line.strip() for line in html.splitlines()))) for code, html in forms}
    text = json.dumps(pages, ensure_ascii=False, separators=(",", ":"))
    return base64.b64encode(gzip.compress(text.encode(), 9, mtime=0)).decode()


def kit_sha256(keyring: Keyring) -> str:
    """The SHA-256 of today's kit, as /kit and /keyring.json publish it."""
    return hashlib.sha256(build(keyring)).hexdigest()


@bp.get("/kit")
def page() -> str:
    """What the kit is and how to check it, with its SHA-256 and a link to save it."""
    keyring = state().keyring.current()
    return render_template("kit_page.html", name=file_name(keyring), sha256=kit_sha256(keyring),
                           fingerprint=keyring.fingerprint, serial=keyring.serial, keyring_date=keyring.date,
                           days=state().settings.kit_days)


@bp.get("/kit/<name>")
def kit_file(name: str) -> Response:
    """The kit itself, to save (never shown as a page of this site)."""
    keyring = state().keyring.current()
    if name != file_name(keyring):
        abort(404, gettext("This kit is out of date: get the new one from the kit page."))
    response = Response(build(keyring), mimetype="text/html")
    response.headers["Content-Disposition"] = f'attachment; filename="{name}"'
    return response

