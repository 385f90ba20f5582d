"""What the banner remembers: the refusal and consent cookies, re-consent, the log, the queue."""

from __future__ import annotations

import base64
import json
from pathlib import Path

import pytest
from banner_pages import RECORDED, consent_cookie, history, months_left, serve, tag
from harness import app_settings
from playwright.sync_api import expect

from consent import create_app

ALL = [
    tag("google-ads", cookie="_gcl_au"),
    tag("meta-pixel", cookie="_fbp"),
    tag("microsoft-ads", cookie="_uetvid"),
]


def state(page) -> dict:
    page.wait_for_function(RECORDED)
    return page.evaluate("() => window.MixvoipConsent.get()")


def test_refusal_is_remembered_for_six_months_and_nothing_advertising_runs(
    page, site_url, live_server
):
    url = serve(page, site_url, "voxbi.com", body="".join(ALL))
    page.goto(url)
    page.get_by_role("button", name="Refuse all").click()
    refused = state(page)

    cookie = consent_cookie(page, "voxbi_consent")
    assert cookie["domain"] == ".voxbi.com"
    assert cookie["path"] == "/"
    assert cookie["sameSite"] == "Lax"
    assert 5.8 < months_left(cookie) < 6.2
    assert [r["action"] for r in history(live_server, refused)] == ["refuse_all"]

    page.reload()
    page.wait_for_load_state("load")
    expect(page.get_by_role("dialog", name="Cookies on Voxbi")).to_have_count(0)
    assert page.evaluate("() => window.ran") is None
    assert {c["name"] for c in page.context.cookies()} == {"voxbi_consent"}


def test_consent_is_remembered_for_thirteen_months_and_tags_run_once_in_order(
    page, site_url, live_server
):
    scripts = {"/tags/meta.js": "(window.ran = window.ran || []).push('meta-external');"}
    body = (
        tag("google-ads", "google-1")
        + '<script type="text/plain" data-consent="advertising" data-partner="meta-pixel" '
        'src="/tags/meta.js"></script>'
        + tag("microsoft-ads", "microsoft-3")
        + '<script>(window.ran = window.ran || []).push("technical-4")</script>'
    )
    page.goto(serve(page, site_url, "voxbi.com", body=body, scripts=scripts))
    assert page.evaluate("() => window.ran") == ["technical-4"]
    page.get_by_role("button", name="Accept all").click()
    accepted = state(page)

    assert page.evaluate("() => window.ran") == [
        "technical-4",
        "google-1",
        "meta-external",
        "microsoft-3",
    ]
    assert 12.8 < months_left(consent_cookie(page, "voxbi_consent")) < 13.2
    assert accepted["partners"] == {"google-ads": True, "meta-pixel": True, "microsoft-ads": True}

    page.reload()
    page.wait_for_function("() => window.ran && window.ran.length === 4")
    ran = page.evaluate("() => window.ran")
    assert sorted(ran) == sorted(["google-1", "meta-external", "microsoft-3", "technical-4"])
    assert [r for r in ran if r != "technical-4"] == ["google-1", "meta-external", "microsoft-3"]
    expect(page.get_by_role("dialog", name="Cookies on Voxbi")).to_have_count(0)


def test_customising_grants_only_the_partners_switched_on(page, site_url, live_server):
    page.goto(serve(page, site_url, "voxbi.com", body="".join(ALL)))
    page.get_by_role("button", name="Customise").click()
    prefs = page.get_by_role("dialog", name="Cookie preferences")
    prefs.get_by_role("switch", name="Meta Pixel").check()
    prefs.get_by_role("button", name="Save my choices").click()
    custom = state(page)

    assert page.evaluate("() => window.ran") == ["meta-pixel"]
    assert custom["partners"] == {"google-ads": False, "meta-pixel": True, "microsoft-ads": False}
    assert custom["categories"]["advertising"] is True
    [record] = history(live_server, custom)
    assert record["action"] == "custom"


def test_one_visitor_refuses_accepts_customises_and_withdraws_under_one_consent_id(
    page, site_url, live_server
):
    page.goto(serve(page, site_url, "voxbi.com", body="".join(ALL)))
    page.get_by_role("button", name="Refuse all").click()
    first = state(page)

    def reopen():
        page.get_by_role("link", name="Cookie settings").click()
        return page.get_by_role("dialog", name="Cookie preferences")

    reopen().get_by_role("button", name="Accept all").click()
    page.wait_for_function("() => window.MixvoipConsent.get().partners['google-ads']")
    page.wait_for_function(RECORDED)
    expect(reopen()).to_contain_text(first["consent_id"])
    prefs = page.get_by_role("dialog", name="Cookie preferences")
    prefs.get_by_role("switch", name="Google Ads").uncheck()
    prefs.get_by_role("button", name="Save my choices").click()
    page.wait_for_function("() => !window.MixvoipConsent.get().partners['google-ads']")
    page.wait_for_function(RECORDED)
    cookies = {c["name"] for c in page.context.cookies()}
    assert {"_fbp", "_uetvid"} <= cookies and "_gcl_au" not in cookies

    with page.expect_navigation():  # a withdrawal reloads the page once it is recorded
        reopen().get_by_role("button", name="Refuse all").click()
    page.wait_for_function("() => !window.MixvoipConsent.get().categories.advertising")
    last = state(page)

    assert last["consent_id"] == first["consent_id"]
    assert [r["action"] for r in history(live_server, last)] == [
        "refuse_all",
        "accept_all",
        "custom",
        "withdraw",
    ]
    assert {c["name"] for c in page.context.cookies()} == {"voxbi_consent"}
    assert page.evaluate("() => window.ran") is None  # reloaded: nothing advertising runs


def test_withdrawal_deletes_partner_cookies_on_the_host_and_the_registrable_domain(page, site_url):
    page.goto(serve(page, site_url, "voxbi.com", body="".join(ALL)))
    page.get_by_role("button", name="Accept all").click()
    state(page)
    page.evaluate(
        "() => { document.cookie = '_fbc=2; Path=/; Domain=voxbi.com';"
        " document.cookie = '_uetsid=3; Path=/'; document.cookie = 'own=4; Path=/'; }"
    )
    page.evaluate("() => window.MixvoipConsent.open()")
    with page.expect_navigation():  # a withdrawal reloads the page once it is recorded
        page.get_by_role("dialog", name="Cookie preferences").get_by_role(
            "button", name="Refuse all"
        ).click()
    page.wait_for_function("() => !window.MixvoipConsent.get().categories.advertising")

    assert {c["name"] for c in page.context.cookies()} == {"voxbi_consent", "own"}


def test_a_tampered_cookie_counts_as_no_decision(page, site_url):
    page.goto(serve(page, site_url, "voxbi.com"))
    page.get_by_role("button", name="Refuse all").click()
    state(page)
    cookie = consent_cookie(page, "voxbi_consent")
    value = json.loads(base64.urlsafe_b64decode(cookie["value"] + "=="))
    value["cat"]["advertising"] = True
    value["par"] = {k: True for k in value["par"]}
    forged = base64.urlsafe_b64encode(json.dumps(value).encode()).decode().rstrip("=")
    page.context.add_cookies([{**cookie, "value": forged}])

    page.reload()
    expect(page.get_by_role("dialog", name="Cookies on Voxbi")).to_be_visible()
    assert page.evaluate("() => window.MixvoipConsent.get()") is None


@pytest.fixture
def live_catalogue(live_server):
    """The live server's partner switches, changed as the marketing console changes them."""
    env = live_server.env
    app = create_app(
        app_settings(
            env["DATABASE_URL"],
            Path(env["CONSENT_INSTANCE_PATH"]),
            CONSENT_SITES_FILE=env["CONSENT_SITES_FILE"],
        )
    )
    catalogue = app.extensions["consent"].catalogue
    before = catalogue.site("mixvoip.org").partner_ids
    yield catalogue
    catalogue.switch_partners("mixvoip.org", before, "test")
    app.extensions["consent"].ledger.close()


def _revision_served(page, revision: int) -> None:
    # Each gunicorn worker reloads its catalogue on its first request once its copy is over a
    # second old: once the new revision has been served without a miss for 1.2 s, no worker
    # can serve the old one. (One awaited evaluate: wait_for_function does not await a
    # promise, it takes it as a truthy value.)
    page.evaluate(
        """async (revision) => {
            const deadline = Date.now() + 15000;
            let since = null;
            while (since === null || Date.now() - since < 1200) {
                if (Date.now() > deadline) throw new Error(`revision ${revision} not served`);
                const response = await fetch('/v1/sites/mixvoip.org/config', {cache: 'no-store'});
                const served = (await response.json()).revision;
                since = served === revision ? (since ?? Date.now()) : null;
                await new Promise(resolve => setTimeout(resolve, 50));
            }
        }""",
        revision,
    )


def test_a_partner_added_asks_again_and_a_partner_removed_does_not(
    browser, page, site_url, live_catalogue
):
    # Start from sites.yaml's partners, whatever earlier tests on this server switched.
    baseline = live_catalogue.switch_partners(
        "mixvoip.org", ["google-ads", "linkedin-insight"], "t"
    )
    probe = browser.new_page()
    probe.goto(serve(probe, site_url, "mixvoip.org"))
    _revision_served(probe, baseline.revision)
    probe.context.close()

    url = serve(page, site_url, "mixvoip.org")
    page.goto(url)
    page.get_by_role("button", name="Accept all").click()
    accepted = state(page)

    def returning_visitor():
        # A new tab with the same cookies and without the widget in the HTTP cache (its
        # Cache-Control lets a browser keep it for five minutes).
        later = browser.new_context(storage_state=page.context.storage_state())
        visit = later.new_page()
        visit.goto(serve(visit, site_url, "mixvoip.org"))
        visit.wait_for_function("() => window.MixvoipConsent")
        return visit

    removed = live_catalogue.switch_partners("mixvoip.org", ["google-ads"], "test")
    _revision_served(page, removed.revision)
    visit = returning_visitor()
    expect(visit.get_by_role("dialog", name="Cookies on Mixvoip.org")).to_have_count(0)
    assert visit.evaluate("() => window.MixvoipConsent.get().partners['google-ads']") is True
    visit.context.close()

    added = live_catalogue.switch_partners("mixvoip.org", ["google-ads", "meta-pixel"], "test")
    _revision_served(page, added.revision)
    visit = returning_visitor()
    expect(visit.get_by_role("dialog", name="Cookies on Mixvoip.org")).to_be_visible()
    assert visit.evaluate("() => window.MixvoipConsent.get().consent_id") == accepted["consent_id"]
    visit.context.close()


def test_a_decision_made_while_the_service_is_down_is_delivered_later(page, site_url, live_server):
    def down(route):
        if route.request.method == "POST":
            route.abort("connectionrefused")
        else:
            route.fallback()

    page.route("**/v1/consents", down)
    url = serve(page, site_url, "mixvoip.com", body=tag("google-ads"))
    page.goto(url)
    page.get_by_role("button", name="Accept all").click()
    page.wait_for_function("() => window.ran && window.ran.length === 1")  # applies at once
    queued = page.evaluate("() => localStorage.getItem('mixvoip-consent:mixvoip.com:queue')")
    pending = page.evaluate("() => window.MixvoipConsent.get()")
    assert json.loads(queued)[0]["consent_id"] == pending["consent_id"]

    page.reload()
    expect(page.get_by_role("dialog", name="Cookies on Mixvoip")).to_have_count(0)
    page.wait_for_function("() => window.ran && window.ran.length === 1")
    assert page.evaluate("() => window.MixvoipConsent.get().receipt") is None

    page.unroute("**/v1/consents", down)
    page.reload()
    delivered = state(page)
    assert delivered["consent_id"] == pending["consent_id"]
    assert [r["action"] for r in history(live_server, delivered)] == ["accept_all"]
    assert page.evaluate("() => localStorage.getItem('mixvoip-consent:mixvoip.com:queue')") is None


def test_on_https_the_refusal_cookie_is_secure(page, site_url, live_server):
    # The page is https (answered by Playwright, so no certificate is involved); the widget comes
    # from the service on loopback, which Chromium does not count as mixed content.
    url = serve(
        page,
        lambda site, path: site_url(site, path).replace("http://", "https://"),
        "voxbi.com",
        widget=f"{live_server.url}/v1/sites/voxbi.com/widget.js",
    )
    page.goto(url)
    assert page.evaluate("() => location.protocol") == "https:"
    page.get_by_role("button", name="Refuse all").click()
    refused = state(page)

    cookie = consent_cookie(page, "voxbi_consent")
    assert cookie["secure"] is True
    assert (cookie["domain"], cookie["path"], cookie["sameSite"]) == (".voxbi.com", "/", "Lax")
    assert 5.8 < months_left(cookie) < 6.2
    assert [r["action"] for r in history(live_server, refused)] == ["refuse_all"]


def test_on_http_the_cookie_is_not_marked_secure(page, site_url):
    page.goto(serve(page, site_url, "voxbi.com"))
    page.get_by_role("button", name="Accept all").click()
    state(page)
    assert consent_cookie(page, "voxbi_consent")["secure"] is False
