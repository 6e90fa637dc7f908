"""The vendored myanmar-tools files are the pinned npm release (1.1.3), byte for byte."""

from __future__ import annotations

import hashlib
from pathlib import Path

VENDOR = Path(__file__).resolve().parents[1] / "intake" / "static" / "vendor"
PINNED = {  # npm myanmar-tools@1.1.3, package/build_node/*.js (Apache-2.0, LICENSE.myanmar-tools.txt)
    "myanmar-tools-1.1.3-zawgyi_detector.js": "587ed281fbdeb07ed84c07d5b7bb91b29e706837e69ddffcb809de00aab195c5",
    "myanmar-tools-1.1.3-zawgyi_converter.js": "70ba306db3a1ded2f60b7841ee2616660946aa549eb032c6973f03bb2dd13e21",
}


def test_vendored_myanmar_tools_unchanged() -> None:
    """Each file's SHA-256 is the one recorded when it was taken from the npm tarball."""
    for name, digest in PINNED.items():
        assert hashlib.sha256((VENDOR / name).read_bytes()).hexdigest() == digest, name
    assert "Apache License" in (VENDOR / "LICENSE.myanmar-tools.txt").read_text()
