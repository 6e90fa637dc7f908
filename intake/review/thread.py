"""A case's thread for reviewers: opened for `show` and `export`, answered by `reply` (docs/format.md §12.4)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from intake.crypto.errors import CryptoError
from intake.crypto.keys import Identity, Recipient
from intake.crypto.message import OpenedMessage, open_message, seal_message
from intake.errors import BadValue
from intake.review.errors import ReviewError
from intake.review.names import terminal_text
from intake.review.opening import OpenCase, open_case
from intake.review.session import Session
from intake.review.terminal import echo
from intake.storage.threads import Message

MAX_REPLY = 20000
UNVERIFIED = ("written before messages were bound to their thread (message version 1): anyone who could write "
              "the database could have written it, so confirm with the reporter before acting on it")
WHY = {"thread mac": "not bound to this thread: forged by someone who can write the database, or moved from "
                     "another thread; do not act on it",
       "wrong thread": "sealed to another thread's reply key: moved from another case; do not act on it",
       "wrong sender": "it says another sender than the database records: altered; do not act on it"}
DOWNGRADED = ("a version 1 message in a case whose report has the reporter's stanza (format.md §4.1): every writer "
              "of such a case writes version 2, so someone who can write the database forged it; do not act on it")


def reply_recipient(case: OpenCase) -> Recipient | None:
    """The thread's reply recipient from the case body's reply_key, or None when the report has none."""
    try:
        return case.report.body.reply
    except CryptoError:
        return None


@dataclass(frozen=True, repr=False)
class ThreadMessage:
    """A message of the thread: as stored, as `show` lists it, and opened (None when it does not open)."""

    message: Message
    shown: dict[str, object]
    opened: OpenedMessage | None = None


def open_thread(messages: Sequence[Message], identities: Sequence[Identity], reply: Recipient | None,
                bound_only: bool = False) -> list[ThreadMessage]:
    """Each message in clear (place, from, day, text, its files listed), or with the reason it could not be opened.

    `bound_only` (the case's header is version 2, format.md §4.1): an unbound version 1 message is refused as a
    downgraded forgery (*thread mac*), never shown as unverified text.
    """
    opened: list[ThreadMessage] = []
    for message in messages:
        entry: dict[str, object] = {"seq": message.seq, "from": message.sender, "day": message.day.isoformat()}
        result = None
        if reply is None:
            entry["error"] = "the report has no reply key, so no message belongs to it"
        else:
            try:
                result = open_message(message.header, message.body, len(message.lengths), identities, reply,
                                      message.sender)
            except CryptoError as exc:
                entry["error"] = exc.expect
                if exc.expect in WHY:
                    entry["why"] = WHY[exc.expect]
            except (ValueError, TypeError, RecursionError):  # one hostile message never hides the others
                entry["error"] = "damaged body"
        if result is not None and bound_only and not result.bound:
            entry.update(error="thread mac", why=DOWNGRADED)
            result = None
        if result is not None:
            if not result.bound:
                entry["unverified"] = UNVERIFIED
            entry["text"] = result.body.text
            entry["attachments"] = [{"name": a.name, "type": a.type, "size": a.size} for a in result.body.attachments]
        opened.append(ThreadMessage(message, entry, result))
    return opened


def seal_reply(case: OpenCase, text: str, recipients: Sequence[Recipient]) -> tuple[bytes, bytes]:
    """Seal a reviewer's reply to the case's reply key and the keyring; return header and body."""
    if not text.strip():
        raise BadValue("the reply is empty", "--text or --file")
    if len(text) > MAX_REPLY:
        raise BadValue(f"the reply is longer than {MAX_REPLY} characters: shorten it or send two", "--text")
    reply = reply_recipient(case)
    if reply is None:
        raise ReviewError(f"case {case.case.ref} has no reply key: it was sent without a codename, so the "
                          "reporter cannot read a reply", "write nothing; the reporter may send a new report")
    try:
        sealed = seal_message(recipients, reply, "reviewer", text)
    except ValueError as exc:
        raise ReviewError(f"cannot seal the reply: {exc}", "do not reply to this case") from None
    return sealed.header, sealed.body


def reply_to_case(session: Session, ref: str, text: str, keys_dir: Path, signer: str | Callable[[], str],
                  out: Path | None) -> None:
    """Seal a reply and store it (database) or append it to a replies file (bundle, for `intake import-replies`)."""
    from intake.review.triage import reviewer_keyring

    case = open_case(session, ref)
    recipients = reviewer_keyring(session, keys_dir, signer, "reply").recipients()
    header, body = seal_reply(case, text, recipients)
    if session.source.read_only:
        if out is None:
            raise ReviewError("a bundle is read-only: a reply from it goes into a replies file",
                              "add --out FILE, then carry FILE to the server for `intake import-replies FILE`")
        from intake.bundle.replies import append_reply

        append_reply(out, session.source.import_key, session.identities, case.case.ref, header, body)
        echo(terminal_text(f"case {case.case.ref}: reply sealed into {out}"), err=True)
        return
    from intake.storage.cases import StorageError
    from intake.storage.threads import add_message

    try:
        add_message(session.source.engine, case.case.id, "reviewer", header, body)
    except StorageError as exc:
        raise ReviewError(str(exc), "check the reference with `list`") from None
    echo(terminal_text(f"case {case.case.ref}: reply sealed to the reporter and the keyring"), err=True)
