"""What the log keeps of a request: a network, a browser family, a page without its query."""

from __future__ import annotations

import pytest

from consent.minimisation import reduce_user_agent, strip_page_url, truncate_ip


@pytest.mark.parametrize(
    ("address", "kept"),
    [
        ("203.0.113.57", "203.0.113.0/24"),
        ("10.1.2.255", "10.1.2.0/24"),
        ("2001:db8:85a3:8d3:1319:8a2e:370:7348", "2001:db8:85a3::/48"),
        ("::ffff:198.51.100.7", "198.51.100.0/24"),
        ("not an address", None),
        (None, None),
    ],
)
def test_ip_addresses_keep_only_their_network(address, kept):
    assert truncate_ip(address) == kept


def test_a_user_agent_is_reduced_to_browser_os_device_and_bot_flag():
    iphone = (
        "Mozilla/5.0 (iPhone; CPU iPhone OS 17_1 like Mac OS X) AppleWebKit/605.1.15 "
        "(KHTML, like Gecko) Version/17.1 Mobile/15E148 Safari/604.1"
    )
    assert reduce_user_agent(iphone) == {
        "browser": "Mobile Safari 17",
        "os": "iOS 17",
        "device": "mobile",
        "bot": False,
    }
    bot = "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)"
    assert reduce_user_agent(bot)["bot"] is True
    assert reduce_user_agent(None) is None


@pytest.mark.parametrize(
    ("url", "kept"),
    [
        ("https://www.mixvoip.com/fr/?utm_source=x#top", "https://www.mixvoip.com/fr/"),
        ("https://user:secret@www.voxbi.com/a/b?id=42", "https://www.voxbi.com/a/b"),
        ("http://www.voxbi.team:8080", "http://www.voxbi.team:8080/"),
    ],
)
def test_a_page_url_loses_its_query_fragment_and_credentials(url, kept):
    assert strip_page_url(url) == kept


@pytest.mark.parametrize("url", ["javascript:alert(1)", "/relative", "ftp://x.lu/", "https://"])
def test_a_page_url_must_be_absolute_http(url):
    with pytest.raises(ValueError):
        strip_page_url(url)
