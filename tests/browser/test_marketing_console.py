"""Marketing in a real browser: switch a partner off and on, and watch the banners follow.

Its own server (gunicorn, two workers, own SQLite database), because switching partners
changes what every other browser test would see.
"""

from __future__ import annotations

import json
import socket
import subprocess
import time
import urllib.request
from collections.abc import Iterator
from typing import Any

import pytest
from axe_playwright_python.sync_playwright import Axe
from harness import VENV_BIN, LiveServer, live_server_env, sites_file_for_hosts
from playwright.sync_api import Browser, BrowserContext, Page, expect

SITE = "voxbi.team"  # linkedin-insight and meta-pixel, per sites.yaml
EMAIL, PASSWORD = "marketing@mixvoip.test", "correct horse battery staple"
ADMIN = "admin@mixvoip.test"


def port_in_our_range() -> int:
    for port in range(5300, 5400):
        with socket.socket() as sock:
            try:
                sock.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    raise RuntimeError("no free port in 5300-5399")


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    workdir = tmp_path_factory.mktemp("console")
    port = port_in_our_range()
    sites = sites_file_for_hosts(workdir / "sites.yaml", port)
    env = live_server_env(f"sqlite:///{workdir / 'consent.db'}", workdir, port, sites)
    live = LiveServer(workdir, env, port)
    live.start()
    created = subprocess.run(
        [str(VENV_BIN / "consent"), "create-user", EMAIL, "--role", "marketing"]
        + ["--password-stdin"],
        input=PASSWORD + "\n",
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert created.returncode == 0, created.stderr
    admin = subprocess.run(
        [str(VENV_BIN / "consent"), "create-user", ADMIN, "--role", "admin", "--password-stdin"],
        input=PASSWORD + "\n",
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert admin.returncode == 0, admin.stderr
    yield live
    live.stop()


def config(server: LiveServer) -> dict[str, Any]:
    with urllib.request.urlopen(f"{server.url}/v1/sites/{SITE}/config") as response:
        return json.loads(response.read())


def served_everywhere(server: LiveServer, revision: int) -> None:
    """Wait until no gunicorn worker can serve an older revision of the site.

    A worker re-reads the catalogue on its first request once its copy is over a second old,
    so a revision that every answer has shown for 1.2 s running is the one every worker serves
    (config and widget.js alike).
    """
    since = None
    deadline = time.monotonic() + 15
    while since is None or time.monotonic() - since < 1.2:
        assert time.monotonic() < deadline, f"revision {revision} was not served in time"
        if config(server)["revision"] == revision:
            since = since if since is not None else time.monotonic()
        else:
            since = None
        time.sleep(0.05)


def demo_url(server: LiveServer) -> str:
    return f"http://www.{SITE}:{server.port}/demo/{SITE}"


def visit(browser: Browser, server: LiveServer, storage: Any = None) -> tuple[BrowserContext, Page]:
    """A visitor's browser: fresh, or returning with the cookies kept from a visit."""
    context = browser.new_context(locale="en-GB", storage_state=storage)
    context.set_default_timeout(10_000)
    page = context.new_page()
    page.goto(demo_url(server))
    return context, page


def banner(page: Page) -> Any:
    return page.get_by_role("dialog", name="Cookies on Voxbi Team")


def accept_all(page: Page) -> None:
    banner(page).get_by_role("button", name="Accept all").click()
    page.wait_for_function(
        "() => window.MixvoipConsent.get() && window.MixvoipConsent.get().receipt"
    )


def offered_partners(page: Page) -> list[str]:
    banner(page).get_by_role("button", name="Customise").click()
    switches = page.get_by_role("list", name="Advertising partners").get_by_role("switch")
    expect(switches.first).to_be_visible()
    return sorted(switches.evaluate_all("els => els.map(e => e.labels[0].textContent)"))


def switch_partner(page: Page, server: LiveServer, name: str, on: bool) -> None:
    page.goto(f"{server.url}/admin/sites/{SITE}")
    box = page.get_by_role("checkbox", name=name, exact=True)
    box.set_checked(on)
    page.get_by_role("button", name=f"Save partners of {SITE}").click()
    expect(page.get_by_role("status")).to_contain_text("Saved:")


def test_marketing_switches_a_partner_off_and_on_and_the_banners_follow(browser, server):
    first_visitor, first_page = visit(browser, server)
    accept_all(first_page)
    accepted_with_both = first_visitor.storage_state()
    first_visitor.close()
    revision = config(server)["revision"]

    marketing = browser.new_context(locale="en-GB")
    console = marketing.new_page()
    console.goto(f"{server.url}/admin/login")
    console.get_by_label("Email").fill(EMAIL)
    console.get_by_label("Password").fill(PASSWORD)
    console.get_by_role("button", name="Sign in").click()
    expect(console.get_by_role("heading", name="Dashboard")).to_be_visible()

    # Off: gone from the configuration (every worker) and from a new visitor's banner.
    switch_partner(console, server, "Meta Pixel", on=False)
    expect(console.get_by_role("status")).to_contain_text(f"revision {revision + 1}")
    served_everywhere(server, revision + 1)
    assert [p["id"] for p in config(server)["partners"]] == ["linkedin-insight"]
    second_visitor, second_page = visit(browser, server)
    assert offered_partners(second_page) == ["LinkedIn Insight Tag"]
    second_page.keyboard.press("Escape")
    second_page.reload()
    accept_all(second_page)
    accepted_without_meta = second_visitor.storage_state()
    second_visitor.close()

    # Removing a partner does not ask again a visitor who had accepted it.
    returning, page = visit(browser, server, accepted_with_both)
    expect(page.locator("#tags li").first).to_contain_text("ran")
    expect(banner(page)).to_have_count(0)
    returning.close()

    # On again: a visitor who decided without it is asked again, and it is offered.
    switch_partner(console, server, "Meta Pixel", on=True)
    served_everywhere(server, revision + 2)
    returning, page = visit(browser, server, accepted_without_meta)
    expect(banner(page)).to_be_visible()
    assert offered_partners(page) == ["LinkedIn Insight Tag", "Meta Pixel"]
    returning.close()
    marketing.close()


def serious_problems(page: Page) -> list[str]:
    results = Axe().run(page)
    return [
        f"{page.url} {v['id']}: {v['help']}"
        for v in results.response["violations"]
        if v["impact"] in ("serious", "critical")
    ]


def test_the_admin_pages_pass_axe_and_work_without_javascript(browser, server):
    context = browser.new_context(locale="en-GB", java_script_enabled=False)
    page = context.new_page()
    page.goto(f"{server.url}/admin/sites")
    page.get_by_label("Email").fill(ADMIN)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", name="Advertising partners per site")).to_be_visible()
    page.get_by_role("link", name="Opt-in rates of voxbi.team").click()
    expect(page.get_by_role("img", name="Decisions per week, voxbi.team")).to_be_visible()
    context.close()

    context = browser.new_context(locale="en-GB")
    page = context.new_page()
    page.goto(f"{server.url}/admin/login")
    problems = serious_problems(page)
    page.get_by_label("Email").fill(ADMIN)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", name="Dashboard")).to_be_visible()
    for path in (
        "/admin",
        "/admin/sites",
        f"/admin/sites/{SITE}",
        "/admin/partners/new",
        "/admin/stats",
        f"/admin/sites/{SITE}/stats?days=7&by=day",
        "/admin/users",
        "/admin/audit",
    ):
        page.goto(f"{server.url}{path}")
        problems += serious_problems(page)
    assert problems == []
    context.close()
