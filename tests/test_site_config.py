"""GET /v1/sites/<site>/config and widget.js: what a page loads."""

from __future__ import annotations

import gzip

import brotli
import pytest

SITES = ["mixvoip.com", "mixvoip.org", "voxbi.team", "voxbi.com"]


@pytest.mark.parametrize("site", SITES)
def test_each_site_publishes_its_categories_partners_and_revision(client, site):
    config = client.get(f"/v1/sites/{site}/config").get_json()

    assert config["site"] == site
    assert config["revision"] == 1
    assert [(c["id"], c["required"]) for c in config["categories"]] == [
        ("technical", True),
        ("advertising", False),
    ]
    assert config["partners"], "every site has at least one advertising partner"
    for partner in config["partners"]:
        assert {"id", "name", "category"} <= set(partner)
        assert partner["category"] == "advertising"
    assert set(config["languages"]) >= {"en", "fr", "de"}
    assert config["cookie"]["refusal_months"] == 6
    assert config["cookie"]["consent_months"] == 13
    assert config["controller"]["name"] == "MIXVOIP Sa"


def test_belgian_facing_sites_speak_dutch(client):
    assert "nl" in client.get("/v1/sites/mixvoip.com/config").get_json()["languages"]
    assert "nl" in client.get("/v1/sites/voxbi.com/config").get_json()["languages"]


def test_the_consent_cookie_is_in_the_technical_inventory(client):
    config = client.get("/v1/sites/voxbi.com/config").get_json()
    technical = config["categories"][0]["cookies"]
    assert "voxbi_consent" in [c["name"] for c in technical]


def test_an_unknown_site_has_no_config(client):
    response = client.get("/v1/sites/example.com/config")
    assert response.status_code == 404
    assert response.get_json()["error"] == "unknown_site"
    assert client.get("/v1/sites/example.com/widget.js").status_code == 404


def test_the_widget_is_javascript_carrying_the_site_configuration(client):
    response = client.get("/v1/sites/voxbi.team/widget.js")

    assert response.status_code == 200
    assert response.mimetype == "application/javascript"
    script = response.get_data(as_text=True)
    assert '"site":"voxbi.team"' in script
    assert "__CONSENT_CONFIG__" not in script
    assert response.headers["ETag"]
    assert "max-age" in response.headers["Cache-Control"]


def test_the_widget_is_compressed_when_asked_and_revalidated_by_etag(client):
    plain = client.get("/v1/sites/mixvoip.com/widget.js").get_data()
    zipped = client.get("/v1/sites/mixvoip.com/widget.js", headers={"Accept-Encoding": "gzip"})
    brotlied = client.get(
        "/v1/sites/mixvoip.com/widget.js", headers={"Accept-Encoding": "gzip, deflate, br"}
    )

    assert zipped.headers["Content-Encoding"] == "gzip"
    assert gzip.decompress(zipped.get_data()) == plain
    assert brotlied.headers["Content-Encoding"] == "br"
    assert brotli.decompress(brotlied.get_data()) == plain
    assert "Accept-Encoding" in zipped.headers["Vary"]
    again = client.get(
        "/v1/sites/mixvoip.com/widget.js",
        headers={
            "Accept-Encoding": "gzip",
            "If-None-Match": zipped.headers["ETag"],
        },
    )
    assert again.status_code == 304
    assert again.get_data() == b""


def test_the_openapi_document_describes_every_endpoint(client):
    document = client.get("/v1/openapi.json").get_json()
    assert document["openapi"].startswith("3.")
    assert set(document["paths"]) >= {
        "/v1/sites/{site_id}/config",
        "/v1/sites/{site_id}/widget.js",
        "/v1/consents",
        "/v1/consents/{consent_id}",
    }
    request = document["components"]["schemas"]["ConsentRequest"]
    assert set(request["required"]) == {"site", "action", "categories"}
