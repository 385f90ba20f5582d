"""Markup planted in sites.yaml is shown as text by the banner, the preferences and the page.

A real Chromium opens a demo page served from a sites file whose site name, banner texts,
partner name and purpose carry ``<img onerror>`` and ``</script>`` payloads: the visitor reads
them literally and no planted code ever runs.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from harness import LiveServer, live_server_env
from hostile import MARKUP, SCRIPT, hostile_sites_file
from load import loopback_port
from playwright.sync_api import expect


@pytest.fixture(scope="module")
def hostile_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    workdir = tmp_path_factory.mktemp("hostile")
    port = loopback_port()
    origins = [f"http://www.mixvoip.com:{port}", f"http://mixvoip.com:{port}"]
    sites = hostile_sites_file(workdir / "sites.yaml", origins)
    env = live_server_env(f"sqlite:///{workdir / 'consent.db'}", workdir, port, sites)
    server = LiveServer(workdir, env, port)
    server.start()
    yield server
    server.stop()


def test_planted_markup_is_shown_as_text_and_never_runs(page, hostile_server):
    page.goto(f"http://www.mixvoip.com:{hostile_server.port}/demo/mixvoip.com")

    expect(page.get_by_role("heading", name=f"Cookies {MARKUP}")).to_be_visible()
    expect(page.get_by_text(f"{SCRIPT} {MARKUP}").first).to_be_visible()
    expect(page.locator("h1")).to_contain_text(f"Mixvoip {MARKUP}")
    page.get_by_role("button", name="Customise").click()
    expect(page.get_by_role("switch", name=f"Ads {MARKUP}")).to_be_attached()
    expect(page.get_by_text(f"{SCRIPT} {MARKUP}").last).to_be_visible()

    page.get_by_role("button", name="Save my choices").click()
    page.wait_for_function(
        "() => window.MixvoipConsent.get() && window.MixvoipConsent.get().receipt"
    )
    assert page.evaluate("() => window.__xss") is None
    assert page.locator("img[src=x]").count() == 0
