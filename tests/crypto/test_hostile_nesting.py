"""A sealed body nesting arrays deeper than Python's stack is a damaged body, not a crash (format.md §5, §12.4)."""

from __future__ import annotations

import os

import pytest

from intake.crypto.envelope import BODY_KEY_ID, derive, open_body
from intake.crypto.errors import DamagedBody
from intake.crypto.message import MESSAGE_BODY_KEY_ID, open_padded, parse_message_json, seal_padded

DEEP = b"[" * 300_000 + b"]" * 300_000


def test_deep_report_body_is_damaged() -> None:
    """A reporter who seals 300,000 nested arrays gets one damaged row, and the reviewer's listing goes on."""
    key = os.urandom(32)
    sealed = seal_padded(derive(key, BODY_KEY_ID), b'{"version":1,"fields":' + DEEP + b',"attachments":[]}')
    with pytest.raises(DamagedBody):
        open_body(key, sealed)


def test_deep_message_body_is_damaged() -> None:
    """The same nesting in a message body is a damaged body."""
    key = os.urandom(32)
    sealed = seal_padded(derive(key, MESSAGE_BODY_KEY_ID), b'{"version":1,"from":"reporter","text":' + DEEP + b"}")
    with pytest.raises(DamagedBody, match="nests too deep"):
        parse_message_json(open_padded(derive(key, MESSAGE_BODY_KEY_ID), sealed), 0)
