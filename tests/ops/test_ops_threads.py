"""Threads in operations: backup and restore keep the codename salt, lookups and messages; notify counts follow-ups."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import func, select

from intake.crypto.codename import derive_keys, make_codename
from intake.crypto.message import open_message, seal_message
from intake.crypto.report import seal_report
from intake.operations.notify import news_since
from intake.storage.admission import Limits
from intake.storage.cases import get_case, iter_parts
from intake.storage.db import connect, writing
from intake.storage.followups import admit_follow_up
from intake.storage.lifecycle import set_lookup
from intake.storage.schema import cases
from intake.storage.threads import add_message, case_by_lookup, mark_read, salt, thread
from tests.support import run_cli
from tests.support.keytools import Instance, Prepared
from tests.support.storage import store_case, store_follow_up

pytestmark = pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
FILE = bytes(range(256)) * 5000  # 1.2 MiB: two parts


def _threaded(site: Instance) -> tuple[str, object]:
    """A report with a codename, a reviewer's reply and the reporter's answer; return its ref and the keys."""
    site.run("init")
    keys = derive_keys(make_codename(), salt(site.engine))
    recipients = site.keyring().recipients()
    report = seal_report(recipients, {"incident_type": "cctv"}, reply_key=str(keys.identity.recipient))
    ref = store_case(site.engine, report.header, report.body, "server", [r.key_id for r in recipients], [])
    case_id = get_case(site.engine, ref).id
    with writing(site.engine) as conn:
        set_lookup(conn, case_id, keys.lookup)
    for sender, text in (("reviewer", "which street?"), ("reporter", "the market street")):
        sealed = seal_message(recipients, keys.identity.recipient, sender, text)
        add_message(site.engine, case_id, sender, sealed.header, sealed.body)
    store_follow_up(site.engine, case_id, seal_message(recipients, keys.identity.recipient, "reporter", "",
                                                       [("map.png", "image/png", [FILE])]))
    return ref, keys


def test_backup_and_restore_keep_threads(tmp_path: Path, db_url: str, prepared: Prepared) -> None:
    (tmp_path / "a").mkdir()
    site, _ = prepared.setup(tmp_path / "a", db_url, "alice")
    ref, keys = _threaded(site)
    backup = tmp_path / "intake.backup"
    recipients = site.keyring().recipients()
    uploading = seal_message(recipients, keys.identity.recipient, "reporter", "", [("x", "text/plain", [b"x"])])
    admit_follow_up(site.engine, case_by_lookup(site.engine, keys.lookup)[0], uploading.header, uploading.body,
                    [len(uploading.streams[0])], "browser", Limits(1 << 30, 1 << 30))
    run_cli("intake", "backup", "--out", str(backup), cwd=site.root, env=site.env)
    restored_url = f"sqlite:///{tmp_path / 'b' / 'instance' / 'intake.db'}"
    env = {**site.env, "INTAKE_INSTANCE": str(tmp_path / "b" / "instance"), "INTAKE_DATABASE_URL": restored_url}
    (tmp_path / "b").mkdir()
    run_cli("intake", "restore", str(backup), cwd=tmp_path / "b", env=env)
    engine = connect(restored_url)
    try:
        assert salt(engine) == salt(site.engine)
        found = case_by_lookup(engine, keys.lookup)
        assert found is not None
        assert found[1] == ref
        stored = thread(engine, found[0])
        opened = [open_message(m.header, m.body, len(m.lengths), [keys.identity], keys.identity.recipient, m.sender)
                  for m in stored]
        assert [m.body.text for m in opened] == ["which street?", "the market street", ""]
        last = stored[-1]
        assert b"".join(opened[-1].attachment(0, iter_parts(engine, found[0], 0, seq=last.seq), last.lengths[0])) \
            == FILE
        with engine.connect() as conn:
            assert conn.execute(select(func.count()).select_from(cases)).scalar_one() == 1, "a carrier was restored"
    finally:
        engine.dispose()
        site.engine.dispose()


def test_notify_counts_reporter_messages(tmp_path: Path, db_url: str, prepared: Prepared) -> None:
    site, _ = prepared.setup(tmp_path, db_url, "alice")
    ref, keys = _threaded(site)
    news, state = news_since(site.engine, {})
    assert news
    assert news_since(site.engine, state) == (False, state)
    case_id = get_case(site.engine, ref).id
    sealed = seal_message(site.keyring().recipients(), keys.identity.recipient, "reporter", "one more thing")
    add_message(site.engine, case_id, "reporter", sealed.header, sealed.body)
    news, state = news_since(site.engine, state)
    assert news
    mark_read(site.engine, case_id)
    assert news_since(site.engine, state)[0] is False
    reply = seal_message(site.keyring().recipients(), keys.identity.recipient, "reviewer", "thank you")
    add_message(site.engine, case_id, "reviewer", reply.header, reply.body)
    assert news_since(site.engine, state)[0] is False
    site.engine.dispose()
