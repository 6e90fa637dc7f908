"""`intake keys rewrap`: re-seal every stored report key to exactly the current keyring (format.md §4, §4.1, §12.4);
a reporter's stanza (a report's, a message's) is kept byte for byte.

Each case's header is swapped by a conditional update (only where it is still the header that was
read), many cases to a transaction, so a crash leaves every case sealed to its old or its new key set;
running rewrap again skips what is done. The public-key work runs in worker processes.
"""

from __future__ import annotations

import multiprocessing
import os
import threading
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field

from sqlalchemy import Engine

from intake.crypto.envelope import open_header, parse_header, rewrap_header
from intake.crypto.errors import CryptoError
from intake.crypto.keys import Identity, Recipient
from intake.crypto.message import rewrap_message_header
from intake.storage.cases import header_pages, replace_headers, replace_note_headers
from intake.storage.threads import message_headers, replace_message_headers

PAGE = 256


@dataclass
class Outcome:
    """What one rewrap run did."""

    rewrapped: int = 0
    current: int = 0
    changed_meanwhile: int = 0
    failed: list[str] = field(default_factory=list)

    def as_json(self) -> dict[str, object]:
        """The counts, as the audit entry records them."""
        return {"rewrapped": self.rewrapped, "already_current": self.current,
                "changed_meanwhile": self.changed_meanwhile, "failed": len(self.failed)}


_worker: tuple[list[Identity], list[Recipient]] = ([], [])


def _init(identities: list[Identity], recipients: list[Recipient], parent: int) -> None:
    """Hold the keys in this worker, and end it if the rewrap process dies (e.g. it is killed)."""
    global _worker
    _worker = (identities, recipients)
    if parent != os.getpid():
        threading.Thread(target=_follow, args=(parent,), daemon=True).start()


def _follow(parent: int) -> None:
    while os.getppid() == parent:
        time.sleep(0.5)
    os._exit(1)


Row = tuple[int, str, bytes, bytes | None, str | None]


def _reseal(task: tuple[bool, list[tuple[int, str, bytes]]]) -> tuple[bool, list[Row]]:
    """For each (id, label, header) of a page: the new header, or why it could not be opened."""
    identities, recipients = _worker
    of_notes, page = task
    out: list[Row] = []
    for row_id, label, header in page:
        try:
            out.append((row_id, label, header, rewrap_header(open_header(header, identities), recipients),
                        None))
        except CryptoError as exc:
            out.append((row_id, label, header, None, f"{exc.expect}: {exc}"))
        except ValueError as exc:  # a reporter's stanza named like a reviewer key: only a hostile report does that
            out.append((row_id, label, header, None, f"refused: {exc}"))
    return of_notes, out


def _pending(engine: Engine, target: set[str], outcome: Outcome, advance) -> Iterator[tuple[bool, list]]:
    """Yield (is_notes, page) of the rows not yet sealed to exactly `target`."""
    for of_notes in (False, True):
        for page in header_pages(engine, of_notes, PAGE):
            todo = []
            for row in page:
                try:
                    done = set(parse_header(row[2]).reviewer_key_ids) == target
                except CryptoError as exc:
                    outcome.failed.append(f"{row[1]}: {exc.expect}: {exc}")
                    continue
                if done:
                    outcome.current += 1
                else:
                    todo.append(row)
            advance(len(page) - len(todo))
            if todo:
                yield of_notes, todo


def rewrap(engine: Engine, identities: Sequence[Identity], recipients: Sequence[Recipient], jobs: int | None = None,
           progress=None) -> Outcome:
    """Re-seal every case and note not sealed to exactly `recipients`; `progress(n)` is told of each row done."""
    advance = progress or (lambda n: None)
    target = {r.key_id for r in recipients}
    key_ids = [r.key_id for r in recipients]
    outcome = Outcome()
    jobs = jobs or os.cpu_count() or 1
    args = (list(identities), list(recipients), os.getpid())
    pending = _pending(engine, target, outcome, advance)
    if jobs == 1:
        _init(*args)
        try:
            _apply(engine, map(_reseal, pending), key_ids, outcome, advance)
        finally:
            _init([], [], os.getpid())
        _messages(engine, identities, recipients, outcome, advance)
        return outcome
    with multiprocessing.get_context("fork").Pool(jobs, _init, args) as pool:
        _apply(engine, pool.imap(_reseal, pending), key_ids, outcome, advance)
    _messages(engine, identities, recipients, outcome, advance)
    return outcome


def _messages(engine: Engine, identities: Sequence[Identity], recipients: Sequence[Recipient], outcome: Outcome,
              advance) -> None:
    """Rewrap every thread message: the reporter's stanza kept, the reviewer stanzas made anew (format.md §12.4)."""
    target = {r.key_id for r in recipients}
    swaps = []
    for case_id, seq, ref, header in message_headers(engine):
        label = f"message {seq} of case {ref}"
        try:
            if set(parse_header(header).key_ids[1:]) == target:
                outcome.current += 1
                continue
            swaps.append((case_id, seq, header, rewrap_message_header(header, identities, recipients)))
        except (CryptoError, ValueError) as exc:
            outcome.failed.append(f"{label}: {getattr(exc, 'expect', 'refused')}: {exc}")
    for at in range(0, len(swaps), PAGE):
        page = swaps[at:at + PAGE]
        done = replace_message_headers(engine, page)
        outcome.rewrapped += done
        outcome.changed_meanwhile += len(page) - done
    advance(outcome.current + len(swaps))


def _apply(engine: Engine, results, key_ids: list[str], outcome: Outcome, advance) -> None:
    """Swap the new headers in, one transaction per page, and count what happened."""
    for of_notes, page in results:
        swaps = [(row_id, old, new) for row_id, _, old, new, _ in page if new is not None]
        outcome.failed += [f"{label}: {error}" for _, label, _, new, error in page if new is None]
        done = replace_note_headers(engine, swaps) if of_notes else replace_headers(engine, swaps, key_ids)
        outcome.rewrapped += done
        outcome.changed_meanwhile += len(swaps) - done
        advance(len(page))
