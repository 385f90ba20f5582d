"""The production shape: independent service processes that share nothing but PostgreSQL.

Two gunicorn masters (as on two machines behind a load balancer, each with its own workers,
started as `make run` starts them) write concurrently to one PostgreSQL database; every
acknowledged decision is in the log, and each site's chain verifies.
"""

from __future__ import annotations

import json
import urllib.request
import uuid
from concurrent.futures import ThreadPoolExecutor

import pytest
from harness import TEST_DATABASE_URL, LiveServer, free_port, live_server_env, postgres_schema_url
from sqlalchemy import create_engine, text

from consent.legal import verify

pytestmark = pytest.mark.skipif(not TEST_DATABASE_URL, reason="needs TEST_DATABASE_URL")

SITES = ["mixvoip.com", "mixvoip.org", "voxbi.team", "voxbi.com"]


def post(base: str, site: str, consent_id: str) -> int:
    body = {
        "site": site,
        "action": "refuse_all",
        "categories": {"technical": True, "advertising": False},
        "consent_id": consent_id,
    }
    request = urllib.request.Request(
        f"{base}/v1/consents",
        json.dumps(body).encode(),
        {"Content-Type": "application/json", "Origin": f"https://www.{site}"},
    )
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status
    except urllib.error.HTTPError as error:
        return error.code


@pytest.fixture
def two_services(tmp_path):
    url = postgres_schema_url("consent_scale_out")
    services = []
    for name in ("a", "b"):
        workdir = tmp_path / name
        workdir.mkdir()
        port = free_port()
        server = LiveServer(workdir, live_server_env(url, workdir, port), port)
        server.start(upgrade=name == "a")  # `consent upgrade` once, as a deployment does
        services.append(server)
    yield url, services
    for server in services:
        server.stop()


def test_two_service_processes_on_one_postgresql_keep_one_valid_chain_per_site(two_services):
    url, (first, second) = two_services
    jobs = [
        ((first, second)[i % 2].url, SITES[i % len(SITES)], str(uuid.uuid4())) for i in range(400)
    ]
    with ThreadPoolExecutor(max_workers=32) as pool:
        statuses = list(pool.map(lambda job: post(*job), jobs))

    assert statuses == [201] * len(jobs)
    engine = create_engine(url)
    try:
        with engine.connect() as connection:
            logged = set(connection.execute(text("SELECT consent_id FROM consent_log")).scalars())
            heads = dict(connection.execute(text("SELECT site_id, seq FROM chain_heads")).all())
        report = verify(engine)
    finally:
        engine.dispose()
    assert logged == {consent_id for _, _, consent_id in jobs}
    assert heads == {site: 100 for site in SITES}
    assert report.ok, report.breaks
    assert report.checked == 400
