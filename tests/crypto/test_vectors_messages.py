"""The Python implementation passes the codename and message vectors, and keeps §12's other promises."""

from __future__ import annotations

import base64
import hashlib
import re
from collections import Counter

import pytest

from intake.crypto.codename import InvalidCodename, derive_keys, lookup_of, make_codename, normalise
from intake.crypto.errors import CryptoError, HeaderMacError, NoMatchingIdentity
from intake.crypto.keys import Identity
from intake.crypto.message import WrongSender, WrongThread, open_message, rewrap_message_header, seal_message
from tests.support.messagevectors import codename_vectors, message_vectors, open_message_file

MESSAGES = message_vectors()
NORMALISE = codename_vectors("60")
DERIVE = codename_vectors("61")
EXPECTS = {"success", "no match", "header mac", "malformed header", "damaged body", "wrong thread", "wrong sender",
           "thread mac"}


def test_vectors_cover_every_outcome() -> None:
    """Message vectors for every outcome §12.4 names, and normalisation vectors both valid and refused."""
    assert {v.expect for v in MESSAGES} == EXPECTS
    assert all(v.name[:2] >= "62" for v in MESSAGES)
    outcomes = Counter(c["expect"] == "invalid codename" for c in NORMALISE)
    assert outcomes[True] >= 10
    assert outcomes[False] >= 10


@pytest.mark.parametrize("case", NORMALISE, ids=[f"n{i}" for i in range(len(NORMALISE))])
def test_normalise_vector(case: dict) -> None:
    """§12.2: each typed codename normalises to its canonical form, or is refused as invalid."""
    if case["expect"] == "invalid codename":
        with pytest.raises(InvalidCodename) as caught:
            normalise(case["input"])
        assert "25 digits" in str(caught.value)
    else:
        assert normalise(case["input"]) == case["expect"]


@pytest.mark.parametrize("case", DERIVE, ids=[f"d{i}" for i in range(len(DERIVE))])
def test_derive_vector(case: dict) -> None:
    """§12.3: a codename and a salt derive exactly the vector's token, lookup and reply keys."""
    salt = base64.urlsafe_b64decode(case["salt"] + "==")
    keys = derive_keys(case["codename"], salt)
    assert base64.urlsafe_b64encode(keys.token).decode().rstrip("=") == case["token"]
    assert keys.lookup.hex() == case["lookup"] == lookup_of(keys.token).hex()
    assert str(keys.identity.recipient) == case["reply_recipient"]
    assert keys.identity.text() == case["reply_identity"]


def test_same_codename_in_any_script_derives_the_same_keys() -> None:
    """The vectors typing one codename in ASCII and in Myanmar digits with the same salt agree."""
    groups: dict[tuple[str, str], set[str]] = {}
    for c in DERIVE:
        groups.setdefault((normalise(c["codename"]), c["salt"]), set()).add(c["lookup"] + c["reply_recipient"])
    assert len(groups) == len(DERIVE) - 1
    assert all(len(outputs) == 1 for outputs in groups.values())


@pytest.mark.parametrize("vector", MESSAGES, ids=[v.name for v in MESSAGES])
def test_message_vector(vector) -> None:
    """§12.4: each message vector opens to its body and files, or fails with exactly its named error."""
    if vector.expect == "success":
        body, files, bound = open_message_file(vector)
        assert body == vector.body
        assert vector.bound is None or bound is vector.bound
        assert [hashlib.sha256(f).hexdigest() for f in files] == [a["sha256"] for a in body["attachments"]]
    else:
        with pytest.raises(CryptoError) as caught:
            open_message_file(vector)
        assert caught.value.expect == vector.expect, str(caught.value)


def test_codenames_are_grouped_fresh_and_uniform() -> None:
    """25 digits in 5 groups of 5, never repeated, each digit as likely as any other.

    A million digits put each count within 1.2% of 100,000 (4 standard deviations); taking bytes mod 10
    without dropping 250..255 would put the digits 0-5 1.6% above it.
    """
    made = [make_codename() for _ in range(40_000)]
    assert all(re.fullmatch(r"\d{5}( \d{5}){4}", c) for c in made)
    assert len(set(made)) == len(made)
    counts = Counter("".join(made).replace(" ", ""))
    assert all(abs(counts[d] - 100_000) < 1200 for d in "0123456789"), counts


def test_derivation_refuses_bad_inputs_before_argon2id() -> None:
    """A refused codename or a salt of the wrong length fails at once, with what to fix."""
    with pytest.raises(InvalidCodename):
        derive_keys("1" * 10_000, bytes(16))
    with pytest.raises(InvalidCodename):
        normalise(b"1" * 25)
    with pytest.raises(ValueError, match="codename_salt"):
        derive_keys("1" * 25, bytes(15))
    with pytest.raises(ValueError, match="32 bytes"):
        lookup_of(bytes(31))


def test_rewrap_keeps_the_reporter_and_drops_the_retired() -> None:
    """Rewrap copies stanza 0 byte for byte, seals to the new team only, and refuses the reporter as a reviewer."""
    reply, old, new = Identity.generate(), Identity.generate(), Identity.generate()
    sealed = seal_message([old.recipient], reply.recipient, "reporter", "the van was white")
    header = rewrap_message_header(sealed.header, [old], [new.recipient])
    assert header[6:102] == sealed.header[6:102]
    for who in (reply, new):
        assert open_message(header, sealed.body, 0, [who], reply.recipient, "reporter").body.text == "the van was white"
    with pytest.raises(NoMatchingIdentity):
        open_message(header, sealed.body, 0, [old], reply.recipient, "reporter")
    with pytest.raises(ValueError, match="reporter"):
        rewrap_message_header(sealed.header, [old], [new.recipient, reply.recipient])
    with pytest.raises(NoMatchingIdentity):
        rewrap_message_header(sealed.header, [new], [new.recipient])
    forged = header[:-1] + bytes([header[-1] ^ 1])
    with pytest.raises(HeaderMacError):
        open_message(forged, sealed.body, 0, [reply], reply.recipient, "reporter")


def test_sealing_refuses_what_no_opener_accepts() -> None:
    """No empty message, no unknown sender, no more than 15 reviewer keys, no reply key that is a reviewer's."""
    reply = Identity.generate().recipient
    team = [Identity.generate().recipient for _ in range(16)]
    with pytest.raises(ValueError, match="text or an attachment"):
        seal_message(team[:1], reply, "reviewer", "")
    with pytest.raises(ValueError, match="from one of"):
        seal_message(team[:1], reply, "admin", "hello")
    with pytest.raises(ValueError, match="15 reviewer keys"):
        seal_message(team, reply, "reviewer", "hello")
    with pytest.raises(ValueError, match="do not reply"):
        seal_message(team[:2], team[1], "reviewer", "hello")
    sealed = seal_message(team[:15], reply, "reviewer", "hello")
    assert len(sealed.header) == 38 + 96 * 16


def test_thread_and_sender_are_checked_before_trust() -> None:
    """A message shown in another thread, or under another sender, is refused by every opener."""
    me, other, reviewer = Identity.generate(), Identity.generate(), Identity.generate()
    sealed = seal_message([reviewer.recipient], me.recipient, "reporter", "hello")
    with pytest.raises(WrongThread):
        open_message(sealed.header, sealed.body, 0, [reviewer], other.recipient, "reporter")
    with pytest.raises(WrongSender):
        open_message(sealed.header, sealed.body, 0, [reviewer], me.recipient, "reviewer")


def test_version_1_messages_are_bound_only_when_the_reporter_opens_them() -> None:
    """§12.4: a version 1 message (62-91, no thread MAC) is unverified for a reviewer: anyone who can write the store
    could have sealed it to the public keyring; the reporter opening stanza 0 knows its writer had the reply key."""
    by_name = {v.name: v for v in MESSAGES}
    assert open_message_file(by_name["62-message-reply-by-reviewer"])[2] is False
    assert open_message_file(by_name["63-message-reply-by-reporter"])[2] is True
    assert open_message_file(by_name["97-message-success-bound"])[2] is True
