"""`consent scan` against the project's own demo pages, served on loopback by gunicorn.

The sites' host names and Meta's ``connect.facebook.net`` are mapped to loopback with
``--resolve``, so the leaky page's "Meta pixel" is answered by the demo's stand-in.
"""

from __future__ import annotations

import json
import subprocess

from harness import VENV_BIN

RESOLVE = ["--resolve", "www.mixvoip.com=127.0.0.1", "--resolve", "connect.facebook.net=127.0.0.1"]


def consent_scan(live_server, url: str, *options: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(VENV_BIN / "consent"), "scan", url, *options],
        env=live_server.env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def violations(report: dict) -> set[tuple[str, str, str]]:
    return {
        (f["kind"], f["name"], f["phase"])
        for f in report["findings"]
        if f["verdict"] == "violation"
    }


def test_a_clean_page_passes_and_shows_what_acceptance_unlocks(live_server, site_url):
    result = consent_scan(live_server, site_url("mixvoip.com"), "--site", "mixvoip.com", *RESOLVE)

    assert result.returncode == 0, result.stderr
    assert "0 violation(s)" in result.stdout
    lines = result.stdout.splitlines()
    assert any(line.startswith("unlocked") and "_fbp" in line for line in lines)
    assert any(line.startswith("technical") and "mixvoip_consent" in line for line in lines)


def test_an_ungated_tag_setting_advertising_cookies_is_a_violation(live_server, site_url):
    url = site_url("mixvoip.com", "/demo/mixvoip.com/leaky/cookie")
    result = consent_scan(live_server, url, "--site", "mixvoip.com", "--json", *RESOLVE)

    assert result.returncode == 1, result.stderr
    report = json.loads(result.stdout)
    assert {
        ("cookie", "_fbp", "before"),
        ("cookie", "_gcl_au", "before"),
        ("cookie", "_fbp", "refused"),
    } <= violations(report)
    fbp = next(f for f in report["findings"] if f["name"] == "_fbp")
    assert fbp["partner"] == "meta-pixel" and fbp["lifetime"] == "90 days"
    assert fbp["source"].endswith("/demo-leaks/ads-tag.js")


def test_a_call_to_an_advertising_host_before_consent_is_a_violation(live_server, site_url):
    url = site_url("mixvoip.com", "/demo/mixvoip.com/leaky/host")
    result = consent_scan(live_server, url, "--site", "mixvoip.com", *RESOLVE)

    assert result.returncode == 1, result.stderr
    violation_lines = [line for line in result.stdout.splitlines() if line.startswith("VIOLATION")]
    assert violation_lines and all("connect.facebook.net" in line for line in violation_lines)
    assert any("before consent" in line for line in violation_lines)


def test_scan_follows_same_site_links_up_to_the_page_limit(live_server, site_url):
    url = site_url("mixvoip.com")
    result = consent_scan(
        live_server, url, "--site", "mixvoip.com", "--json", "--pages", "2", *RESOLVE
    )

    assert result.returncode == 0, result.stderr
    pages = [page["url"] for page in json.loads(result.stdout)["pages"]]
    assert len(pages) == 2 and pages[0] == url
    assert pages[1].startswith("http://www.mixvoip.com:")


def test_an_unreachable_url_is_a_clear_error(live_server):
    result = consent_scan(live_server, "http://127.0.0.1:9/", "--site", "mixvoip.com")

    assert result.returncode == 2
    assert "cannot open http://127.0.0.1:9/" in result.stderr
    assert "Traceback" not in result.stderr


def test_an_unknown_site_is_a_clear_error(live_server, site_url):
    result = consent_scan(live_server, site_url("mixvoip.com"), "--site", "nowhere.example")

    assert result.returncode == 2
    assert "unknown site 'nowhere.example'" in result.stderr
    assert "Traceback" not in result.stderr
