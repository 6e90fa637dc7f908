"""The Python implementation passes every language-neutral vector (docs/format.md §10)."""

from __future__ import annotations

import hashlib

import pytest

from intake.crypto.errors import CryptoError, by_expect
from tests.support.vectorfile import all_vectors, open_envelope

VECTORS = all_vectors()


def test_enough_vectors_cover_every_failure() -> None:
    """At least 20 vectors, with every failure kind of §10 and success."""
    kinds = {v.expect for v in VECTORS}
    assert len(VECTORS) >= 20
    assert kinds == {"success", "no match", "header mac", "malformed header", "unsupported version",
                     "damaged body", "damaged attachment", "truncated attachment", "malformed envelope",
                     "wrong thread"}


@pytest.mark.parametrize("vector", VECTORS, ids=[v.name for v in VECTORS])
def test_vector(vector) -> None:
    """Each vector opens to its body, or fails with exactly its named error."""
    if vector.expect == "success":
        body, files = open_envelope(vector.data, vector.identities)
        assert body == vector.body
        assert [hashlib.sha256(f).hexdigest() for f in files] == [a["sha256"] for a in vector.body["attachments"]]
    else:
        with pytest.raises(CryptoError) as caught:
            open_envelope(vector.data, vector.identities)
        assert type(caught.value) is by_expect(vector.expect), str(caught.value)
