"""Reports sealed offline by the kit, carried in: the /sealed page, and its post read as it arrives (no JavaScript).

With JavaScript the page reads the file and sends it through the API instead (js/sealed.js, `carried` in
docs/openapi.yaml). Without it, the form posts its token first, then the file field `sealed`: Werkzeug's
parser writes the file to a `CarriedWriter`, which reads its framing as it arrives (crypto/carried.py),
checks head and keyring before anything is stored, and stores each stream's sealed bytes in 1 MiB parts
as they come. Nothing is sealed here: the file is sealed already (docs/format.md §13).
"""

from __future__ import annotations

from flask import Blueprint, abort, render_template, request
from flask_babel import gettext as _

from intake.crypto.carried import OLD_KIT, CarriedParser, carried_id
from intake.crypto.errors import CryptoError
from intake.crypto.stream import PART
from intake.keys.keyring import Keyring
from intake.storage.budgets import Resent
from intake.storage.cases import StorageError
from intake.storage.lifecycle import (
    Duplicate,
    KeysChanged,
    add_stream,
    append_parts,
    complete_case,
    discard,
    open_arrival,
)
from intake.web.carrying import arriving, check_kit_keys, not_whole, old_kit
from intake.web.checks import ReportRefused
from intake.web.guards import check_server_post, nojs_busy, report_resent
from intake.web.report import LEADING, read_token
from intake.web.state import state

bp = Blueprint("sealed", __name__)
BATCH = 4


class CarriedRefused(Exception):
    """The carried file is refused (not a ValueError, so Werkzeug does not swallow it); `status` is its status."""

    def __init__(self, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.status = status


class Known(Exception):
    """The file arrived before: `ref` is its case's reference."""

    def __init__(self, ref: str) -> None:
        super().__init__(ref)
        self.ref = ref


def bad_file(exc: CryptoError) -> CarriedRefused:
    """What to tell whoever sends a file that is not a whole carried file (or one from an older kit)."""
    if str(exc) == OLD_KIT:
        return CarriedRefused(old_kit())
    return CarriedRefused(not_whole(exc))


class CarriedWriter:
    """A write-only file: reads a carried file's framing as Werkzeug writes it, storing its streams part by part."""

    def __init__(self, keyring: Keyring, available: int) -> None:
        self.intake, self.keyring = state(), keyring
        self.parser = CarriedParser(available)
        self.case_id: int | None = None
        self.pending, self.batch, self.parts = bytearray(), [], 0
        self.size = 0
        self.took = False  # a place of the no-JS budget, given back if the file is refused
        self.closed = False

    def write(self, data: bytes) -> int:
        """Read the next bytes of the file: check its head before storing anything, then store its streams."""
        try:
            for event in self.parser.feed(bytes(data)):
                getattr(self, "_" + event[0])(*event[1:])
        except CryptoError as exc:
            raise bad_file(exc) from None
        return len(data)

    def _head(self, head) -> None:  # type: ignore[no-untyped-def]
        intake = self.intake
        try:
            check_kit_keys(intake.engine, self.keyring, head.serial, head.header.reviewer_key_ids,
                           intake.settings.kit_days)
        except ReportRefused as exc:
            raise CarriedRefused(str(exc), exc.status) from None
        self._count(len(head.header.raw) + len(head.body))
        if not intake.nojs.take():
            raise CarriedRefused(str(nojs_busy()), 429)
        self.took = True
        try:
            self.case_id = open_arrival(intake.engine, "browser", carried=carried_id(head.header.raw))
        except Duplicate as exc:
            if exc.ref is None:
                raise CarriedRefused(str(arriving()), 409) from None
            raise Known(exc.ref) from None

    def _count(self, size: int) -> None:
        self.size += size
        if self.size > self.intake.settings.max_report_bytes:
            raise CarriedRefused(_("This report is larger than this service takes (%(n)s MiB). Nothing was stored.",
                                   n=self.intake.settings.max_report_bytes >> 20), 413)

    def _stream(self, idx: int, length: int) -> None:
        self._count(length)
        self.parts = 0
        add_stream(self.intake.engine, self.case_id, idx)  # type: ignore[arg-type]

    def _data(self, idx: int, data: bytes) -> None:
        self.pending += data
        left = self.parser.left
        while len(self.pending) >= PART or (left == 0 and self.pending):
            self.batch.append(bytes(self.pending[:PART]))
            del self.pending[:PART]
        if self.batch and (left == 0 or len(self.batch) >= BATCH):
            append_parts(self.intake.engine, self.case_id, idx, self.parts, self.batch,  # type: ignore[arg-type]
                         self.intake.settings.daily_bytes)
            self.parts += len(self.batch)
            self.batch = []

    def seek(self, offset: int, whence: int = 0) -> int:
        """Werkzeug seeks to 0 once the file ends: check that it ended where its framing says."""
        try:
            self.parser.finish()
        except CryptoError as exc:
            raise bad_file(exc) from None
        self.closed = True
        return 0

    def read(self, size: int = -1) -> bytes:
        """Nothing to read back: the parts are stored."""
        return b""

    def close(self) -> None:
        """Nothing to release."""


class Carrying:
    """What the request's stream factory calls (web/sealing.py `SealingRequest`): one file, named `sealed`."""

    def __init__(self, keyring: Keyring, available: int) -> None:
        self.writer: CarriedWriter | None = None
        self.keyring, self.available = keyring, available

    def open_file(self, filename: str, content_type: str | None) -> CarriedWriter:
        """The writer of the one carried file."""
        if self.writer is not None:
            raise CarriedRefused(_("Send one report file at a time. Nothing was stored."))
        self.writer = CarriedWriter(self.keyring, self.available)
        return self.writer


def sealed_page(status: int = 200, **extra: object) -> tuple[str, int]:
    """The page that takes a carried file, with a fresh form token."""
    return render_template("sealed.html", form_token=state().tokens.issue(), **extra), status


@bp.get("/sealed")
def page() -> tuple[str, int]:
    """The form for a report sealed offline."""
    return sealed_page()


def _admit() -> str:
    """The form token and honeypot, read ahead of the file, and the declared size: before any byte is stored."""
    fields = request.read_ahead(LEADING) if request.mimetype == "multipart/form-data" else {}  # type: ignore[attr-defined]
    token = read_token(fields)
    check_server_post(request.content_length or 0)
    return token


@bp.post("/sealed")
def post() -> tuple[str, int]:
    """Take a carried file as it arrives; answer with the receipt (new, or arrived before) or a clear 4xx."""
    intake = state()
    token = _admit()
    keyring = intake.keyring.current()
    carrying = Carrying(keyring, request.content_length or 0)
    request.arrival = carrying  # type: ignore[attr-defined]
    ref = None
    try:
        try:
            files = request.files
        except CarriedRefused as exc:
            abort(exc.status, str(exc))
        except Known as known:
            return render_template("sealed_receipt.html", ref=known.ref, new=False), 200
        writer = carrying.writer
        if writer is None or set(files) != {"sealed"} or not writer.closed or writer.parser.head is None:
            abort(400, _("Choose the report file the kit saved (it ends in .sealed)."))
        head = writer.parser.head
        try:
            ref = complete_case(intake.engine, writer.case_id, head.header.raw, head.body,  # type: ignore[arg-type]
                                head.header.reviewer_key_ids, writer.parser.lengths, lookup=head.lookup,
                                daily=intake.settings.daily_bytes, keys_held=lambda: intake.keyring.holds(keyring),
                                form=intake.tokens.spent(token))
        except Resent:
            raise report_resent() from None
        except KeysChanged:
            abort(409, _("The reviewers' keys changed while this file was arriving, so nothing was stored. Send it "
                         "again."))
        except StorageError as exc:
            abort(409, _("This report could not be stored (%(error)s). Nothing was stored.", error=exc))
    finally:
        writer = carrying.writer
        if ref is None and writer is not None and writer.case_id is not None:
            discard(intake.engine, writer.case_id)
        if ref is None and writer is not None and writer.took:
            intake.nojs.give_back()
    return render_template("sealed_receipt.html", ref=ref, new=True), 200
