"""The service as `make run` starts it: `consent upgrade`, then gunicorn on a loopback port."""

from __future__ import annotations

import http.client
import json
import subprocess
import urllib.request
from pathlib import Path

import pytest
import yaml
from harness import (
    TEST_DATABASE_URL,
    VENV_BIN,
    LiveServer,
    free_port,
    live_server_env,
    postgres_schema_url,
)

from consent.settings import PROJECT_ROOT

SITES = ["mixvoip.com", "mixvoip.org", "voxbi.team", "voxbi.com"]


def post(url: str, body: dict, origin: str | None = None) -> tuple[int, dict]:
    headers = {"Content-Type": "application/json", **({"Origin": origin} if origin else {})}
    request = urllib.request.Request(f"{url}/v1/consents", json.dumps(body).encode(), headers)
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


@pytest.fixture(params=["sqlite"] + (["postgresql"] if TEST_DATABASE_URL else []))
def server(request, tmp_path):
    port = free_port()
    url = (
        f"sqlite:///{tmp_path / 'consent.db'}"
        if request.param == "sqlite"
        else postgres_schema_url("consent_serving")
    )
    live = LiveServer(tmp_path, live_server_env(url, tmp_path, port), port)
    live.start()
    yield live
    live.stop()


def test_a_consent_can_be_posted_for_each_site(server):
    for site in SITES:
        status, body = post(
            server.url,
            {
                "site": site,
                "action": "accept_all",
                "categories": {"technical": True, "advertising": True},
            },
            origin=f"https://www.{site}",
        )
        assert status == 201, body
        assert body["site"] == site

    exported = subprocess.run(
        [str(VENV_BIN / "consent"), "export", "--format", "jsonl"],
        env=server.env,
        capture_output=True,
        text=True,
        check=True,
    )
    rows = [json.loads(line) for line in exported.stdout.splitlines()]
    assert sorted(row["site"] for row in rows) == sorted(SITES)
    assert {row["controller"] for row in rows} == {
        "MIXVOIP Sa, 70, rue des Prés, L-7333 Steinsel, Luxembourg"
    }


def test_a_chunked_body_over_16_kb_is_refused(server):
    connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=10)
    connection.putrequest("POST", "/v1/consents")
    connection.putheader("Content-Type", "application/json")
    connection.putheader("Transfer-Encoding", "chunked")
    connection.endheaders()
    chunk = b'{"site": "mixvoip.com", "page_url": "' + b"x" * 20_000 + b'"}'
    connection.send(f"{len(chunk):x}\r\n".encode() + chunk + b"\r\n0\r\n\r\n")
    response = connection.getresponse()
    body = json.loads(response.read())
    assert response.status == 413, body
    assert body["error"] == "body_too_large"


def test_the_start_page_and_demo_pages_are_served(server):
    with urllib.request.urlopen(f"{server.url}/") as response:
        page = response.read().decode()
    for site in SITES:
        assert f"/demo/{site}" in page
        with urllib.request.urlopen(f"{server.url}/demo/{site}") as demo:
            assert demo.status == 200


def test_gunicorn_stops_with_one_message_on_a_bad_sites_file(tmp_path):
    config = yaml.safe_load((PROJECT_ROOT / "sites.yaml").read_text(encoding="utf-8"))
    del config["sites"][0]["origins"]
    bad = tmp_path / "sites.yaml"
    bad.write_text(yaml.safe_dump(config, allow_unicode=True), encoding="utf-8")
    port = free_port()
    env = live_server_env(f"sqlite:///{tmp_path / 'c.db'}", tmp_path, port, bad)

    result = subprocess.run(
        [str(VENV_BIN / "gunicorn"), "-c", "python:consent.gunicorn_config"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        cwd=PROJECT_ROOT,
    )

    assert result.returncode != 0
    assert "sites[0] (mixvoip.com).origins: Field required" in result.stderr
    assert str(bad) in result.stderr
    assert "Traceback" not in result.stderr


def test_make_run_uses_the_documented_entry_points():
    makefile = (PROJECT_ROOT / "Makefile").read_text()
    assert "consent upgrade" in makefile
    assert "gunicorn -c python:consent.gunicorn_config" in makefile
    assert Path(PROJECT_ROOT / ".ci" / "run").read_text().count("make test") == 1
