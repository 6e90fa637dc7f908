"""Crash safety: `intake serve` killed with SIGKILL at random points of 50 uploads and commits, on both databases.

After every kill: the database passes its integrity check, every case that got a receipt opens whole, and
no complete case lacks a part. At the end `intake expire-uploads --all` (the server stopped) leaves no partial upload.
"""

from __future__ import annotations

import random
import threading
from pathlib import Path

import pytest
import requests
from sqlalchemy import func, select, text

from intake.crypto.report import seal_report
from intake.storage.db import integrity_ok
from intake.storage.schema import attachments, case_keys, cases, parts
from intake.text.counts import count
from tests.support import run_cli
from tests.support.proof import Reporter, kill_during, open_all, soak_size, stored_whole
from tests.support.web import Server, make_site

pytestmark = pytest.mark.soak  # the kill is placed by the clients' progress (kill_during), so load does not move it
ROUNDS, PER_ROUND = soak_size(10, least=5), 5  # 10 at CI's size; 5 at least, for receipts and a partial upload
KINDS = ("nojs small", "nojs large", "api small", "api large")


def payload(uid: str, kind: str) -> tuple[dict[str, str], list[tuple[str, str, bytes]]]:
    """The fields and files of one upload, all derived from its id so that they can be checked."""
    rng = random.Random(uid)
    size = rng.randrange(3 << 20, 4 << 20) if kind.endswith("large") else rng.randrange(0, 5000)
    files = [(f"{uid}.bin", "application/octet-stream", rng.randbytes(size))] if size else []
    return {"incident_type": "drone", "description": uid, "location": "", "occurred": "", "device": ""}, files


def upload(url: str, uid: str, kind: str, receipts: dict[str, str], lock: threading.Lock) -> None:
    """One reporter's upload; a receipt is recorded only when the server gave one."""
    try:
        reporter = Reporter(url, timeout=30)
        fields, files = payload(uid, kind)
        ref = reporter.send_nojs(fields, files) if kind.startswith("nojs") else reporter.send_api(fields, files)
    except (requests.RequestException, AssertionError, AttributeError):
        return
    with lock:
        receipts[ref] = uid


def consistent(engine) -> list[str]:
    """Rows that point at nothing, and complete cases not stored whole (on either database)."""
    with engine.connect() as conn:
        orphans = [conn.execute(select(func.count()).select_from(t).where(t.c.case_id.not_in(select(cases.c.id))))
                   .scalar_one() for t in (attachments, parts, case_keys)]
        loose = conn.execute(select(func.count()).select_from(parts).where(~select(attachments.c.idx).where(
            attachments.c.case_id == parts.c.case_id, attachments.c.idx == parts.c.idx).exists())).scalar_one()
    problems = stored_whole(engine)
    if any(orphans) or loose:
        problems.append(f"orphan rows: attachments, parts, keys {orphans}, parts without stream {loose}")
    return problems


def check(site, receipts: dict[str, str]) -> int:
    """Integrity, consistency, and every receipt opening to its own report; return the complete cases."""
    assert integrity_ok(site.engine)
    if site.engine.dialect.name == "sqlite":
        with site.engine.connect() as conn:
            assert conn.execute(text("PRAGMA foreign_key_check")).all() == []
    assert consistent(site.engine) == []
    opened = open_all(site.engine, site.identities)
    for ref, uid in receipts.items():
        fields, files = opened[ref]
        assert fields["description"] == uid
        kind = next(k for k in KINDS if uid.startswith(k.replace(" ", "-")))
        assert files == [(n, d) for n, _, d in payload(uid, kind)[1]]
    return len(opened)


def test_sigkill_during_uploads(db_url: str, tmp_path: Path) -> None:
    """Fifty uploads on both paths, small and large, cut by SIGKILL at random moments; nothing half-stored."""
    seed = random.randrange(1 << 30)
    rng = random.Random(seed)
    site = make_site(tmp_path, db_url)
    server = Server({**site.env, "INTAKE_POW_BITS": "0"}, tmp_path)
    receipts: dict[str, str] = {}
    lock = threading.Lock()
    for round_ in range(ROUNDS):
        server.start()
        if round_ == 0:
            abandoned = Reporter(server.url)
            fields, files = payload("abandoned", "api large")
            report = seal_report(abandoned.recipients, fields, [(n, t, [d]) for n, t, d in files])
            token = abandoned.begin(report).json()["upload"]
            assert abandoned.put(token, 0, 0, report.streams[0][:1 << 20]).status_code == 204
            abandoned.close()
        jobs = [(f"{kind.replace(' ', '-')}-{round_}-{i}", kind) for i, kind in
                enumerate(rng.choice(KINDS) for _ in range(PER_ROUND))]
        threads = [threading.Thread(target=upload, args=(server.url, uid, kind, receipts, lock)) for uid, kind in jobs]
        kill_during(server, threads, rng, seed)
        assert check(site, receipts) >= len(receipts), f"seed {seed}"
    with site.engine.connect() as conn:
        partial = conn.execute(select(func.count()).select_from(cases).where(cases.c.complete.is_(False))).scalar_one()
    assert partial >= 1
    result = run_cli("intake", "expire-uploads", "--all", cwd=tmp_path, env=site.env)
    assert f"expired {count(partial, 'abandoned upload')}" in result.stderr  # "1 abandoned upload" when one
    with site.engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(cases).where(cases.c.complete.is_(False))).scalar() == 0
    complete = check(site, receipts)
    with site.engine.connect() as conn:
        stored_parts = conn.execute(select(func.count()).select_from(parts)).scalar_one()
        wanted = conn.execute(select(func.coalesce(func.sum((attachments.c.length + (1 << 20) - 1) // (1 << 20)), 0))
                              ).scalar_one()
    assert stored_parts == int(wanted)
    assert complete >= len(receipts) > 0
    assert "Traceback" not in server.log_text()
    site.engine.dispose()
