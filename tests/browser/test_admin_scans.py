"""Scans from the admin: started by marketing or legal, run in the background, with history
and the changes since the previous scan of the same site.

The pages scanned are the demo pages of the session's live server; the scan itself runs in
its own process (``python -m consent.scanner.worker``), on this test's database.
"""

from __future__ import annotations

import re
import time
from pathlib import Path

import pytest
import yaml
from admin_fixtures import csrf_token

from consent.settings import PROJECT_ROOT


@pytest.fixture
def scan_urls(live_server) -> dict[str, str]:
    return {
        "clean": f"{live_server.url}/demo/mixvoip.com",
        "leaky": f"{live_server.url}/demo/mixvoip.com/leaky/cookie",
    }


@pytest.fixture
def settings_overrides(tmp_path: Path, scan_urls: dict[str, str]) -> dict[str, str]:
    config = yaml.safe_load((PROJECT_ROOT / "sites.yaml").read_text(encoding="utf-8"))
    for site in config["sites"]:
        if site["id"] == "mixvoip.com":
            site["scan_urls"] = [scan_urls["clean"], scan_urls["leaky"]]
    path = tmp_path / "sites.yaml"
    path.write_text(yaml.safe_dump(config, sort_keys=False), encoding="utf-8")
    return {"CONSENT_SITES_FILE": str(path)}


def start_scan(client, urls: list[str]) -> str:
    token = csrf_token(client, "/admin/scans")
    response = client.post(
        "/admin/scans", data={"csrf_token": token, "site": "mixvoip.com", "urls": urls}
    )
    assert response.status_code == 302, response.get_data(as_text=True)
    return response.headers["Location"]


def finished_page(client, location: str, timeout: float = 90) -> str:
    """The scan's page once its status is no longer queued or running."""
    deadline = time.monotonic() + timeout
    while True:
        page = client.get(location).get_data(as_text=True)
        status = re.search(r'id="scan-status">(\w+)<', page).group(1)
        if status not in ("queued", "running"):
            return page
        assert time.monotonic() < deadline, f"scan still {status} after {timeout}s"
        time.sleep(0.25)


def section(page: str, area: str) -> str:
    return page.split(f'id="changes-{area}"', 1)[1].split("</div>", 1)[0]


def test_a_scan_started_in_the_admin_runs_in_the_background_and_reports(sign_in, scan_urls):
    client = sign_in("marketing")

    location = start_scan(client, [scan_urls["clean"]])
    # The answer came before the scan was made: the web worker does not wait for Chromium.
    assert re.search(
        r'id="scan-status">(queued|running)<', client.get(location).get_data(as_text=True)
    )
    page = finished_page(client, location)

    assert 'id="scan-status">done<' in page
    assert "0 violation(s)" in page
    assert "mixvoip_consent" in page and "unlocked" in page
    assert "first scan of this site" in page
    history = client.get("/admin/scans").get_data(as_text=True)
    assert location.rsplit("/", 1)[1] in history


def test_a_second_scan_shows_what_changed_since_the_previous_one(sign_in, scan_urls):
    client = sign_in("legal")
    first = start_scan(client, [scan_urls["clean"]])
    finished_page(client, first)

    second = start_scan(client, [scan_urls["leaky"]])
    page = finished_page(client, second)

    assert "<strong>4 violation(s)</strong>" in page
    new_violations = section(page, "violations").split("<h4>Gone</h4>")[0]
    assert "cookie _fbp before consent" in new_violations
    assert "cookie _gcl_au after refusal" in new_violations
    assert f"scan {first.rsplit('/', 1)[1]}</a>" in page


def test_only_the_sites_listed_pages_can_be_scanned(sign_in):
    client = sign_in("marketing")
    token = csrf_token(client, "/admin/scans")

    response = client.post(
        "/admin/scans",
        data={"csrf_token": token, "site": "mixvoip.com", "urls": ["http://elsewhere.test/"]},
        follow_redirects=True,
    )

    assert "Choose at least one page to scan." in response.get_data(as_text=True)
