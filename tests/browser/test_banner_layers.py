"""What a visitor sees: the first layer, the preferences, languages, keyboard and accessibility."""

from __future__ import annotations

import pytest
from axe_playwright_python.sync_playwright import Axe
from banner_pages import serve
from playwright.sync_api import expect


def banner(page):
    return page.get_by_role("dialog", name="Cookies on Mixvoip")


def test_first_visit_shows_the_first_layer_drawn_from_the_policy(page, site_url):
    page.goto(serve(page, site_url, "mixvoip.com"))

    layer = banner(page)
    expect(layer).to_be_visible()
    expect(layer).to_contain_text("MIXVOIP Sa")
    expect(layer).to_contain_text("IP address and/or an advertising ID")
    expect(layer.get_by_role("link", name="Privacy policy")).to_have_attribute(
        "href", "https://www.mixvoip.com/privacy-policy"
    )
    expect(layer.get_by_role("link", name="About cookies")).to_have_attribute(
        "href", "https://www.aboutcookies.org/"
    )
    for name in ("Accept all", "Refuse all", "Customise"):
        expect(layer.get_by_role("button", name=name)).to_be_visible()
    assert page.evaluate("() => window.MixvoipConsent.get()") is None
    assert page.context.cookies() == []


def test_accept_and_refuse_have_equal_weight(page, site_url):
    page.goto(serve(page, site_url, "mixvoip.com"))
    looks = [
        banner(page)
        .get_by_role("button", name=name)
        .evaluate(
            """b => { const s = getComputedStyle(b), r = b.getBoundingClientRect();
            return [Math.round(r.width), Math.round(r.height), s.color, s.backgroundColor,
                    s.fontSize, s.fontWeight, s.borderTopColor]; }"""
        )
        for name in ("Accept all", "Refuse all")
    ]
    assert looks[0] == looks[1]


def test_preferences_list_each_partner_with_purpose_link_and_no_box_ticked(page, site_url):
    page.goto(serve(page, site_url, "voxbi.com"))
    page.get_by_role("button", name="Customise").click()

    prefs = page.get_by_role("dialog", name="Cookie preferences")
    expect(prefs).to_be_visible()
    expect(prefs).to_contain_text("Always on")
    switches = prefs.get_by_role("switch")
    expect(switches).to_have_count(4)  # advertising + three partners
    for index in range(4):
        expect(switches.nth(index)).not_to_be_checked()
    for name, link in [
        ("Google Ads", "https://policies.google.com/privacy"),
        ("Meta Pixel", "https://www.facebook.com/privacy/policy/"),
        ("Microsoft Advertising", "https://privacy.microsoft.com/privacystatement"),
    ]:
        expect(prefs.get_by_role("switch", name=name)).to_be_visible()
        expect(prefs.get_by_role("link", name=f"Privacy policy of {name}")).to_have_attribute(
            "href", link
        )
    expect(prefs).to_contain_text("Lets Meta show you Mixvoip ads on Facebook and Instagram")


@pytest.mark.parametrize(
    ("lang", "locale", "title", "accept"),
    [
        ("fr", "en-GB", "Cookies sur Mixvoip", "Tout accepter"),
        ("nl-BE", "en-GB", "Cookies op Mixvoip", "Alles accepteren"),
        (None, "de-DE", "Cookies auf Mixvoip", "Alle akzeptieren"),
        ("es", "es-ES", "Cookies on Mixvoip", "Accept all"),
    ],
)
def test_language_comes_from_html_lang_then_the_browser_then_the_site(
    browser, site_url, lang, locale, title, accept
):
    context = browser.new_context(locale=locale)
    try:
        page = context.new_page()
        page.goto(serve(page, site_url, "mixvoip.com", lang=lang))
        layer = page.get_by_role("dialog", name=title)
        expect(layer).to_be_visible()
        expect(layer.get_by_role("button", name=accept)).to_be_visible()
    finally:
        context.close()


def test_a_language_the_site_does_not_speak_falls_back_to_its_default(page, site_url):
    page.goto(serve(page, site_url, "voxbi.team", lang="nl"))
    expect(page.get_by_role("dialog", name="Cookies on Voxbi Team")).to_be_visible()


def test_keyboard_reaches_the_buttons_and_focus_returns_after_closing(page, site_url):
    page.goto(serve(page, site_url, "mixvoip.com"))
    layer = banner(page)
    expect(layer).to_be_visible()

    for _ in range(6):
        page.keyboard.press("Tab")
        name = layer.evaluate(
            "() => { const a = document.getElementById('mixvoip-consent').shadowRoot"
            ".activeElement; return a && a.textContent; }"
        )
        if name == "Customise":
            break
    assert name == "Customise"
    outline = layer.get_by_role("button", name="Customise").evaluate(
        "b => getComputedStyle(b).outlineStyle + ' ' + getComputedStyle(b).outlineWidth"
    )
    assert outline.startswith("solid") and not outline.endswith(" 0px")

    page.keyboard.press("Enter")
    prefs = page.get_by_role("dialog", name="Cookie preferences")
    expect(prefs).to_be_visible()
    page.keyboard.press("Escape")
    expect(prefs).to_be_hidden()
    expect(layer).to_be_visible()  # closing is not a decision
    assert page.evaluate("() => window.MixvoipConsent.get()") is None

    layer.get_by_role("button", name="Refuse all").click()
    expect(layer).to_be_hidden()
    settings = page.get_by_role("link", name="Cookie settings")
    settings.focus()
    page.keyboard.press("Enter")
    expect(prefs).to_be_visible()
    page.keyboard.press("Escape")
    expect(prefs).to_be_hidden()
    expect(settings).to_be_focused()


def _serious(page) -> list[str]:
    results = Axe().run(page)
    return [
        f"{v['id']}: {v['help']}"
        for v in results.response["violations"]
        if v["impact"] in ("serious", "critical")
    ]


@pytest.mark.parametrize("site", ["mixvoip.com", "voxbi.team"])
def test_axe_finds_nothing_serious_in_either_layer(page, site_url, site):
    page.goto(serve(page, site_url, site))
    expect(page.get_by_role("button", name="Accept all")).to_be_visible()
    assert _serious(page) == []

    page.get_by_role("button", name="Customise").click()
    expect(page.get_by_role("dialog", name="Cookie preferences")).to_be_visible()
    assert _serious(page) == []


@pytest.mark.parametrize(("width", "height"), [(320, 568), (640, 400)])
def test_the_banner_fits_a_phone_and_200_percent_zoom(browser, site_url, width, height):
    # 640 × 400 CSS pixels is a 1280 × 800 screen at 200 % zoom.
    context = browser.new_context(viewport={"width": width, "height": height}, locale="en-GB")
    try:
        page = context.new_page()
        page.goto(serve(page, site_url, "mixvoip.com"))
        layer = banner(page)
        for name in ("Accept all", "Refuse all", "Customise"):
            button = layer.get_by_role("button", name=name)
            button.scroll_into_view_if_needed()
            box = button.bounding_box()
            assert box and box["x"] >= 0 and box["x"] + box["width"] <= width
        overflow = layer.evaluate("s => s.scrollWidth - s.clientWidth")
        assert overflow <= 0
        page.get_by_role("button", name="Customise").click()
        save = page.get_by_role("button", name="Save my choices")
        save.scroll_into_view_if_needed()
        box = save.bounding_box()
        assert box and box["x"] + box["width"] <= width
    finally:
        context.close()


def test_showing_the_banner_shifts_nothing_on_the_page(page, site_url):
    page.add_init_script(
        """window.shifts = 0; new PerformanceObserver(l => l.getEntries().forEach(
        e => { window.shifts += e.value; })).observe({type: 'layout-shift', buffered: true});"""
    )
    page.goto(serve(page, site_url, "mixvoip.com", body="<p>" + "Text. " * 200 + "</p>"))
    expect(banner(page)).to_be_visible()
    page.wait_for_load_state("load")
    assert page.evaluate("() => window.shifts") == 0
