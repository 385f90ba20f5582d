"""When the database is unavailable the API answers 503 with Retry-After, keeps nothing half
written, and serves again as soon as the database is back, without a restart.

PostgreSQL outages stop and start a throwaway cluster of the test's own (never the shared
server); SQLite outages are another connection holding the write lock, and a database file
that cannot be written.
"""

from __future__ import annotations

import contextlib
import http.client
import os
import sqlite3
import subprocess
import threading
from collections.abc import Iterator
from pathlib import Path

import orjson
import pytest
from harness import REFUSAL, LiveServer
from load import LoadClient, is_ours, serve
from pg_cluster import TemporaryCluster
from sqlalchemy import create_engine, text

from consent.legal import verify

pytestmark = pytest.mark.slow


def call(
    server: LiveServer, method: str, path: str, body: dict | None = None
) -> tuple[int, dict[str, str], dict]:
    connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=60)
    try:
        payload = orjson.dumps(body) if body is not None else None
        connection.request(method, path, payload, {"Content-Type": "application/json"})
        response = connection.getresponse()
        return response.status, dict(response.getheaders()), orjson.loads(response.read())
    finally:
        connection.close()


def post_refusal(server: LiveServer) -> tuple[int, dict[str, str], dict]:
    return call(server, "POST", "/v1/consents", REFUSAL)


def assert_unavailable(status: int, headers: dict[str, str], body: dict) -> None:
    assert status == 503, body
    assert headers["Content-Type"] == "application/json"
    assert int(headers["Retry-After"]) > 0
    assert body["error"] == "unavailable"
    assert "retry" in body["message"]


def logged_consent_ids(url: str) -> list[str]:
    engine = create_engine(url)
    try:
        with engine.connect() as connection:
            return list(connection.execute(text("SELECT consent_id FROM consent_log")).scalars())
    finally:
        engine.dispose()


def assert_chain_verifies(url: str) -> None:
    engine = create_engine(url)
    try:
        report = verify(engine)
    finally:
        engine.dispose()
    assert report.ok, [str(b) for b in report.breaks[:5]]


# --- PostgreSQL stopped ------------------------------------------------------------------


@pytest.fixture
def pg_server(cluster: TemporaryCluster, tmp_path: Path) -> Iterator[LiveServer]:
    live = serve(tmp_path, cluster.url)
    yield live
    live.stop()


def test_postgresql_stopped_is_a_503_and_service_resumes_when_it_returns(cluster, pg_server):
    status, _, first = post_refusal(pg_server)
    assert status == 201, first

    cluster.stop()
    for _ in range(3):
        assert_unavailable(*post_refusal(pg_server))
    history = f"/v1/consents/{first['consent_id']}?receipt={first['receipt']}"
    assert_unavailable(*call(pg_server, "GET", history))

    cluster.start()
    status, _, second = post_refusal(pg_server)
    assert status == 201, second
    status, _, records = call(pg_server, "GET", history)
    assert status == 200, records

    assert sorted(logged_consent_ids(cluster.url)) == sorted(
        [first["consent_id"], second["consent_id"]]
    )
    assert_chain_verifies(cluster.url)


def test_postgresql_stopped_under_load_loses_no_acknowledged_record(cluster, pg_server):
    client = LoadClient(pg_server.port, 3_000, concurrency=32)
    reached = client.when_acknowledged(300)
    client.start()
    assert reached.wait(timeout=60)
    cluster.stop()
    during = client.join()
    cluster.start()
    after = LoadClient(pg_server.port, 500, concurrency=32).run()

    assert set(during.statuses) <= {201, 503}, during.statuses
    assert during.statuses[503] > 0, "the outage came after the load had finished"
    assert after.statuses == {201: 500}
    logged = set(logged_consent_ids(cluster.url))
    acknowledged = [ack.consent_id for ack in during.acknowledged + after.acknowledged]
    assert [cid for cid in acknowledged if cid not in logged] == []
    assert_chain_verifies(cluster.url)


# --- SQLite locked or read-only ----------------------------------------------------------


@pytest.fixture
def sqlite_server(tmp_path: Path) -> Iterator[LiveServer]:
    live = serve(tmp_path, f"sqlite:///{tmp_path / 'consent.db'}")
    yield live
    live.stop()


def test_a_locked_sqlite_file_is_a_503_and_service_resumes_when_released(sqlite_server):
    url = sqlite_server.env["DATABASE_URL"]
    status, _, first = post_refusal(sqlite_server)
    assert status == 201, first

    holder = sqlite3.connect(url.removeprefix("sqlite:///"), isolation_level=None)
    holder.execute("BEGIN EXCLUSIVE")
    answers: list[tuple[int, dict[str, str], dict]] = []
    posts = [
        threading.Thread(target=lambda: answers.append(post_refusal(sqlite_server)))
        for _ in range(4)
    ]
    for thread in posts:
        thread.start()
    for thread in posts:
        thread.join()
    holder.execute("ROLLBACK")
    holder.close()

    assert len(answers) == len(posts)  # every post was answered within the client's 60 s
    for answer in answers:
        assert_unavailable(*answer)
    status, _, second = post_refusal(sqlite_server)
    assert status == 201, second
    assert sorted(logged_consent_ids(url)) == sorted([first["consent_id"], second["consent_id"]])
    assert_chain_verifies(url)


@contextlib.contextmanager
def read_only(database: Path) -> Iterator[None]:
    """The database files cannot be written, even by root (immutable), until the block ends."""
    files = [database, *database.parent.glob(database.name + "-*")]
    immutable = os.geteuid() == 0
    for path in files:
        path.chmod(0o444)
        if immutable:
            subprocess.run(["chattr", "+i", str(path)], check=True)
    try:
        yield
    finally:
        for path in files:
            if immutable:
                subprocess.run(["chattr", "-i", str(path)], check=True)
            path.chmod(0o644)


def test_a_read_only_sqlite_file_is_a_503_and_service_resumes_when_writable(sqlite_server):
    url = sqlite_server.env["DATABASE_URL"]
    status, _, first = post_refusal(sqlite_server)
    assert status == 201, first
    sqlite_server.stop()

    with read_only(Path(url.removeprefix("sqlite:///"))):
        sqlite_server.start(upgrade=False)
        assert is_ours(sqlite_server)
        for _ in range(3):
            assert_unavailable(*post_refusal(sqlite_server))
        # No connection to a file it may not write is kept, so nothing can be read either.
        assert_unavailable(*call(sqlite_server, "GET", "/v1/sites/mixvoip.com/config"))

    status, _, second = post_refusal(sqlite_server)
    assert status == 201, second
    assert sorted(logged_consent_ids(url)) == sorted([first["consent_id"], second["consent_id"]])
    assert_chain_verifies(url)
