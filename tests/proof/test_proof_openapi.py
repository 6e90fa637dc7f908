"""schemathesis against docs/openapi.yaml and a live `intake serve`: every answer in the spec, never a 5xx.

Each generated request carries a real CSRF cookie and token, so that it reaches the checks behind them.
"""

from __future__ import annotations

import time

import pytest
import schemathesis
from hypothesis import HealthCheck, settings

from tests.support import ROOT
from tests.support.hostile_http import check_answer, start_target
from tests.support.proof import soak_size

pytestmark = [pytest.mark.soak, pytest.mark.serial]  # each answer timed against a baseline (check_answer)
schema = schemathesis.openapi.from_path(ROOT / "docs" / "openapi.yaml")


@pytest.fixture(scope="module")
def target(tmp_path_factory):
    """A live server, with the baseline of a GET of the keyring."""
    from tests.support.hostile_http import measure

    made = start_target(tmp_path_factory.mktemp("openapi"))
    made.baseline = measure(lambda: made.reporter.http.post(made.server.url + "/api/v1/reports", json={},
                                                            headers={"X-CSRFToken": made.reporter.token}))
    yield made
    made.reporter.close()
    made.server.stop()
    made.site.engine.dispose()


@schema.parametrize()
@settings(max_examples=soak_size(150), deadline=None, suppress_health_check=list(HealthCheck))
def test_api_conforms(case, target) -> None:
    """Answers match the spec (status, type, schema); refusals store nothing; nothing is slow or a 5xx."""
    before = target.rows()
    start = time.monotonic()
    response = case.call(base_url=target.server.url, session=target.reporter.http,
                         headers={"X-CSRFToken": target.reporter.token, "Connection": "close"})
    check_answer(target, response, time.monotonic() - start, set(range(200, 500)))
    # A schema cannot say which bytes are a sealed report or a solved proof of work, so schema-valid requests
    # are refused all the time: that check is left out; every other one runs.
    case.validate_response(response, excluded_checks=[schemathesis.checks.positive_data_acceptance])
    if response.status_code >= 400:
        assert target.rows() == before
