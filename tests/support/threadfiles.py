"""Helpers for the thread-files tests: a case whose reporter sent files in a follow-up, and hostile copies of it."""

from __future__ import annotations

import dataclasses
import hashlib
import json
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import Engine, select, update

from intake.bundle.read import TRAILER, trailer
from intake.crypto.codename import derive_keys
from intake.crypto.envelope import Sealer
from intake.crypto.keys import Identity, Recipient
from intake.crypto.message import open_message, seal_message, seal_message_around
from intake.crypto.report import SealedReport, seal_files, seal_report
from intake.crypto.stream import sealed_length
from intake.storage.cases import get_case, iter_parts
from intake.storage.schema import message_attachments, message_parts
from intake.storage.threads import salt, thread
from tests.support.browser import wait_receipt
from tests.support.reviewkit import FIELDS, jpeg_with_gps
from tests.support.storage import store_case, store_follow_up

PHOTO = jpeg_with_gps()
MINUTES = bytes(range(256)) * 300 + b"the minutes of the meeting"
REPORT_FILE = ("statement.bin", "application/octet-stream", b"\x00statement of the witness" * 100)
FILES = [("IMG_0001.jpg", "image/jpeg", PHOTO), ("minutes.bin", "application/octet-stream", MINUTES)]
TEXT = "Here are the photo and the minutes."


@dataclass
class ThreadCase:
    """A stored case with a reply key: its reference, id, the reporter's reply identity and who reads it."""

    ref: str
    case_id: int
    reply: Identity
    recipients: list[Recipient]

    @classmethod
    def store(cls, engine: Engine, recipients: list[Recipient]) -> ThreadCase:
        """Seal a report (with one file) that has a reply key, and store it as the browser would."""
        reply = Identity.generate()
        report = seal_report(recipients, FIELDS, [(n, t, [d]) for n, t, d in [REPORT_FILE]],
                             reply_key=str(reply.recipient))
        ref = store_case(engine, report.header, report.body, "browser", [r.key_id for r in recipients],
                         [(len(s), [s]) for s in report.streams])
        return cls(ref, get_case(engine, ref).id, reply, recipients)

    def sealed(self, files: list[tuple[str, str, bytes]], text: str = TEXT) -> SealedReport:
        """A reporter's follow-up with these files, sealed as the page seals it."""
        return seal_message(self.recipients, self.reply.recipient, "reporter", text,
                            files=[(n, t, [d]) for n, t, d in files])

    def follow_up(self, engine: Engine, files: list[tuple[str, str, bytes]], text: str = TEXT) -> int:
        """Store a follow-up as the upload path does; return its place (seq)."""
        return store_follow_up(engine, self.case_id, self.sealed(files, text))

    def wrong_sha(self, engine: Engine, files: list[tuple[str, str, bytes]], index: int) -> int:
        """Store a follow-up whose manifest gives file `index` a SHA-256 its stream does not have; return its seq."""
        sealer = Sealer(self.recipients)
        streams = seal_files(sealer, [(n, t, [d]) for n, t, d in files], padded=False)
        sealer.manifest[index] = dataclasses.replace(sealer.manifest[index], sha256="0" * 64)
        header, body = seal_message_around(sealer, self.reply.recipient, "reporter", "the SHA-256 lies")
        return store_follow_up(engine, self.case_id, SealedReport(header, body, streams))


def flip_message_part(engine: Engine, case_id: int, seq: int, idx: int, at: int) -> None:
    """Flip one bit of byte `at` of the first stored part of file `idx` of message `seq`."""
    stream = select(message_attachments.c.stream).where(message_attachments.c.case_id == case_id,
                                                        message_attachments.c.seq == seq,
                                                        message_attachments.c.idx == idx).scalar_subquery()
    where = (message_parts.c.stream == stream) & (message_parts.c.part == 0)
    with engine.begin() as conn:
        data = bytearray(conn.execute(select(message_parts.c.data).where(where)).scalar_one())
        data[at] ^= 1
        conn.execute(update(message_parts).where(where).values(data=bytes(data)))


def manifest_of(path: Path) -> dict:
    """The JSON manifest of a bundle file."""
    data = path.read_bytes()
    _, offset, length, _ = TRAILER.unpack(data[-TRAILER.size:])
    return json.loads(data[offset:offset + length])


def rewrite_manifest(path: Path, out: Path, manifest: dict) -> None:
    """Write a copy of bundle `path` with another manifest, its trailer and SHA-256 made to match (a forger's copy)."""
    data = path.read_bytes()
    _, offset, _, _ = TRAILER.unpack(data[-TRAILER.size:])
    content = data[:offset] + json.dumps(manifest).encode()
    out.write_bytes(content + trailer(offset, len(content) - offset, hashlib.sha256(content).digest()))


def report(context, url: str) -> tuple[str, str]:
    """Send a report from the form page: its reference and the codename the page made."""
    page = context.new_page()
    page.goto(url + "/")
    page.wait_for_selector("html[data-sealing=ready]")
    page.select_option("#incident_type", "drone")
    page.fill("#description", "a drone over the market")
    page.click("button[type=submit]")
    ref = wait_receipt(page)
    codename = page.inner_text("#codename")
    page.close()
    return ref, codename


def stored(site, ref: str, codename: str) -> list[tuple[str, list[tuple[str, bytes]], list[str]]]:
    """Each stored message of the case opened with a reviewer's identity: its text, files (name, bytes) and the
    SHA-256 its manifest lists for each."""
    case_id = get_case(site.engine, ref).id
    reply = derive_keys(codename, salt(site.engine)).identity.recipient
    found = []
    for m in thread(site.engine, case_id):
        opened = open_message(m.header, m.body, len(m.lengths), site.identities[:1], reply, m.sender)
        entries = opened.body.attachments
        assert list(m.lengths) == [sealed_length(e.size) for e in entries]  # unpadded (format.md §12.4)
        files = [(e.name, b"".join(opened.attachment(i, iter_parts(site.engine, case_id, i, seq=m.seq), m.lengths[i])))
                 for i, e in enumerate(entries)]
        found.append((opened.body.text, files, [e.sha256 for e in entries]))
    return found
