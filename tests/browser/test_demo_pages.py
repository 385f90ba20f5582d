"""A newcomer's path: open a site's demo page, decide, and find the decision in the log."""

from __future__ import annotations

import json
import urllib.request

import pytest
from playwright.sync_api import expect

SITES = ["mixvoip.com", "mixvoip.org", "voxbi.team", "voxbi.com"]


def history(server, consent: dict) -> dict:
    url = f"{server.url}/v1/consents/{consent['consent_id']}?receipt={consent['receipt']}"
    with urllib.request.urlopen(url) as response:
        return json.loads(response.read())


@pytest.mark.parametrize("site", SITES)
def test_accepting_on_a_demo_page_records_the_consent(page, site_url, live_server, site):
    page.goto(site_url(site))
    page.get_by_role("button", name="Accept all").click()
    page.wait_for_function(
        "() => window.MixvoipConsent.get() && window.MixvoipConsent.get().receipt"
    )

    consent = page.evaluate("() => window.MixvoipConsent.get()")
    recorded = history(live_server, consent)
    assert recorded["site"] == site
    assert [r["action"] for r in recorded["records"]] == ["accept_all"]
    expect(page.locator("#tags .status").first).to_have_text("ran")


def test_refusing_runs_no_advertising_tag(page, site_url, live_server):
    page.goto(site_url("voxbi.com"))
    page.get_by_role("button", name="Refuse all").click()
    page.wait_for_function(
        "() => window.MixvoipConsent.get() && window.MixvoipConsent.get().receipt"
    )

    consent = page.evaluate("() => window.MixvoipConsent.get()")
    assert [r["action"] for r in history(live_server, consent)["records"]] == ["refuse_all"]
    statuses = page.locator("#tags .status").all_inner_texts()
    assert statuses and all(s == "blocked until consent" for s in statuses)
    cookie_names = {c["name"] for c in page.context.cookies()}
    assert cookie_names == {"voxbi_consent"}
