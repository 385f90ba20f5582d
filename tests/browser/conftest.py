"""Browser fixtures: one real Chromium per session, a fresh context per test.

The four sites are reached by their own host names (``http://www.mixvoip.com:<port>``),
mapped to loopback with ``--host-resolver-rules``; the live server serves them with the
sites' origins extended to those addresses.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import browser_setup
import pytest
from playwright.sync_api import Browser, BrowserContext, Page, sync_playwright

SITES = ["mixvoip.com", "mixvoip.org", "voxbi.team", "voxbi.com"]
HOSTS = [host for site in SITES for host in (f"www.{site}", site)] + ["consent.mixvoip.test"]


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if "tests/browser/" in str(item.fspath):
            item.add_marker(pytest.mark.browser)


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    executable = browser_setup.ensure()
    rules = ", ".join(f"MAP {host} 127.0.0.1" for host in HOSTS)
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(
            executable_path=executable,
            args=[
                *browser_setup.LAUNCH_ARGS,
                f"--host-resolver-rules={rules}",
                # Host pages that a test serves itself count as public; let them reach the
                # service on loopback as the sites' real pages reach it on the internet.
                "--disable-features=BlockInsecurePrivateNetworkRequests,LocalNetworkAccessChecks",
            ],
        )
        yield launched
        launched.close()


@pytest.fixture
def context(browser: Browser) -> Iterator[BrowserContext]:
    fresh = browser.new_context(locale="en-GB")
    fresh.set_default_timeout(10_000)
    yield fresh
    fresh.close()


@pytest.fixture
def page(context: BrowserContext) -> Page:
    return context.new_page()


@pytest.fixture
def site_url(live_server: Any):
    """``site_url("voxbi.com", "/demo/voxbi.com")`` → that page on the site's own host name."""

    def url(site: str, path: str = "") -> str:
        return f"http://www.{site}:{live_server.port}{path or f'/demo/{site}'}"

    return url
