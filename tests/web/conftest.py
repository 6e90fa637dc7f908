"""Fixtures of the web tests: an instance with a signed keyring (both databases), the app and its client."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.support.web import Server, Site, make_site


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


@pytest.fixture
def live(tmp_path: Path):
    """A SQLite instance served by `intake serve` in its own process (killed afterwards: a graceful stop waits seconds
    for gunicorn's workers, and no test looks at the server after it)."""
    made = make_site(tmp_path, f"sqlite:///{tmp_path / 'instance' / 'intake.db'}")
    server = Server(made.env, tmp_path).start()
    yield made, server
    server.kill()
    made.engine.dispose()


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    """One SQLite instance served by `intake serve` for a whole test module: (site, server, root); killed afterwards."""
    root = tmp_path_factory.mktemp("served")
    made = make_site(root, f"sqlite:///{root / 'instance' / 'intake.db'}")
    server = Server(made.env, root).start()
    yield made, server, root
    server.kill()
    made.engine.dispose()
