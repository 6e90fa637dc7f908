"""The adversary's second run: a file appearing in the folder after the emptiness check is a clear error."""

from __future__ import annotations

import pytest

from intake.publish.build import _put
from intake.review.errors import ReviewError
from intake.review.folder import Folder


def test_a_file_written_meanwhile_is_a_review_error_not_a_traceback(tmp_path):
    """Two publish runs into one new folder both pass the check; the second's first create meets the first's file."""
    folder = Folder.at(tmp_path / "out")
    (tmp_path / "out" / "report.txt").write_bytes(b"the other run's")
    with pytest.raises(ReviewError, match="appeared while publishing"):
        _put(folder, "report.txt", b"ours")
    assert (tmp_path / "out" / "report.txt").read_bytes() == b"the other run's"
    _put(folder, "photo-1.jpg", b"ours")
    assert (tmp_path / "out" / "photo-1.jpg").read_bytes() == b"ours"
    folder.discard()
