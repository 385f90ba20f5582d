"""Under load and through a crash, every acknowledged consent is in the log and the log verifies.

The service runs as `make run` starts it (`consent upgrade`, then gunicorn with two workers),
on SQLite and on PostgreSQL, with rate limits off as for any load test. 64 clients post 20,000
decisions; then a second run is cut short by `kill -9` of the whole server process group and
the service is started again on the same database.
"""

from __future__ import annotations

import signal
from collections.abc import Iterator
from pathlib import Path

import pytest
from harness import DATABASES, LiveServer, postgres_schema_url
from load import LoadClient, LoadResult, is_ours, serve
from sqlalchemy import create_engine, text

from consent.legal import verify

LOAD_TOTAL = 20_000
CONCURRENCY = 64
KILL_AFTER = 3_000

pytestmark = pytest.mark.slow


@pytest.fixture(params=DATABASES)
def server(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[LiveServer]:
    url = (
        f"sqlite:///{tmp_path / 'consent.db'}"
        if request.param == "sqlite"
        else postgres_schema_url("consent_load")
    )
    live = serve(tmp_path, url)
    yield live
    live.stop()


def logged(server: LiveServer) -> set[tuple[str, str, int, str]]:
    engine = create_engine(server.env["DATABASE_URL"])
    try:
        with engine.connect() as connection:
            rows = connection.execute(
                text("SELECT consent_id, site_id, seq, hash FROM consent_log")
            ).all()
    finally:
        engine.dispose()
    return {tuple(row) for row in rows}


def assert_everything_acknowledged_is_logged(server: LiveServer, result: LoadResult) -> None:
    rows = logged(server)
    missing = [a for a in result.acknowledged if (a.consent_id, a.site, a.seq, a.hash) not in rows]
    assert missing == [], f"{len(missing)} acknowledged records are not in the log"
    engine = create_engine(server.env["DATABASE_URL"])
    try:
        report = verify(engine)
    finally:
        engine.dispose()
    assert report.ok, [str(b) for b in report.breaks[:5]]
    assert report.checked == len(rows)


def test_20000_consents_from_64_clients_are_all_logged_and_chained(server):
    result = LoadClient(server.port, LOAD_TOTAL, CONCURRENCY).run()

    assert result.server_errors == 0, result.statuses
    assert result.broken_connections == 0
    assert result.statuses == {201: LOAD_TOTAL}
    assert len({ack.consent_id for ack in result.acknowledged}) == LOAD_TOTAL
    assert len(logged(server)) == LOAD_TOTAL
    assert_everything_acknowledged_is_logged(server, result)


def test_kill_9_during_load_loses_no_acknowledged_record(server):
    client = LoadClient(server.port, LOAD_TOTAL, CONCURRENCY, timeout=10)
    reached = client.when_acknowledged(KILL_AFTER)
    client.start()
    assert reached.wait(timeout=120), "the load never reached the kill point"
    server.stop(signal.SIGKILL)
    interrupted = client.join()

    assert interrupted.server_errors == 0, interrupted.statuses
    assert interrupted.broken_connections > 0, "the kill came after the load had finished"
    assert len(interrupted.acknowledged) < LOAD_TOTAL

    server.start(upgrade=False)
    assert is_ours(server)
    assert_everything_acknowledged_is_logged(server, interrupted)

    # The restarted service carries on the same chains.
    after = LoadClient(server.port, 1_000, CONCURRENCY).run()
    assert after.statuses == {201: 1_000}
    interrupted.acknowledged.extend(after.acknowledged)
    assert_everything_acknowledged_is_logged(server, interrupted)
