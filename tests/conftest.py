"""Fixtures shared by the whole suite, after flaskr's pattern: an ``app`` on a fresh database,
its test ``client`` and CLI ``runner``; and a session-wide ``live_server`` (gunicorn, started as
``make run`` starts it) for the tests that need the real serving stack.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from admin_fixtures import make_user, sign_in  # noqa: F401
from harness import (
    DATABASES,
    REFUSAL,
    TEST_DATABASE_URL,
    LiveServer,
    app_settings,
    drop_postgres_schemas,
    free_port,
    fresh_database,
    live_server_env,
    migrate,
    postgres_schema_url,
    sites_file_for_hosts,
)
from pg_cluster import cluster  # noqa: F401

from consent import create_app
from consent.extensions import db


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    drop_postgres_schemas()


@pytest.fixture(scope="session")
def migrated(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """One migrated database per kind: a SQLite template file, a PostgreSQL schema."""
    templates = {}
    instance = tmp_path_factory.mktemp("template-instance")
    sqlite_file = tmp_path_factory.mktemp("template") / "consent.db"
    migrate(f"sqlite:///{sqlite_file}", instance)
    templates["sqlite"] = str(sqlite_file)
    if TEST_DATABASE_URL:
        url = postgres_schema_url("consent_test")
        migrate(url, instance)
        templates["postgresql"] = url
    return templates


@pytest.fixture(params=DATABASES)
def database_url(request: pytest.FixtureRequest, migrated: dict[str, str], tmp_path: Path) -> str:
    return fresh_database(request.param, migrated, tmp_path)


@pytest.fixture
def settings_overrides() -> dict[str, Any]:
    """Override in a test module to start the app with other settings."""
    return {}


@pytest.fixture
def app(database_url: str, tmp_path: Path, settings_overrides: dict[str, Any]) -> Iterator[Any]:
    application = create_app(
        app_settings(database_url, tmp_path / "instance", **settings_overrides)
    )
    application.config["TESTING"] = True
    yield application
    application.extensions["consent"].ledger.close()
    with application.app_context():
        db.session.remove()
        db.engine.dispose()


@pytest.fixture
def client(app: Any) -> Any:
    return app.test_client()


@pytest.fixture
def runner(app: Any) -> Any:
    return app.test_cli_runner()


@pytest.fixture
def post_consent(client: Any) -> Callable[..., Any]:
    """POST /v1/consents with a refusal for mixvoip.com, changed by keyword arguments."""

    def post(headers: dict[str, str] | None = None, **changes: Any) -> Any:
        body = {**REFUSAL, **changes}
        for key in [k for k, v in body.items() if v is ...]:
            del body[key]
        return client.post("/v1/consents", json=body, headers=headers or {})

    return post


@pytest.fixture(scope="session")
def live_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """One gunicorn for the session, on SQLite, with the sites reachable by their host names."""
    workdir = tmp_path_factory.mktemp("live")
    port = free_port()
    sites = sites_file_for_hosts(workdir / "sites.yaml", port)
    env = live_server_env(f"sqlite:///{workdir / 'consent.db'}", workdir, port, sites)
    server = LiveServer(workdir, env, port)
    server.start()
    yield server
    server.stop()
