"""Make the codename and message vectors of docs/format.md §12 (numbers 60 and up) in this folder.

Run `python tests/vectors/generate_messages.py` from the repository root. It writes:

- `60-codename-normalise.json`: `[{"input": typed text, "expect": 25 ASCII digits | "invalid codename"}]`;
- `61-codename-derive.json`: `[{"codename", "salt" (base64url), "token" (base64url), "lookup" (hex),
  "reply_recipient", "reply_identity"}]`;
- `NN-message-*.msg`: `key: value` lines, a blank line, then a sealed message file (format.md §8):

    expect: success | no match | header mac | malformed header | damaged body | wrong thread | wrong sender
    identity: INTAKE-IDENTITY-1:...      (one or more; the opener tries them all at once)
    reply: intake-recipient-1:...        (the thread's reply recipient)
    from: reviewer | reporter            (the sender the store recorded)
    body: {...}                          (success only: the message JSON an opener must return)
    bound: yes | no                      (success, from 97 on: whether the opener knows it is bound, §12.4)
    comment: what the vector tests

The JSON files are deterministic; sealing is random, so a new run writes other `.msg` bytes with the
same meaning (`--new` writes only the `.msg` files that do not exist yet, leaving the committed ones byte
for byte: 62-91 are version 1 messages, written before the thread MAC; 97-99 are version 2). Only files
named 60 and up are touched: generate.py owns the `.vec` files.
"""

from __future__ import annotations

import base64
import io
import json
import struct
import sys
from pathlib import Path

import nacl.bindings as sodium
import nacl.utils

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from intake.crypto.codename import derive_keys, normalise  # noqa: E402
from intake.crypto.container import read_envelope, write_envelope  # noqa: E402
from intake.crypto.envelope import (  # noqa: E402
    BODY_AD,
    BODY_KEY_ID,
    MAC_KEY_ID,
    NONCE_BYTES,
    Body,
    derive,
    open_header,
    seal_body,
)
from intake.crypto.errors import CryptoError  # noqa: E402
from intake.crypto.keys import Identity, Recipient, generichash  # noqa: E402
from intake.crypto.message import (  # noqa: E402
    MESSAGE_BODY_KEY_ID,
    MessageBody,
    open_message,
    rewrap_message_header,
    seal_message,
    seal_padded,
    thread_mac,
)
from intake.crypto.report import SealedReport  # noqa: E402

HERE = Path(__file__).resolve().parent
CANON = "0471933820581029937160245"
KHMER = "០១២៣៤៥៦៧៨៩"
MYANMAR = "၀၁၂၃၄၅၆၇၈၉"


def script(digits: str, table: str) -> str:
    """The ASCII digits written with another script's digits."""
    return "".join(table[int(d)] for d in digits)


def grouped(digits: str, sep: str = " ") -> str:
    """Digits in groups of 5."""
    return sep.join(digits[i:i + 5] for i in range(0, len(digits), 5))


def normalise_cases() -> list[tuple[str, str]]:
    """Typed codenames and what normalisation must make of them (§12.2)."""
    bad = "invalid codename"
    mixed = script(CANON[:10], KHMER) + "\u200b" + script(CANON[10:20], MYANMAR) + "\u200b" + CANON[20:]
    return [
        (grouped(CANON), CANON),
        (CANON, CANON),
        (grouped(CANON, "-"), CANON),
        (grouped(script(CANON, KHMER)), CANON),
        (grouped(script(CANON, MYANMAR)), CANON),
        (grouped(script(CANON, MYANMAR).replace("၀", "ဝ")), CANON),
        (mixed, CANON),
        ("\t " + grouped(CANON, "\u00a0") + " \r\n", CANON),
        (grouped(CANON, "\u2013"), CANON),
        (grouped(CANON, " \u2014 "), CANON),
        (grouped(CANON, "\u2212"), CANON),
        (grouped(CANON, "\uff0d"), CANON),
        (grouped(CANON, "\u202f") + "\u3000", CANON),
        (grouped(CANON, "\u2010\u2011\u2012\u2015"), CANON),
        (" " * 175 + CANON, CANON),
        (" " * 176 + CANON, bad),
        ("", bad),
        (grouped(CANON[:24]), bad),
        (grouped(CANON + "7"), bad),
        (grouped(CANON).replace("0", "O"), bad),
        (grouped(CANON, "."), bad),
        (grouped(CANON, "_"), bad),
        (grouped(CANON, "/"), bad),
        ("".join(chr(0xFF10 + int(d)) for d in CANON), bad),
        ("".join(chr(0x0660 + int(d)) for d in CANON), bad),
        ("".join(chr(0x1090 + int(d)) for d in CANON), bad),
        ("".join(chr(0x0E50 + int(d)) for d in CANON), bad),
        ("\u00b9" + CANON[1:], bad),
        ("\U0001d7ce" + CANON[1:], bad),
        ("\ud800" + CANON, bad),
        (CANON + "\u0000", bad),
        ("\u200d" + CANON, bad),
        ("\u17d4" + CANON, bad),
    ]


def derive_cases() -> list[tuple[str, bytes]]:
    """Codenames (as typed) and salts for the derivation vectors (§12.3)."""
    return [(grouped(CANON), bytes(16)),
            (grouped(script(CANON, KHMER)), bytes(range(16))),
            (grouped("9" * 25, "-"), bytes(range(16))),
            (grouped(script(CANON, MYANMAR).replace("၀", "ဝ"), "-"), bytes(16)),
            ("0" * 25, bytes(range(255, 239, -1)))]


def b64(data: bytes) -> str:
    """Base64url without padding."""
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def envelope(message: SealedReport, header: bytes | None = None, body: bytes | None = None,
             streams: list[bytes] | None = None) -> bytes:
    """Serialise a sealed message as a sealed report file (§8), optionally with a replaced part."""
    out = io.BytesIO()
    chosen = list(message.streams if streams is None else streams)
    write_envelope(out, message.header if header is None else header, message.body if body is None else body,
                   [(len(s), [s]) for s in chosen])
    return out.getvalue()


def write(name: str, expect: str, identities: list[Identity], reply: Recipient, sender: str, data: bytes,
          comment: str) -> None:
    """Write one message vector, with the body an opener must return when it expects success."""
    if "--new" in sys.argv and (HERE / f"{name}.msg").exists():
        return
    lines = [f"expect: {expect}", *(f"identity: {i.text()}" for i in identities), f"reply: {reply}",
             f"from: {sender}"]
    if expect == "success":
        body, bound = _opened_json(data, identities, reply, sender)
        lines.append("body: " + json.dumps(body, ensure_ascii=False, separators=(",", ":")))
        if name >= "97":
            lines.append(f"bound: {'yes' if bound else 'no'}")
    lines.append(f"comment: {comment}")
    (HERE / f"{name}.msg").write_bytes("\n".join(lines).encode() + b"\n\n" + data)


def _opened_json(data: bytes, identities: list[Identity], reply: Recipient, sender: str) -> tuple[dict, bool]:
    """Open a success vector with the Python implementation, for its `body:` and `bound:` lines."""
    env = read_envelope(io.BytesIO(data))
    opened = open_message(env.header, env.body, len(env.streams), identities, reply, sender)
    return json.loads(opened.body.to_json()), opened.bound


def _opened(message: SealedReport, who: Identity, reply: Recipient):
    """The body of a message as `who` opens it."""
    return open_message(message.header, message.body, len(message.streams), [who], reply, "reporter").body


def authentic(key: bytes, data: bytes) -> bytes:
    """A message body sealed under the message body key of `key`, whatever its JSON says."""
    return seal_padded(derive(key, MESSAGE_BODY_KEY_ID), data)


def main() -> None:
    """Write every vector of §12."""
    for old in [*HERE.glob("*.msg"), HERE / "60-codename-normalise.json", HERE / "61-codename-derive.json"]:
        if "--new" not in sys.argv or old.suffix == ".json":
            old.unlink(missing_ok=True)
    normal = [{"input": typed, "expect": expect} for typed, expect in normalise_cases()]
    for case in normal:
        try:
            got = normalise(case["input"])
        except CryptoError:
            got = "invalid codename"
        assert got == case["expect"], case
    (HERE / "60-codename-normalise.json").write_text(json.dumps(normal, indent=1) + "\n")
    derived = []
    for typed, salt in derive_cases():
        keys = derive_keys(typed, salt)
        derived.append({"codename": typed, "salt": b64(salt), "token": b64(keys.token), "lookup": keys.lookup.hex(),
                        "reply_recipient": str(keys.identity.recipient), "reply_identity": keys.identity.text()})
    (HERE / "61-codename-derive.json").write_text(json.dumps(derived, indent=1, ensure_ascii=False) + "\n")
    first, last = derive_cases()[0], derive_cases()[-1]
    messages(derive_keys(*first).identity, derive_keys(*last).identity)
    print(f"wrote 2 codename files and {len(list(HERE.glob('*.msg')))} message vectors to {HERE}")


def messages(me: Identity, other: Identity) -> None:
    """The sealed message vectors: `me` is the thread's reply identity, `other` another case's."""
    reviewers = [Identity.generate() for _ in range(3)]
    stranger = Identity.generate()
    team = [r.recipient for r in reviewers]
    reply = me.recipient
    text = "Which street, and which day? Was the camera on a pole or a car?"
    answer = "ផ្លូវ ២៧១, ថ្ងៃច័ន្ទ. ကင်မရာ ဒရုန်း \U0001F4F7"
    photo = bytes((i * 7 + 3) % 256 for i in range(70000))
    r = seal_message(team, reply, "reviewer", text)
    f = seal_message(team, reply, "reporter", answer, [("street.jpg", "image/jpeg", [photo]),
                                                       ("note.txt", "text/plain", [b""])])
    write("62-message-reply-by-reviewer", "success", [reviewers[1]], reply, "reviewer", envelope(r),
          "a reviewer's reply, opened by the second reviewer")
    write("63-message-reply-by-reporter", "success", [me], reply, "reviewer", envelope(r),
          "the same reply, opened by the reply identity the codename of 61 derives")
    write("64-message-followup-by-reviewer", "success", [stranger, reviewers[0]], reply, "reporter", envelope(f),
          "a follow-up in Khmer and Burmese with two attachments, one empty; the opener holds two identities")
    write("65-message-followup-by-reporter", "success", [me], reply, "reporter", envelope(f),
          "the same follow-up, opened by the reporter")
    newcomer = Identity.generate()
    moved = rewrap_message_header(f.header, [reviewers[2]], [reviewers[0].recipient, newcomer.recipient])
    write("66-message-rewrapped-by-newcomer", "success", [newcomer], reply, "reporter", envelope(f, moved),
          "rewrapped to reviewers 0 and a newcomer: the newcomer opens it")
    write("67-message-rewrapped-by-reporter", "success", [me], reply, "reporter", envelope(f, moved),
          "rewrapped: the reporter's stanza was kept and still opens")
    write("68-message-rewrapped-no-match", "no match", [reviewers[1]], reply, "reporter", envelope(f, moved),
          "rewrapped without reviewer 1, who no longer opens it")
    write("69-message-no-match", "no match", [stranger], reply, "reviewer", envelope(r), "sealed to others")
    write("70-message-wrong-thread", "wrong thread", [reviewers[0]], other.recipient, "reviewer", envelope(r),
          "a reply shown in another case's thread (another reply recipient)")
    alone = seal_message([], reply, "reviewer", text).header
    swapped = r.header[:6] + r.header[6 + 96:6 + 192] + r.header[6:6 + 96] + r.header[6 + 192:]
    write("71-message-wrong-thread-reporter-not-first", "wrong thread", [me], reply, "reviewer", envelope(r, swapped),
          "the reporter's stanza moved to second place")
    write("72-message-malformed-one-stanza", "malformed header", [me], reply, "reviewer", envelope(r, alone),
          "a header with the reporter's stanza only")
    key = open_header(r.header, [reviewers[0]]).report_key
    r2 = seal_message(team, reply, "reviewer", "another reply")
    spliced = r.header[:6] + r2.header[6:6 + 96] + r.header[6 + 96:]
    write("73-message-header-mac-reporter-stanza-spliced", "header mac", [me], reply, "reviewer",
          envelope(r, spliced), "stanza 0 replaced by that of another message of the same thread")
    write("74-message-wrong-sender", "wrong sender", [reviewers[0]], reply, "reporter", envelope(r),
          "a reviewer's reply that the store records as the reporter's")
    write("75-message-wrong-sender-reporter", "wrong sender", [me], reply, "reviewer", envelope(f),
          "a follow-up that the store records as a reviewer's reply")
    report_body = seal_body(key, Body({"description": text}))
    write("76-message-damaged-body-report-body", "damaged body", [reviewers[0]], reply, "reviewer",
          envelope(r, body=report_body), "a report body (body_key) where a message body (KDF 3) belongs")
    assert derive(key, BODY_KEY_ID) != derive(key, MESSAGE_BODY_KEY_ID)
    bad = {
        "77-message-damaged-body-unknown-member": {"version": 1, "from": "reviewer", "text": "x", "attachments": [],
                                                   "extra": 1},
        "78-message-damaged-body-missing-member": {"version": 1, "from": "reviewer", "text": "x"},
        "79-message-damaged-body-from": {"version": 1, "from": "admin", "text": "x", "attachments": []},
        "80-message-damaged-body-text-type": {"version": 1, "from": "reviewer", "text": ["x"], "attachments": []},
        "81-message-damaged-body-empty": {"version": 1, "from": "reviewer", "text": "", "attachments": []},
        "82-message-damaged-body-version": {"version": 2, "from": "reviewer", "text": "x", "attachments": []},
        "83-message-damaged-body-version-true": {"version": True, "from": "reviewer", "text": "x", "attachments": []},
        "84-message-damaged-body-manifest-count": {"version": 1, "from": "reviewer", "text": "x", "attachments": [
            {"name": "a", "type": "text/plain", "size": 1, "sha256": "0" * 64}]},
        "89-message-damaged-body-lone-surrogate": {"version": 1, "from": "reviewer", "text": "x\ud800",
                                                   "attachments": []},
        "90-message-damaged-body-name-surrogate": {"version": 1, "from": "reviewer", "text": "x", "attachments": [
            {"name": "\udfff.jpg", "type": "image/jpeg", "size": 1, "sha256": "0" * 64}]},
        "85-message-damaged-body-manifest-entry": {"version": 1, "from": "reviewer", "text": "x", "attachments": [
            {"name": "a", "type": "text/plain", "size": -1, "sha256": "0" * 64}]},
    }
    for name, value in bad.items():
        data = json.dumps(value).encode()
        streams = [f.streams[1]] if "entry" in name or "name-" in name else None
        write(name, "damaged body", [reviewers[0]], reply, "reviewer", envelope(r, body=authentic(key, data),
                                                                                  streams=streams),
              f"an authentic body whose JSON is wrong: {json.dumps(value)}")
    fkey = open_header(f.header, [reviewers[0]]).report_key
    entries = [a.as_json() | {"size": float(a.size)} for a in _opened(f, reviewers[0], reply).attachments]
    floats = {"version": 1.0, "from": "reporter", "text": answer, "attachments": entries}
    write("88-message-numbers-by-value", "success", [reviewers[0]], reply, "reporter",
          envelope(f, body=authentic(fkey, json.dumps(floats).encode())),
          "an authentic follow-up whose version and sizes are written 1.0 and 70000.0: numbers count by value")
    junk = struct.pack(">I", 3) + b"\xff\xfe\x00" + bytes(1021)
    nonce = bytes(NONCE_BYTES)
    raw = nonce + sodium.crypto_aead_xchacha20poly1305_ietf_encrypt(junk, BODY_AD, nonce,
                                                                    derive(key, MESSAGE_BODY_KEY_ID))
    write("86-message-damaged-body-not-utf8", "damaged body", [reviewers[0]], reply, "reviewer",
          envelope(r, body=raw), "an authentic body whose JSON bytes are not UTF-8")
    deep = b'{"version": 1, "from": "reviewer", "text": ' + b"[" * 50_000 + b"]" * 50_000 + b', "attachments": []}'
    write("91-message-damaged-body-deep-nesting", "damaged body", [reviewers[0]], reply, "reviewer",
          envelope(r, body=authentic(key, deep)), "an authentic body nesting 50,000 arrays, deeper than Python's stack")
    nan = b'{"version": NaN, "from": "reviewer", "text": "x", "attachments": []}'
    write("87-message-damaged-body-nan", "damaged body", [reviewers[0]], reply, "reviewer",
          envelope(r, body=authentic(key, nan)), "an authentic body with NaN, which is not JSON")
    bound_vectors(r, reviewers, reply, other.recipient)


def forged(copied: bytes, reviewers: list[Identity], thread: str, text: str) -> SealedReport:
    """A message forged by someone who can write the store: stanza 0 copied from a stored message of the thread, a
    fresh K sealed to the public keyring, a version 2 body whose thread MAC is `thread`."""
    key = nacl.utils.random(32)
    stanzas = copied[6:6 + 96] + b"".join(bytes.fromhex(r.recipient.key_id) + sodium.crypto_box_seal(
        key, r.recipient.public_key) for r in reviewers)
    signed = b"INTK" + bytes([1, 1 + len(reviewers)]) + stanzas
    body = MessageBody("reporter", text, [], 2, thread)
    return SealedReport(signed + generichash(32, signed, derive(key, MAC_KEY_ID)),
                        seal_padded(derive(key, MESSAGE_BODY_KEY_ID), body.to_json()), ())


def bound_vectors(r: SealedReport, reviewers: list[Identity], reply: Recipient, other: Recipient) -> None:
    """97-99: the thread MAC of message version 2 (§12.4); `r` is a version 2 reply of the thread of `reply`."""
    write("97-message-success-bound", "success", [reviewers[0]], reply, "reviewer", envelope(r),
          "a version 2 reply with its thread MAC, opened by a reviewer: bound")
    guess = base64.urlsafe_b64encode(nacl.utils.random(32)).decode().rstrip("=")
    fake = forged(r.header, reviewers, guess, "Please close and delete my case.")
    write("98-message-thread-mac-forged", "thread mac", [reviewers[1]], reply, "reporter", envelope(fake),
          "forged by a store writer: stanza 0 copied from 97, a fresh K sealed to the keyring, a made-up thread MAC")
    key = nacl.utils.random(32)
    elsewhere = forged(r.header, reviewers, thread_mac(key, other), "Please close and delete my case.")
    write("99-message-thread-mac-other-thread", "thread mac", [reviewers[2]], reply, "reporter", envelope(elsewhere),
          "a store writer who knows another thread's reply key (its reporter): stanza 0 copied from 97, the thread "
          "MAC made for the other thread")


if __name__ == "__main__":
    main()
