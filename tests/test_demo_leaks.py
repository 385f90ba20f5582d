"""The leaky demo pages exist for the scanner's tests, and never in production."""

from __future__ import annotations

import pytest
from harness import app_settings

from consent import create_app


def test_leaky_pages_are_served_outside_production(client):
    page = client.get("/demo/mixvoip.com/leaky/cookie")

    assert page.status_code == 200
    assert "/demo-leaks/ads-tag.js" in page.get_data(as_text=True)
    assert "_fbp=" in client.get("/demo-leaks/ads-tag.js").get_data(as_text=True)


@pytest.mark.parametrize(
    "path",
    ["/demo/mixvoip.com/leaky/cookie", "/demo/mixvoip.com/leaky/host", "/demo-leaks/ads-tag.js"],
)
def test_leaky_pages_do_not_exist_in_production(database_url, tmp_path, path):
    app = create_app(app_settings(database_url, tmp_path / "instance", CONSENT_ENV="production"))

    assert app.test_client().get(path).status_code == 404
    app.extensions["consent"].ledger.close()
