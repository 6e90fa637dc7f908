"""fsyncs per report on a live `intake serve` under strace: a small constant, whatever the file's size, on both
ways in (docs/web.md, "One durable point"). Before, one 64 MiB no-JS report cost 69, one per batch of parts
and two per automatic checkpoint."""

from __future__ import annotations

import shutil

import pytest

from bench.fsyncs import measure

pytestmark = [pytest.mark.slow, pytest.mark.serial,  # counts what a background checkpoint may add to: alone
              pytest.mark.skipif(shutil.which("strace") is None, reason="strace is missing: run .ci/setup")]
MOST = 7  # admission and completion (a commit each), a WAL restart, one checkpoint (WAL, its folder and the
# database: strace shows the three), one spare


def test_fsyncs_per_report_do_not_grow_with_the_file(tmp_path):
    """A report with a 1 MiB file and one with a 64 MiB file cost the same few fsyncs, without JavaScript and
    through the upload API."""
    counts = measure(tmp_path, (1, 64))
    for way, by_size in counts.items():
        assert 1 <= by_size[1] <= MOST, (way, by_size)
        assert 1 <= by_size[64] <= MOST, (way, by_size)
        # no growth with the file. Either report's window may catch background work the other's missed (a WAL
        # restart's header fsync, a checkpoint's): a whole run once gave the 1 MiB report 6 and the 64 MiB one 4
        assert by_size[64] <= by_size[1] + 1, (way, by_size)
