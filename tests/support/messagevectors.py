"""Reading the codename and message vectors of docs/format.md §12 (see tests/vectors/generate_messages.py)."""

from __future__ import annotations

import io
import json
from dataclasses import dataclass
from pathlib import Path

from intake.crypto.container import read_envelope, stream_parts
from intake.crypto.keys import Identity, Recipient
from intake.crypto.message import open_message

VECTORS = Path(__file__).resolve().parents[1] / "vectors"


@dataclass(frozen=True)
class MessageVector:
    """One sealed message vector: what it expects, who opens it, in which thread, from whom."""

    name: str
    expect: str
    identities: list[Identity]
    reply: Recipient
    sender: str
    body: dict | None
    data: bytes
    bound: bool | None = None  # from 97 on: whether the opener knows the message is bound to its thread (§12.4)


def load_message(path: Path) -> MessageVector:
    """Parse a `.msg` file: `key: value` lines, a blank line, then the sealed message file."""
    head, data = path.read_bytes().split(b"\n\n", 1)
    pairs = [line.split(": ", 1) for line in head.decode().splitlines()]
    values = dict(pairs)
    body = json.loads(values["body"]) if "body" in values else None
    return MessageVector(path.stem, values["expect"], [Identity.parse(v) for k, v in pairs if k == "identity"],
                         Recipient.parse(values["reply"]), values["from"], body, data,
                         {"yes": True, "no": False}.get(values.get("bound", "")))


def message_vectors() -> list[MessageVector]:
    """Every `.msg` vector, in name order."""
    return [load_message(p) for p in sorted(VECTORS.glob("*.msg"))]


def codename_vectors(name: str) -> list[dict]:
    """The cases of a codename vector file (60 or 61)."""
    return json.loads(next(VECTORS.glob(f"{name}-*.json")).read_text())


def open_message_file(vector: MessageVector) -> tuple[dict, list[bytes], bool]:
    """Open a sealed message file: the body as JSON, every attachment's plaintext and whether it is bound."""
    f = io.BytesIO(vector.data)
    env = read_envelope(f)
    opened = open_message(env.header, env.body, len(env.streams), vector.identities, vector.reply, vector.sender)
    files = [b"".join(opened.attachment(i, stream_parts(f, off, n), n)) for i, (off, n) in enumerate(env.streams)]
    return json.loads(opened.body.to_json()), files, opened.bound
