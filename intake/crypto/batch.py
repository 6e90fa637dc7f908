"""Many reports opened at once, one step of §4-§5 for all of them before the next, for the review list.

Python run between two X25519s is slower than the same Python run in a row (docs/performance.md, "The review
list, third round"): recovering every K of a batch first (§4 steps 1-6), then checking every MAC and decrypting
every body, then reading every body's JSON, made the list about 3 % faster on an idle Intel Xeon. Each report's
failure stays its own: one hostile report never stops the others.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from intake.crypto.envelope import (
    BODY_KEY_ID,
    Header,
    Opened,
    check_header,
    derive,
    open_padded,
    read_body,
    recover_key,
)
from intake.crypto.keys import Identity
from intake.crypto.report import OpenedReport, check_reporter_stanza

FAILURES = (ValueError, TypeError, RecursionError)  # a CryptoError is a ValueError


def open_reports(reports: Sequence[tuple[bytes, bytes, int]],
                 identities: Sequence[Identity]) -> list[OpenedReport | Exception]:
    """open_report of each (header, body, attachments), or the exception it raised, in the same order."""
    mine = {identity.key_id: identity for identity in identities}
    headers = [header for header, _, _ in reports]
    keys = _stage(lambda raw: recover_key(raw, mine), headers)
    plain = _stage(_decrypt, keys, [body for _, body, _ in reports])
    return _stage(lambda pair, count: _checked(OpenedReport(pair[0], read_body(pair[1], count))), plain,
                  [count for _, _, count in reports])


def _decrypt(key: tuple[Header, str, bytes], sealed: bytes) -> tuple[Opened, bytes]:
    """The header's MAC checked, then the body decrypted (§4 step 7, §5)."""
    opened = check_header(*key)
    return opened, open_padded(derive(opened.report_key, BODY_KEY_ID), sealed)


def _stage(step: Callable[..., Any], previous: list[Any], *more: Sequence[Any]) -> list[Any]:
    """step(item, *more items) for each item of the previous stage; an item that failed stays its exception."""
    out: list[Any] = []
    for item, *rest in zip(previous, *more, strict=True):
        if isinstance(item, Exception):
            out.append(item)
            continue
        try:
            out.append(step(item, *rest))
        except FAILURES as exc:
            out.append(exc)
    return out


def _checked(report: OpenedReport) -> OpenedReport:
    """The report, once its reporter's stanza is checked (§4.1)."""
    check_reporter_stanza(report)
    return report
