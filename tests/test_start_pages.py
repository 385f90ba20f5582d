"""The start page a newcomer opens, and the demo page of each site."""

from __future__ import annotations

import re

import pytest

SITES = ["mixvoip.com", "mixvoip.org", "voxbi.team", "voxbi.com"]


def test_the_start_page_lists_the_four_sites_with_their_demo_and_the_admin(client):
    page = client.get("/").get_data(as_text=True)
    for site in SITES:
        assert f'href="/demo/{site}"' in page
    assert 'href="/admin"' in page
    assert "MIXVOIP Sa" in page
    assert "/v1/sites/mixvoip.com/widget.js" in page


@pytest.mark.parametrize("site", SITES)
def test_a_demo_page_embeds_the_widget_first_in_head(client, site):
    page = client.get(f"/demo/{site}").get_data(as_text=True)
    head = page.split("<head>", 1)[1]
    first_script = re.search(r"<script[^>]*>", head).group(0)
    assert f'src="/v1/sites/{site}/widget.js"' in first_script
    assert 'type="text/plain" data-consent="advertising"' in page
    assert "data-consent-open" in page


def test_a_demo_page_follows_the_language_asked_for(client):
    assert '<html lang="fr">' in client.get("/demo/mixvoip.com?lang=fr").get_data(as_text=True)
    assert '<html lang="en">' in client.get("/demo/voxbi.team?lang=nl").get_data(as_text=True)


def test_an_unknown_page_is_a_readable_404(client):
    response = client.get("/demo/example.com")
    assert response.status_code == 404
    assert "text/html" in response.content_type
    assert "example.com" in response.get_data(as_text=True)
