"""A decision made while the database is down is kept by the widget and delivered later.

The service runs on a throwaway PostgreSQL cluster of the test's own. The visitor refuses while
the cluster is stopped: the API answers 503, the banner still applies the refusal and keeps the
decision in localStorage. Once the database is back, the next page delivers it to the log.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from harness import LiveServer, live_server_env, sites_file_for_hosts
from load import is_ours, loopback_port
from sqlalchemy import create_engine, text

from consent.legal import verify

QUEUE = "mixvoip-consent:voxbi.com:queue"


@pytest.fixture
def server(cluster, tmp_path) -> Iterator[LiveServer]:
    port = loopback_port()
    sites = sites_file_for_hosts(tmp_path / "sites.yaml", port)
    server = LiveServer(tmp_path, live_server_env(cluster.url, tmp_path, port, sites), port)
    server.start()
    assert is_ours(server), "another server holds the port"
    yield server
    server.stop()


def logged(url: str) -> list[tuple[str, str]]:
    engine = create_engine(url)
    try:
        with engine.connect() as connection:
            return [
                tuple(r)
                for r in connection.execute(text("SELECT site_id, action FROM consent_log"))
            ]
    finally:
        engine.dispose()


def test_a_refusal_during_an_outage_is_kept_and_delivered_when_the_database_returns(
    page, cluster, server
):
    page.goto(f"http://www.voxbi.com:{server.port}/demo/voxbi.com")
    page.get_by_role("button", name="Refuse all").wait_for()

    cluster.stop()
    with page.expect_response(lambda r: r.url.endswith("/v1/consents")) as answer:
        page.get_by_role("button", name="Refuse all").click()
    assert answer.value.status == 503
    assert answer.value.headers["retry-after"]
    page.wait_for_function(f"() => localStorage.getItem({QUEUE!r}) !== null")
    statuses = page.locator("#tags .status").all_inner_texts()
    assert statuses and all(s == "blocked until consent" for s in statuses)

    cluster.start()
    consent_id = page.evaluate("() => window.MixvoipConsent.get().id")
    with page.expect_response(lambda r: r.url.endswith("/v1/consents")) as delivered:
        page.reload()
    assert delivered.value.status == 201
    page.wait_for_function(f"() => localStorage.getItem({QUEUE!r}) === null")
    assert page.evaluate("() => window.MixvoipConsent.get().id") == consent_id

    assert logged(cluster.url) == [("voxbi.com", "refuse_all")]
    engine = create_engine(cluster.url)
    try:
        assert verify(engine).ok
    finally:
        engine.dispose()
