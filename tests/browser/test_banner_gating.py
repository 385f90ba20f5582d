"""What the banner gates: tags added later, iframes, Google Consent Mode, GPC, CSP, failures."""

from __future__ import annotations

from banner_pages import RECORDED, history, serve, tag
from playwright.sync_api import expect

GTAG = (
    "<script>window.dataLayer = window.dataLayer || [];"
    "function gtag(){dataLayer.push(arguments);}</script>"
)
LAYER = "() => window.dataLayer.map(e => Array.from(e))"


def test_a_tag_added_later_runs_only_once_granted(page, site_url):
    page.goto(serve(page, site_url, "voxbi.team"))
    page.evaluate(
        """() => { const s = document.createElement('div');
        s.innerHTML = '<p>late</p>'; document.body.appendChild(s);
        const t = document.createElement('script'); t.type = 'text/plain';
        t.dataset.consent = 'advertising'; t.dataset.partner = 'meta-pixel';
        t.text = "(window.ran = window.ran || []).push('late')"; s.appendChild(t); }"""
    )
    assert page.evaluate("() => window.ran") is None
    page.get_by_role("button", name="Accept all").click()
    page.wait_for_function("() => window.ran && window.ran.length === 1")
    page.evaluate(
        """() => { const t = document.createElement('script'); t.type = 'text/plain';
        t.dataset.consent = 'advertising'; t.dataset.partner = 'linkedin-insight';
        t.text = "window.ran.push('later still')"; document.body.appendChild(t); }"""
    )
    page.wait_for_function("() => window.ran.length === 2")
    assert page.evaluate("() => window.ran") == ["late", "later still"]


def test_a_gated_iframe_shows_a_placeholder_that_offers_to_allow(page, site_url, live_server):
    body = (
        '<iframe title="Video" data-consent="advertising" data-partner="meta-pixel" '
        'data-src="/static/embed.html"></iframe>' + tag("google-ads")
    )
    page.goto(serve(page, site_url, "mixvoip.com", body=body))
    note = page.get_by_role("note")
    expect(note).to_contain_text("This content comes from Meta Pixel")
    frame = page.locator("iframe")
    assert frame.get_attribute("src") is None

    note.get_by_role("button", name="Allow and show").click()
    expect(frame).to_have_attribute("src", "/static/embed.html")
    expect(note).to_have_count(0)
    granted = page.wait_for_function(RECORDED) and page.evaluate("() => MixvoipConsent.get()")
    assert granted["partners"]["meta-pixel"] is True
    assert granted["partners"]["google-ads"] is False
    assert page.evaluate("() => window.ran") is None
    assert [r["action"] for r in history(live_server, granted)] == ["custom"]


def test_consent_mode_default_comes_before_any_tag_and_update_after_the_decision(page, site_url):
    head = GTAG + tag("google-ads").replace(
        "(window.ran", "gtag('event', 'conversion'); (window.ran"
    )
    page.goto(serve(page, site_url, "mixvoip.com", head=head))
    layer = page.evaluate(LAYER)
    assert layer == [
        [
            "consent",
            "default",
            {
                "ad_storage": "denied",
                "ad_user_data": "denied",
                "ad_personalization": "denied",
                "analytics_storage": "denied",
                "wait_for_update": 500,
            },
        ]
    ]

    page.get_by_role("button", name="Accept all").click()
    page.wait_for_function("() => window.ran")
    granted = {
        "ad_storage": "granted",
        "ad_user_data": "granted",
        "ad_personalization": "granted",
        "analytics_storage": "denied",
    }
    assert page.evaluate(LAYER)[1:] == [["consent", "update", granted], ["event", "conversion"]]

    page.reload()
    page.wait_for_function("() => window.ran")
    layer = page.evaluate(LAYER)
    assert [entry[:2] for entry in layer] == [
        ["consent", "default"],
        ["consent", "update"],
        ["event", "conversion"],
    ]
    assert layer[1][2] == granted


def test_a_site_without_consent_mode_gets_no_gtag_calls(page, site_url):
    page.goto(serve(page, site_url, "voxbi.team"))
    page.wait_for_function("() => window.MixvoipConsent")
    assert page.evaluate("() => window.dataLayer === undefined && window.gtag === undefined")


def gpc_page(browser):
    context = browser.new_context(locale="en-GB", extra_http_headers={"Sec-GPC": "1"})
    context.add_init_script(
        "Object.defineProperty(Navigator.prototype, 'globalPrivacyControl', {get: () => true})"
    )
    return context.new_page()


def test_global_privacy_control_keeps_advertising_refused_and_is_recorded(
    browser, site_url, live_server
):
    page = gpc_page(browser)
    try:
        page.goto(serve(page, site_url, "voxbi.com", body=tag("meta-pixel")))
        refused = page.wait_for_function(RECORDED) and page.evaluate("() => MixvoipConsent.get()")
        expect(page.get_by_role("dialog", name="Cookies on Voxbi")).to_have_count(0)
        assert refused["categories"]["advertising"] is False
        assert page.evaluate("() => window.ran") is None
        [record] = history(live_server, refused)
        assert (record["action"], record["gpc"]) == ("refuse_all", True)

        page.get_by_role("link", name="Cookie settings").click()
        prefs = page.get_by_role("dialog", name="Cookie preferences")
        expect(prefs).to_contain_text("Global Privacy Control")
        prefs.get_by_role("button", name="Accept all").click()
        page.wait_for_function("() => window.ran")
        page.wait_for_function(RECORDED)
        records = history(live_server, refused)
        assert [(r["action"], r["gpc"]) for r in records] == [
            ("refuse_all", True),
            ("accept_all", True),
        ]
    finally:
        page.context.close()


def test_the_widget_works_under_a_strict_csp_with_the_nonce_of_its_own_tag(page, site_url):
    nonce = "r4nd0mN0nce"
    csp = f"default-src 'self'; script-src 'nonce-{nonce}'; style-src 'nonce-{nonce}'"
    page.add_init_script(
        "window.violations = []; document.addEventListener('securitypolicyviolation',"
        " e => window.violations.push(e.violatedDirective + ' ' + e.blockedURI));"
    )
    body = tag("google-ads").replace("<script ", f'<script nonce="{nonce}" ')
    page.goto(serve(page, site_url, "mixvoip.com", body=body, csp=csp, nonce=nonce))

    accept = page.get_by_role("button", name="Accept all")
    expect(accept).to_be_visible()
    assert accept.evaluate("b => getComputedStyle(b).backgroundColor") == "rgb(11, 92, 173)"
    accept.click()
    page.wait_for_function("() => window.ran")
    page.wait_for_function(RECORDED)
    assert page.evaluate("() => window.violations") == []


def test_no_banner_and_no_advertising_when_the_widget_cannot_load(page, site_url):
    page.route("**/widget.js", lambda route: route.abort("connectionrefused"))
    page.goto(serve(page, site_url, "mixvoip.com", body=tag("google-ads")), wait_until="load")

    assert page.evaluate("() => window.MixvoipConsent") is None
    expect(page.get_by_role("button", name="Accept all")).to_have_count(0)
    assert page.evaluate("() => window.ran") is None
