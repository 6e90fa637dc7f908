"""Whole reports: seal fields and files in one call, open them again as streams."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass

from intake.crypto.envelope import Body, ManifestEntry, Opened, Sealer, attachment_key, open_body, open_header
from intake.crypto.errors import CryptoError, DamagedAttachment, WrongThread
from intake.crypto.keys import Identity, Recipient
from intake.crypto.kitsign import CarriedSigner
from intake.crypto.stream import open_stream, padme


@dataclass(frozen=True)
class SealedReport:
    """A sealed report held in memory: header, body and each attachment stream."""

    header: bytes
    body: bytes
    streams: tuple[bytes, ...]


def seal_report(recipients: Sequence[Recipient], fields: dict[str, str],
                files: Iterable[tuple[str, str, Iterable[bytes]]] = (), reply_key: str | None = None,
                report_key: bytes | None = None, reporter_stanza: bool = True,
                signer: CarriedSigner | None = None) -> SealedReport:
    """Seal a report and its files (name, media type, chunks) in memory; for small reports and tests.

    With a reply key the header carries the reporter's stanza (§4.1) unless `reporter_stanza` is false (a report
    as written before it existed)."""
    sealer = Sealer(recipients, report_key)
    streams = seal_files(sealer, files)
    reporter = Recipient.parse(reply_key) if reply_key is not None and reporter_stanza else None
    return SealedReport(sealer.header(reporter, signer), sealer.body(fields, reply_key), streams)


def seal_files(sealer: Sealer, files: Iterable[tuple[str, str, Iterable[bytes]]],
               padded: bool = True) -> tuple[bytes, ...]:
    """Seal each file (name, media type, chunks) as the sealer's next attachment stream, in memory."""
    streams = []
    for name, media_type, chunks in files:
        stream = sealer.attachment(padded)
        sealed = [stream.start()]
        for data in chunks:
            sealed.extend(stream.push(data))
        sealed.append(stream.finish())
        sealer.end_attachment(name, media_type)
        streams.append(b"".join(sealed))
    return tuple(streams)


@dataclass(frozen=True, repr=False)
class OpenedReport:
    """An opened header and body; attachments are opened one at a time with `attachment`."""

    opened: Opened
    body: Body

    def attachment(self, index: int, parts: Iterable[bytes], length: int | None = None) -> Iterator[bytes]:
        """Open attachment `index` from its sealed parts, checking size and SHA-256 at the end."""
        return open_attachment(self.opened.report_key, index, self.body.attachments[index], parts, length,
                               self.body.padded)


def open_report(header: bytes, body: bytes, attachments: int, identities: Sequence[Identity]) -> OpenedReport:
    """Open a report's header and body with one of `identities`."""
    opened = open_header(header, identities)
    report = OpenedReport(opened, open_body(opened.report_key, body, attachments))
    check_reporter_stanza(report)
    return report


def check_reporter_stanza(report: OpenedReport) -> None:
    """§4.1: a version 2 header's stanza 0 is sealed to the body's own reply key, else *wrong thread*."""
    reporter = report.opened.header.reporter
    if reporter is None:
        return
    try:
        reply = report.body.reply
    except CryptoError:
        reply = None
    if reply is None or reply.key_id != reporter:
        raise WrongThread("the report's extra stanza is not sealed to its own reply key: do not trust who else "
                          "can read it")


def open_attachment(report_key: bytes, index: int, entry: ManifestEntry, parts: Iterable[bytes],
                    length: int | None = None, padded: bool = True) -> Iterator[bytes]:
    """Yield one attachment's file without its padding (§7.1); raise DamagedAttachment on any mismatch."""
    digest = hashlib.sha256()
    total = padme(entry.size) if padded else entry.size
    seen = 0
    for plain in open_stream(attachment_key(report_key, index), parts, length):
        if seen + len(plain) > total:
            raise DamagedAttachment(f"attachment {index} is larger than its manifest says")
        data = plain[:max(entry.size - seen, 0)]
        if plain.count(0, len(data)) != len(plain) - len(data):
            raise DamagedAttachment(f"attachment {index} has padding that is not zero")
        seen += len(plain)
        if data:
            digest.update(data)
            yield data
    if seen != total or digest.hexdigest() != entry.sha256:
        raise DamagedAttachment(f"attachment {index} does not match the size or SHA-256 in its manifest")
