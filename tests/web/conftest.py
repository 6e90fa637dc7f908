"""Fixtures of the web tests: an instance with a signed keyring (both databases), the app and its client."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.support.web import Site, make_site


@pytest.fixture
def site(tmp_path: Path, db_url: str) -> Site:
    """A fresh instance on SQLite, then on PostgreSQL."""
    made = make_site(tmp_path, db_url)
    yield made
    made.engine.dispose()


@pytest.fixture
def app(site: Site):
    """The app on that instance."""
    from intake.web import create_app

    application = create_app(site.settings)
    yield application
    application.extensions["intake"].engine.dispose()


@pytest.fixture
def client(app):
    """A test client of the app."""
    return app.test_client()
