"""`intake-review publish`: a copy of a case to publish (photos with faces hidden, text redacted) and its check page.

DIR/publication/ holds only what was made anew: photo-N.jpg (and message-S-photo-N.jpg for the thread's files)
re-encoded from hidden pixels (no metadata, no name the reporter chose) and report.txt. DIR/check.html and
DIR/check/ are for the reviewer who checks it first.
"""

from __future__ import annotations

import functools
import hashlib
import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

from intake.crypto.errors import CryptoError
from intake.publish.faces import check_installed
from intake.publish.redact import BadWords, Redacted, pattern, redact_fields
from intake.publish.sheet import Photo, contact_sheet
from intake.publish.worker import MAX_INPUT, Publisher
from intake.review.clean import CannotClean
from intake.review.errors import DAMAGED_CASE, ReviewError
from intake.review.folder import Folder
from intake.review.metadata import sniff
from intake.review.names import terminal_text
from intake.review.opening import OpenCase, open_case
from intake.review.sandbox import limits
from intake.review.terminal import echo

PHOTOS = ("image/jpeg", "image/png", "image/webp", "image/gif")
BY_HAND = "not published: blur by hand"


def publish_case(session, ref: str, out: Path, words: tuple[str, ...], custody=None) -> None:  # noqa: ANN001
    """Write the publication copy of one case into the new or empty folder `out`."""
    try:
        found = pattern(words)
    except BadWords as exc:
        raise ReviewError(str(exc), "check the --redact values") from None
    limits()
    try:
        check_installed()
    except CannotClean as exc:
        raise ReviewError(str(exc), "then run publish again; nothing was written") from None
    if out.exists() and (not out.is_dir() or any(out.iterdir())):
        raise ReviewError(f"{out} is not a new or empty folder", "publish each case into a new folder")
    case = open_case(session, ref)
    folder = Folder.at(out)
    try:
        photos, fields, hashes = _write(case, folder, found, len(words))
    except BaseException:
        folder.discard()
        raise
    for p in photos:
        state = (f"{p.regions} regions hidden" + "".join(f"; {n}" for n in p.notes)) if p.published else p.why
        echo(terminal_text(f"{p.label} ({p.name}): {state}"), err=True)
    for f in fields:
        echo(terminal_text(f"field {f.name}: {f.note or f'{f.count} spans replaced'}"), err=True)
    echo(terminal_text(f"published case {case.case.ref} into {out / 'publication'}: check every photo in "
                       f"{out / 'check.html'} before publishing it (automatic detection misses faces)"), err=True)
    if custody is not None:
        custody.append(case, "export", hashes, "publish: faces hidden, text redacted")
    damaged = [p for p in photos if p.why and p.why.startswith("damaged")]
    if damaged:
        raise ReviewError(f"case {case.case.ref}: {damaged[0].label} is {damaged[0].why}",
                          "restore the case from a backup; the rest was published", DAMAGED_CASE)


@dataclass
class Item:
    """A file of the case: the report's attachment N, or file N of a thread's message, and how to read it."""

    label: str
    stem: str
    name: str
    size: int
    plaintext: Callable[[], Iterator[bytes]]


def _items(case: OpenCase) -> Iterator[Item | Photo]:
    """The report's files, then each message's; a message whose files cannot be trusted, as a Photo saying why."""
    for idx, entry in enumerate(case.report.body.attachments):
        yield Item(f"attachment {idx + 1}", f"photo-{idx + 1}", entry.name, entry.size,
                   functools.partial(case.plaintext, idx))
    for message in case.thread():
        seq = message.message.seq
        if message.opened is None or "unverified" in message.shown:
            if message.message.lengths:
                why = message.shown.get("error") or message.shown.get("unverified")
                yield Photo(f"message {seq}", "its files", "", why=f"not published: the message is not trusted ({why})")
            continue
        for idx, entry in enumerate(message.opened.body.attachments):
            yield Item(f"message {seq} file {idx + 1}", f"message-{seq}-photo-{idx + 1}", entry.name, entry.size,
                       functools.partial(case.message_plaintext, message, idx))


def _write(case: OpenCase, folder: Folder, found, words: int) -> tuple[list[Photo], list[Redacted], dict[str, str]]:  # noqa: ANN001
    """Every file of the publication and the check page; the SHA-256 of each published file."""
    public, check = folder.folder("publication"), folder.folder("check")
    photos, hashes = [], {}
    with Publisher() as publisher:
        for item in _items(case):
            if isinstance(item, Photo):
                photos.append(item)
                continue
            photo = Photo(item.label, item.name, "")
            try:
                data, photo.kind = _photo(item)
            except CryptoError as exc:
                data, photo.why = None, f"damaged ({exc.expect}): not published"
            if data is not None:
                done = publisher.publish(data, photo.kind)
                del data
                if isinstance(done, str):
                    photo.why = done
                else:
                    photo.published, photo.outlined = f"{item.stem}.jpg", f"check/{item.stem}.jpg"
                    photo.regions, photo.rounds, photo.notes = len(done.boxes), done.rounds, done.notes
                    _put(public, photo.published, done.jpeg)
                    _put(check, photo.published, done.outlined)
                    hashes[f"published {item.label}"] = hashlib.sha256(done.jpeg).hexdigest()
            elif photo.why is None:
                photo.why = BY_HAND if photo.kind not in PHOTOS else f"not published: larger than {MAX_INPUT >> 20} MiB"
            photos.append(photo)
    fields = redact_fields(case.report.body.fields, case.report.body.zawgyi, found)
    text = "".join(f"{f.name}:\n{f.text}\n\n" for f in fields if f.text is not None).encode()
    _put(public, "report.txt", text)
    hashes["published report.txt"] = hashlib.sha256(text).hexdigest()
    _put(folder, "check.html", contact_sheet(case.case.ref, photos, fields, words).encode())
    return photos, fields, hashes


def _photo(item: Item) -> tuple[bytes | None, str]:
    """The file in clear if it is a photo small enough to publish (its type read from its first bytes)."""
    chunks = item.plaintext()
    first = next(chunks, b"")
    kind = sniff(first[:16]) or "unknown"
    if kind not in PHOTOS or item.size > MAX_INPUT:
        chunks.close()  # type: ignore[attr-defined]
        return None, kind
    return first + b"".join(chunks), kind  # the whole stream: its size and checksum are checked at its end


def _put(folder: Folder, name: str, data: bytes) -> None:
    try:
        fd = folder.create(name)
    except FileExistsError:  # the folder was empty when checked: another run is writing into it
        raise ReviewError(f"{folder.path / name} appeared while publishing (another publish into the same folder?)",
                          "publish each case into a new folder, one run at a time") from None
    with os.fdopen(fd, "wb") as f:
        f.write(data)
