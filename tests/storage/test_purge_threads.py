"""`intake purge` removes a case's lookup and thread with it, and leaves the threads of the cases it keeps."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import func, select, update

from intake.crypto.codename import derive_keys, make_codename
from intake.crypto.message import seal_message
from intake.crypto.report import seal_report
from intake.storage.cases import get_case
from intake.storage.db import writing
from intake.storage.lifecycle import set_lookup
from intake.storage.schema import case_lookups, cases, messages
from intake.storage.threads import add_message, case_by_lookup, salt
from tests.support.keytools import Instance
from tests.support.storage import store_case

pytestmark = pytest.mark.parametrize("db_url", ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)],
                                     indirect=True)


def _threaded(inst: Instance, recipients) -> tuple[str, object]:
    keys = derive_keys(make_codename(), salt(inst.engine))
    report = seal_report(recipients, {"incident_type": "cctv"}, reply_key=str(keys.identity.recipient))
    ref = store_case(inst.engine, report.header, report.body, "server", [r.key_id for r in recipients], [])
    case_id = get_case(inst.engine, ref).id
    with writing(inst.engine) as conn:
        set_lookup(conn, case_id, keys.lookup)
    for sender in ("reviewer", "reporter"):
        sealed = seal_message(recipients, keys.identity.recipient, sender, f"from the {sender}")
        add_message(inst.engine, case_id, sender, sealed.header, sealed.body)
    return ref, keys


def test_purge_removes_threads(db_url, tmp_path, prepared):
    inst, _ = prepared.setup(tmp_path, db_url, "alice")
    inst.run("init")
    recipients = inst.keyring().recipients()
    (old, old_keys), (kept, kept_keys) = _threaded(inst, recipients), _threaded(inst, recipients)
    with inst.engine.begin() as conn:
        conn.execute(update(cases).where(cases.c.ref == old).values(
            received=dt.datetime.now(dt.UTC).date() - dt.timedelta(days=40)))
    inst.admin("purge", "--older-than", "30")
    with inst.engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(messages)).scalar_one() == 2
        assert conn.execute(select(func.count()).select_from(case_lookups)).scalar_one() == 1
    assert case_by_lookup(inst.engine, old_keys.lookup) is None
    assert case_by_lookup(inst.engine, kept_keys.lookup)[1] == kept
    inst.engine.dispose()
