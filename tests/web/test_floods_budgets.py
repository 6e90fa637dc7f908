"""Budgets protect what is scarce, and one path's flood never locks out the other (issue 11.4, 10.6)."""

from __future__ import annotations

import dataclasses
import io
import os
import shutil
import time

import pytest
from sqlalchemy import func, select

from intake.storage.budgets import IDLE_SWEEPS, SWEEP_SECONDS, sweep
from intake.storage.lifecycle import discard, put_part
from intake.storage.schema import cases
from intake.web.limits import Bucket
from intake.web.tokens import day_number
from tests.support.nojs import form, post
from tests.support.storage import begin_case
from tests.support.web import begin, csrf_token, rows, sealed, upload_all


def settle(app, **changes):
    """Change the running app's settings."""
    intake = app.extensions["intake"]
    intake.settings = dataclasses.replace(intake.settings, **changes)


def test_pending_bytes_capped(client, site, app):
    """Past the server-wide cap on bytes still uploading, a new upload gets a 503 and stores nothing."""
    token = csrf_token(client)
    report = sealed(site)
    settle(app, pending_bytes=3 << 20)
    first = begin(client, token, report)
    assert first.status_code == 201
    second = begin(client, token, sealed(site))
    assert second.status_code == 503
    assert "under way" in second.get_json()["error"]
    assert rows(site.engine)["cases"] == 1
    assert begin(client, token, sealed(site, ())).status_code == 201, "a report without files is not held back"
    upload = first.get_json()["upload"]
    upload_all(client, token, upload, report)
    assert client.post(f"/api/v1/uploads/{upload}/complete", headers={"X-CSRFToken": token}).status_code == 200
    assert begin(client, token, sealed(site)).status_code == 201


def test_daily_bytes_per_path(client, site, app):
    """Each path has its own daily byte budget: spending the API's leaves the no-JS post open, and back. The API's
    is spent by the bytes that arrive, not by those declared."""
    token = csrf_token(client)
    settle(app, daily_bytes=3 << 20)
    report = sealed(site)
    first = begin(client, token, report)
    assert first.status_code == 201
    assert begin(client, token, sealed(site)).status_code == 201, "a declared size is not spent"
    upload_all(client, token, first.get_json()["upload"], report)
    spent = begin(client, token, sealed(site))
    assert spent.status_code == 503
    assert post(client, form(csrf_token(client))).status_code == 200
    assert post(client, form(csrf_token(client))).status_code == 503, "the no-JS budget is spent by now too"
    assert begin(client, token, sealed(site, ())).status_code == 201, "a small sealed report still fits"


def test_a_budget_spent_in_the_middle_of_a_file_stores_nothing(client, site, app):
    """The daily budget runs out while a 12 MiB file is sealed, with blocks and batches still queued behind the
    refused batch (web/sealing.py, AHEAD): a 503 that says to come back, and not one row of the report kept."""
    settle(app, daily_bytes=5 << 20)
    big = form(csrf_token(client), attachments=[(io.BytesIO(os.urandom(12 << 20)), "clip.mp4", "video/mp4")])
    refused = post(client, big)
    assert refused.status_code == 503, refused.get_data(as_text=True)[:500]
    assert "tomorrow" in refused.get_data(as_text=True).lower(), refused.get_data(as_text=True)[-800:]
    assert rows(site.engine) == {"cases": 0, "attachments": 0, "parts": 0, "case_keys": 0}


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_free_space_floor(client, site, app):
    """Near the free-space floor, large reports are refused first and small ones last."""
    token = csrf_token(client)
    free = shutil.disk_usage(site.settings.instance).free
    settle(app, free_floor=free + (64 << 20))
    large = begin(client, token, sealed(site))
    assert large.status_code == 503
    assert "disk space" in large.get_json()["error"]
    assert post(client, form(csrf_token(client))).status_code == 503
    assert begin(client, token, sealed(site, ())).status_code == 201
    small = post(client, form(csrf_token(client), attachments=[]))
    assert small.status_code == 200
    settle(app, free_floor=free * 20)
    assert begin(client, token, sealed(site, ())).status_code == 503
    assert rows(site.engine)["cases"] == 2


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_paths_do_not_lock_each_other_out(client, site, app):
    """A spent no-JS budget leaves the API open; a heavy API load leaves the no-JS post at its own budget."""
    intake = app.extensions["intake"]
    token = csrf_token(client)
    intake.nojs = Bucket(1)
    assert post(client, form(csrf_token(client))).status_code == 200
    assert post(client, form(csrf_token(client))).status_code == 429
    assert begin(client, token, sealed(site, ())).status_code == 201
    intake.nojs = Bucket(5)
    for _ in range(intake.work.easy_rate * 64):
        intake.work.load.add()
    assert post(client, form(csrf_token(client))).status_code == 200


def test_idle_uploads_expire_after_sweeps(engine):
    """An upload idle for IDLE_SWEEPS hourly sweeps is discarded; one that stores a part meanwhile is not."""
    idle_id, _, _ = begin_case(engine, b"h", b"b", "browser", ["k"], [100])
    busy_id, _, _ = begin_case(engine, b"h", b"b", "browser", ["k"], [100])
    now = time.time()
    assert sweep(engine, now, day_number()) is not None
    assert sweep(engine, now, day_number()) is None, "one sweep per hour, whichever process comes first"
    expired: list[list[int]] = []
    for hour in range(1, IDLE_SWEEPS + 1):
        if hour == IDLE_SWEEPS - 1:
            put_part(engine, busy_id, 0, 0, b"x" * 100)
        expired.append(sweep(engine, now + hour * SWEEP_SECONDS, day_number()) or [])
        for case_id in expired[-1]:
            discard(engine, case_id)
    assert expired == [[]] * (IDLE_SWEEPS - 2) + [[idle_id], []], "idle from its first sweep to its third"
    with engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(cases)).scalar_one() == 1
