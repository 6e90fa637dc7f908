"""The sealed-format code type-checks under `mypy --strict` (docs/format.md is implemented with exact types)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.slow
def test_crypto_is_mypy_strict_clean() -> None:
    """`mypy --strict intake/crypto` finds no issue."""
    result = subprocess.run([sys.executable, "-m", "mypy", "--strict", "--no-incremental", "intake/crypto"],  # noqa: S603
                            cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Success: no issues found" in result.stdout
