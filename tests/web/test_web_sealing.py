"""Sealing on arrival: whatever sizes Werkzeug writes in, the stream is exactly as format.md §7 says."""

from __future__ import annotations

import os

import pytest

from intake.crypto.keys import Identity
from intake.crypto.report import open_report
from intake.crypto.stream import CHUNK, StreamSealer, sealed_length
from intake.storage.cases import StorageError, get_case, iter_parts
from intake.web.sealing import BATCH, Arrival


@pytest.mark.parametrize("writes", [[CHUNK - 1, 1], [100, CHUNK - 100], [1, CHUNK * 2 - 1], [CHUNK, CHUNK], [0], [7]])
def test_stream_sealer_chunks(writes):
    """A write that exactly completes a pending chunk seals it at once, so the final chunk is never full."""
    sealer = StreamSealer(os.urandom(32))
    length = len(sealer.start())
    for size in writes:
        length += sum(len(c) for c in sealer.push(os.urandom(size)))
    length += len(sealer.finish())
    assert length == sealed_length(sum(writes))


def test_writer_stores_openable_parts(engine):
    """An Arrival fed odd-sized writes stores parts, several batches in the background, that open to the same bytes."""
    from intake.storage.lifecycle import complete_case

    me = Identity.generate()
    arrival = Arrival(engine, [me.recipient])
    data = os.urandom((2 * BATCH + 1) * (1 << 20) + 5)
    writer = arrival.open_file("a.bin", "application/octet-stream")
    for at in range(0, len(data), 65000):
        writer.write(data[at:at + 65000])
    writer.seek(0)
    ref = complete_case(engine, arrival.case_id, arrival.sealer.header(), arrival.sealer.body({"description": "x"}),
                        [me.key_id], arrival.lengths)
    case = get_case(engine, ref)
    report = open_report(case.header, case.body, 1, [me])
    assert b"".join(report.attachment(0, iter_parts(engine, case.id, 0), case.lengths[0])) == data


def test_failed_batch_raises_at_end_of_file(engine, monkeypatch):
    """A batch that the background thread cannot store fails the file when it ends, not silently."""
    import intake.web.sealing as sealing

    def broken(*_args: object) -> None:
        raise StorageError("disk full")

    monkeypatch.setattr(sealing, "append_parts", broken)
    arrival = Arrival(engine, [Identity.generate().recipient])
    writer = arrival.open_file("a.bin", "application/octet-stream")
    writer.write(os.urandom(BATCH * (1 << 20)))
    with pytest.raises(StorageError, match="disk full"):
        writer.seek(0)
    arrival.close()
