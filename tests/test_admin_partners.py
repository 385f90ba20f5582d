"""Marketing switches a site's partners and adds partners to the catalogue."""

from __future__ import annotations

import re

import pytest
from admin_fixtures import csrf_token

from consent.extensions import db
from consent.models import AuditEvent


def partner_ids(client, site="mixvoip.org"):
    config = client.get(f"/v1/sites/{site}/config").get_json()
    return config["revision"], [p["id"] for p in config["partners"]]


def save(client, site, partners, revision=None):
    token = csrf_token(client, f"/admin/sites/{site}")
    if revision is None:
        revision = client.get(f"/v1/sites/{site}/config").get_json()["revision"]
    return client.post(
        f"/admin/sites/{site}",
        data={"csrf_token": token, "partners": partners, "revision": str(revision)},
    )


@pytest.fixture
def marketing(sign_in):
    return sign_in("marketing")


def test_the_site_page_shows_every_catalogue_partner_as_a_labelled_checkbox(marketing):
    page = marketing.get("/admin/sites/mixvoip.org").get_data(as_text=True)
    boxes = re.findall(
        r'<input type="checkbox" name="partners" value="([^"]+)"[^>]*?(checked)?>', page
    )
    assert {box for box, _ in boxes} == {
        "google-ads",
        "meta-pixel",
        "linkedin-insight",
        "microsoft-ads",
    }
    assert {box for box, checked in boxes if checked} == {"google-ads", "linkedin-insight"}
    assert '<label for="partner-google-ads">Google Ads</label>' in page
    assert "_gcl_au" in page and "Measures ad conversions" in page


def test_switching_a_partner_off_makes_a_new_revision_live_at_once(app, marketing):
    revision, before = partner_ids(marketing)
    etag = marketing.get("/v1/sites/mixvoip.org/widget.js").headers["ETag"]

    response = save(marketing, "mixvoip.org", ["linkedin-insight"])

    assert response.status_code == 302
    assert partner_ids(marketing) == (revision + 1, ["linkedin-insight"])
    script = marketing.get("/v1/sites/mixvoip.org/widget.js")
    assert script.headers["ETag"] != etag
    assert b"google-ads" not in script.data
    notice = marketing.get("/admin/sites/mixvoip.org").get_data(as_text=True)
    assert f"now at revision {revision + 1}" in notice
    with app.app_context():
        event = db.session.execute(db.select(AuditEvent)).scalar_one()
    assert event.actor == "marketing@mixvoip.test"
    assert (event.action, event.site_id) == ("partners.switch", "mixvoip.org")
    assert set(event.before) == set(before) and event.after == ["linkedin-insight"]


def test_saving_the_same_switches_makes_no_revision(marketing):
    revision, partners = partner_ids(marketing)
    assert save(marketing, "mixvoip.org", partners).status_code == 302
    assert partner_ids(marketing) == (revision, partners)


def test_a_save_based_on_an_old_revision_is_refused(marketing):
    revision, partners = partner_ids(marketing)
    save(marketing, "mixvoip.org", ["google-ads"])
    stale = save(marketing, "mixvoip.org", [], revision=revision)
    assert stale.status_code == 409
    assert "Someone saved this site meanwhile" in stale.get_data(as_text=True)
    assert partner_ids(marketing) == (revision + 1, ["google-ads"])


def test_an_unknown_partner_is_refused_with_a_message(marketing):
    revision, partners = partner_ids(marketing)
    response = save(marketing, "mixvoip.org", ["no-such-partner"])
    assert response.status_code == 422
    assert "unknown partner" in response.get_data(as_text=True)
    assert partner_ids(marketing) == (revision, partners)


def test_an_unknown_site_is_a_readable_404(marketing):
    response = marketing.get("/admin/sites/example.com")
    assert response.status_code == 404
    assert "There is no site called" in response.get_data(as_text=True)


def test_saving_without_csrf_token_is_rejected(marketing):
    revision, partners = partner_ids(marketing)
    response = marketing.post(
        "/admin/sites/mixvoip.org", data={"partners": [], "revision": str(revision)}
    )
    assert response.status_code == 400
    assert partner_ids(marketing) == (revision, partners)


NEW_PARTNER = {
    "name": "Criteo",
    "partner_id": "",
    "category": "advertising",
    "privacy_url": "https://www.criteo.com/privacy/",
    "purpose": "Shows you Mixvoip ads on other websites.",
    "purpose_fr": "Vous montre des publicités Mixvoip sur d'autres sites.",
    "cookies": "cto_bundle, 13 months\ncto_bidid",
    "hosts": "static.criteo.net\n*.criteo.com",
}


def add(client, **changes):
    token = csrf_token(client, "/admin/partners/new")
    return client.post("/admin/partners/new", data={**NEW_PARTNER, **changes, "csrf_token": token})


def test_marketing_adds_a_partner_to_the_catalogue(app, marketing):
    response = add(marketing)
    assert response.status_code == 302
    page = marketing.get("/admin/sites/voxbi.com").get_data(as_text=True)
    assert '<label for="partner-criteo">Criteo</label>' in page
    assert 'value="criteo" id="partner-criteo"' in page and "cto_bundle" in page
    assert save(marketing, "voxbi.com", ["criteo"]).status_code == 302
    config = marketing.get("/v1/sites/voxbi.com/config").get_json()
    assert config["partners"][0]["purpose"]["fr"] == NEW_PARTNER["purpose_fr"]
    assert config["partners"][0]["purpose"]["de"] == NEW_PARTNER["purpose"]  # English fallback
    assert config["partners"][0]["cookies"] == [
        {"name": "cto_bundle", "lifetime": "13 months", "third_party": False},
        {"name": "cto_bidid", "third_party": False},
    ]
    with app.app_context():
        event = db.session.execute(
            db.select(AuditEvent).where(AuditEvent.action == "partners.add")
        ).scalar_one()
    assert event.after["hosts"] == ["static.criteo.net", "*.criteo.com"]


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"privacy_url": "javascript:alert(1)"}, "starting with https://"),
        ({"hosts": "not a host"}, "is not a host name"),
        ({"cookies": "bad cookie name!"}, "is not a valid cookie name"),
        ({"name": "Google Ads"}, "already exists"),
        ({"partner_id": "Bad_Id"}, "lower-case letters"),
        ({"name": ""}, "This field is required"),
        ({"category": "technical"}, "Not a valid choice"),
    ],
)
def test_an_invalid_partner_is_refused_field_by_field(marketing, changes, message):
    response = add(marketing, **changes)
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert message in page
    assert 'aria-invalid="true"' in page
    assert "Criteo" not in marketing.get("/admin/sites/voxbi.com").get_data(as_text=True)
