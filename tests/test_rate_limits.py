"""Rate limits on recording consents and on signing in: per process in memory, shared by all
workers through Redis when REDIS_URL is set, and off with RATELIMIT_ENABLED=false.

The shared limit is checked against the service as `make run` starts it (two gunicorn
workers) and the real Redis on 127.0.0.1:6379. Each run comes from its own client address
(X-Forwarded-For behind one trusted proxy), so runs never count against each other.
"""

from __future__ import annotations

import http.client
import random
import re
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import orjson
import pytest
import redis
from harness import REFUSAL, LiveServer, live_server_env
from load import loopback_port

REDIS_URL = "redis://127.0.0.1:6379/0"


def redis_is_up() -> bool:
    try:
        return bool(redis.Redis.from_url(REDIS_URL, socket_connect_timeout=1).ping())
    except redis.RedisError:
        return False


# --- in one process ------------------------------------------------------------------------


@pytest.fixture
def settings_overrides(request: pytest.FixtureRequest) -> dict[str, str]:
    return {
        "RATELIMIT_ENABLED": getattr(request, "param", "true"),
        "CONSENT_RATE_LIMIT": "5 per minute",
    }


def test_recording_is_limited_per_client_with_a_json_429(client):
    statuses = [client.post("/v1/consents", json=REFUSAL).status_code for _ in range(8)]
    assert statuses == [201] * 5 + [429] * 3

    refused = client.post("/v1/consents", json=REFUSAL)
    assert refused.status_code == 429
    assert refused.json["error"] == "too_many_requests"
    assert "retry" in refused.json["message"]
    assert int(refused.headers["Retry-After"]) > 0
    # Another client (address) has its own allowance.
    other = client.post("/v1/consents", json=REFUSAL, environ_base={"REMOTE_ADDR": "192.0.2.9"})
    assert other.status_code == 201


@pytest.mark.parametrize("settings_overrides", ["false"], indirect=True)
def test_ratelimit_enabled_false_switches_the_limits_off(client):
    statuses = Counter(client.post("/v1/consents", json=REFUSAL).status_code for _ in range(20))
    assert statuses == {201: 20}


# --- across gunicorn workers through Redis -------------------------------------------------


@pytest.fixture
def limited_server(tmp_path: Path) -> Iterator[LiveServer]:
    if not redis_is_up():
        pytest.skip("Redis is not running on 127.0.0.1:6379")
    port = loopback_port()
    env = live_server_env(
        f"sqlite:///{tmp_path / 'consent.db'}",
        tmp_path,
        port,
        RATELIMIT_ENABLED="true",
        REDIS_URL=REDIS_URL,
        TRUSTED_PROXIES="1",
        CONSENT_RATE_LIMIT="20 per minute",
        LOGIN_RATE_LIMIT="5 per minute",
    )
    server = LiveServer(tmp_path, env, port)
    server.start()
    yield server
    server.stop()


def a_client_address() -> str:
    return f"10.{random.randrange(256)}.{random.randrange(256)}.{random.randrange(1, 255)}"


def send(server: LiveServer, method: str, path: str, body: bytes | None, headers: dict) -> tuple:
    # A new connection each time, so that both workers take their share of the requests.
    connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=30)
    try:
        connection.request(method, path, body, headers)
        response = connection.getresponse()
        return response.status, response.getheader("Set-Cookie"), response.read()
    finally:
        connection.close()


def test_the_consent_limit_is_shared_by_all_workers_through_redis(limited_server):
    headers = {"Content-Type": "application/json", "X-Forwarded-For": a_client_address()}
    body = orjson.dumps(REFUSAL)
    statuses = Counter(
        send(limited_server, "POST", "/v1/consents", body, headers)[0] for _ in range(60)
    )

    # Two workers counting on their own would let up to 40 through.
    assert statuses == {201: 20, 429: 40}


def test_the_login_limit_is_shared_by_all_workers_through_redis(limited_server):
    address = a_client_address()
    status, cookie, page = send(
        limited_server, "GET", "/admin/login", None, {"X-Forwarded-For": address}
    )
    assert status == 200
    token = re.search(rb'name="csrf_token"[^>]*value="([^"]+)"', page).group(1).decode()
    form = f"email=nobody%40mixvoip.test&password=wrong-password&csrf_token={token}".encode()
    headers = {
        "Content-Type": "application/x-www-form-urlencoded",
        "Cookie": cookie.split(";", 1)[0],
        "X-Forwarded-For": address,
    }
    statuses = Counter(
        send(limited_server, "POST", "/admin/login", form, headers)[0] for _ in range(15)
    )

    assert statuses == {401: 5, 429: 10}
