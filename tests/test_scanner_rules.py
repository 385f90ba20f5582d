"""The scanner's judgement: which cookies and hosts are technical, advertising or unknown."""

from __future__ import annotations

import pytest

from consent.scanner.capture import Cookie, Visit, lifetime
from consent.scanner.classify import classify, rules_for
from consent.scanner.hosts import is_same_site, matches_cookie, matches_host
from consent.settings import PROJECT_ROOT
from consent.sites import load_sites

CONFIG = load_sites(PROJECT_ROOT / "sites.yaml")
SITE = CONFIG.site("mixvoip.com")
RULES = rules_for(CONFIG, SITE, CONFIG.partners, "https://consent.mixvoip.com")


def visit(cookies=(), hosts=()) -> Visit:
    return Visit(
        url="https://www.mixvoip.com/",
        cookies=[Cookie(name, "www.mixvoip.com", "first", "90 days", None) for name in cookies],
        hosts={host: f"https://{host}/x.js" for host in hosts},
    )


def verdicts(findings) -> dict[str, str]:
    return {f.name: f.verdict for f in findings}


def test_subdomains_of_one_domain_are_the_same_site():
    assert is_same_site("www.mixvoip.com", "consent.mixvoip.com")
    assert not is_same_site("www.mixvoip.com", "connect.facebook.net")
    assert not is_same_site("127.0.0.1", "127.0.0.2")


def test_catalogue_patterns_match_names_and_subdomains():
    assert matches_cookie("_ga_ABC123", "_ga_*")
    assert not matches_cookie("_gab", "_ga_*")
    assert matches_cookie("SERVERID123", "SERVERID*")
    assert matches_host("stats.g.doubleclick.net", "*.doubleclick.net")
    assert matches_host("doubleclick.net", "*.doubleclick.net")
    assert not matches_host("evil-doubleclick.net", "*.doubleclick.net")


def test_advertising_cookie_and_host_before_consent_are_violations():
    findings = classify(visit(["_fbp"], ["connect.facebook.net"]), "before", RULES)
    assert verdicts(findings) == {"_fbp": "violation", "connect.facebook.net": "violation"}
    assert {f.partner for f in findings} == {"meta-pixel"}


def test_advertising_after_refusal_is_a_violation_and_after_acceptance_is_unlocked():
    assert verdicts(classify(visit(["_gcl_au"]), "refused", RULES)) == {"_gcl_au": "violation"}
    assert verdicts(classify(visit(["_gcl_au"]), "accepted", RULES)) == {"_gcl_au": "unlocked"}


def test_technical_cookies_and_the_consent_service_are_allowed():
    findings = classify(
        visit(["mixvoip_consent", "PHPSESSID", "SERVERID7"], ["consent.mixvoip.com"]),
        "before",
        RULES,
    )
    assert set(verdicts(findings).values()) == {"technical"}


def test_what_the_catalogue_does_not_know_is_a_warning():
    findings = classify(visit(["mystery"], ["cdn.example.org"]), "before", RULES)
    assert verdicts(findings) == {"mystery": "warning", "cdn.example.org": "warning"}


def test_after_acceptance_only_what_consent_unlocked_is_reported():
    before = visit(["mixvoip_consent"])
    after = visit(["mixvoip_consent", "_fbp"], ["connect.facebook.net"])
    assert verdicts(classify(after, "accepted", RULES, seen=before)) == {
        "_fbp": "unlocked",
        "connect.facebook.net": "unlocked",
    }


@pytest.mark.parametrize(
    ("expires", "expected"),
    [(-1, "session"), (1000 + 900, "15 minutes"), (1000 + 90 * 86400, "90 days")],
)
def test_lifetime_is_told_in_words(expires, expected):
    assert lifetime(expires, now=1000) == expected
