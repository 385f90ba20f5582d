"""POST /v1/consents and GET /v1/consents/<id>: what is recorded, and every error."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from harness import log_rows

ALLOWED = "https://www.mixvoip.com"
CHROME_UA = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/120.0.0.0 Safari/537.36"
)
ACCEPT = {"action": "accept_all", "categories": {"technical": True, "advertising": True}}


def _json(value):
    """A JSON column as SQLite (text) or PostgreSQL (decoded) returns it to raw SQL."""
    return json.loads(value) if isinstance(value, str) else value


def test_a_refusal_is_recorded_with_a_receipt(post_consent, app):
    response = post_consent()

    assert response.status_code == 201
    body = response.get_json()
    assert set(body) >= {"consent_id", "receipt", "expires_at"}
    [row] = log_rows(app)
    assert row["consent_id"] == body["consent_id"]
    assert row["action"] == "refuse_all"
    assert _json(row["categories"]) == {"technical": True, "advertising": False}


def test_every_category_and_partner_is_stored_explicitly(post_consent, app):
    post_consent(
        action="custom",
        categories={"technical": True, "advertising": True},
        partners={"google-ads": True, "meta-pixel": False},
    )

    [row] = log_rows(app)
    assert _json(row["categories"]) == {"technical": True, "advertising": True}
    assert _json(row["partners"]) == {
        "google-ads": True,
        "meta-pixel": False,
        "linkedin-insight": True,
        "microsoft-ads": True,
    }


def test_the_record_names_controller_policy_revision_and_texts(post_consent, app):
    post_consent(language="fr")

    [row] = log_rows(app)
    assert row["controller"] == "MIXVOIP Sa, 70, rue des Prés, L-7333 Steinsel, Luxembourg"
    assert row["policy_version"] == "2021-09-13"
    assert row["revision"] == 1
    assert row["language"] == "fr"
    assert len(row["texts_hash"]) == 64


def test_personal_data_is_minimised(post_consent, app):
    post_consent(
        page_url="https://www.mixvoip.com/fr/tarifs?utm_source=mail&email=a@b.lu#contact",
        headers={"User-Agent": CHROME_UA},
    )
    [row] = log_rows(app)
    assert row["page_url"] == "https://www.mixvoip.com/fr/tarifs"
    assert row["ip_prefix"] == "127.0.0.0/24"
    assert _json(row["user_agent"]) == {
        "browser": "Chrome 120",
        "os": "Windows 10",
        "device": "pc",
        "bot": False,
    }
    assert CHROME_UA not in json.dumps(row, default=str)


def test_ipv6_addresses_are_truncated_to_48_bits(client, app):
    client.post(
        "/v1/consents",
        json={
            "site": "mixvoip.com",
            "action": "refuse_all",
            "categories": {"technical": True, "advertising": False},
        },
        environ_base={"REMOTE_ADDR": "2001:db8:85a3:8d3:1319:8a2e:370:7348"},
    )
    [row] = log_rows(app)
    assert row["ip_prefix"] == "2001:db8:85a3::/48"


def test_the_gpc_signal_is_recorded_from_body_or_header(post_consent, app):
    post_consent(gpc=True)
    post_consent(headers={"Sec-GPC": "1"})
    post_consent(headers={"Sec-GPC": "yes"})
    assert [bool(r["gpc"]) for r in log_rows(app)] == [True, True, False]


def test_one_visitor_keeps_one_consent_id_across_decisions(post_consent, app):
    consent_id = post_consent().get_json()["consent_id"]
    post_consent(consent_id=consent_id, **ACCEPT)
    post_consent(consent_id=consent_id, action="withdraw")

    rows = log_rows(app)
    assert [r["action"] for r in rows] == ["refuse_all", "accept_all", "withdraw"]
    assert {r["consent_id"] for r in rows} == {consent_id}


def test_a_refusal_is_remembered_for_six_months_and_a_consent_for_thirteen(post_consent):
    refused = post_consent().get_json()
    accepted = post_consent(**ACCEPT).get_json()

    def months(body):
        start = dt.datetime.fromisoformat(body["recorded_at"].replace("Z", "+00:00"))
        end = dt.datetime.fromisoformat(body["expires_at"].replace("Z", "+00:00"))
        return (end.year - start.year) * 12 + end.month - start.month

    assert months(refused) == 6
    assert months(accepted) == 13


def test_the_receipt_shows_the_visitor_their_own_history(client, post_consent):
    first = post_consent().get_json()
    second = post_consent(consent_id=first["consent_id"], **ACCEPT).get_json()

    response = client.get(f"/v1/consents/{first['consent_id']}?receipt={second['receipt']}")

    assert response.status_code == 200
    history = response.get_json()
    assert history["controller"].startswith("MIXVOIP Sa")
    assert [r["action"] for r in history["records"]] == ["refuse_all", "accept_all"]
    by_header = client.get(
        f"/v1/consents/{first['consent_id']}",
        headers={"Authorization": f"Bearer {first['receipt']}"},
    )
    assert by_header.status_code == 200


def test_history_needs_a_genuine_receipt_for_that_consent(client, post_consent):
    mine = post_consent().get_json()
    theirs = post_consent().get_json()
    url = f"/v1/consents/{mine['consent_id']}"

    assert client.get(url).status_code == 401
    forged = mine["receipt"][:-3] + ("AAA" if not mine["receipt"].endswith("AAA") else "BBB")
    assert client.get(f"{url}?receipt={forged}").get_json()["error"] == "invalid_receipt"
    assert client.get(f"{url}?receipt={theirs['receipt']}").status_code == 403
    assert client.get("/v1/consents/not-an-id?receipt=x").status_code == 422


# --- errors ------------------------------------------------------------------------------


def test_malformed_json_is_a_400_naming_the_problem(client, app):
    response = client.post(
        "/v1/consents", data='{"site": "mixvoip.com",', content_type="application/json"
    )
    assert response.status_code == 400
    assert response.get_json()["error"] == "malformed_json"
    assert "not valid JSON" in response.get_json()["message"]
    assert client.post("/v1/consents", data="[1, 2]").status_code == 400
    assert client.post("/v1/consents", data="").status_code == 400
    assert log_rows(app) == []


def test_an_unknown_site_is_a_404(post_consent, app):
    response = post_consent(site="example.com")
    assert response.status_code == 404
    assert response.get_json() == {
        "error": "unknown_site",
        "message": "there is no site 'example.com'",
        "field": "site",
    }
    assert log_rows(app) == []


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"action": "maybe"}, "action"),
        ({"categories": {"technical": True}}, "categories.advertising"),
        ({"categories": {"technical": False, "advertising": False}}, "categories.technical"),
        ({"categories": {"technical": True, "advertising": "no"}}, "categories.advertising"),
        (
            {"categories": {"technical": True, "advertising": False, "analytics": True}},
            "categories.analytics",
        ),
        ({"partners": {"tiktok": False}}, "partners.tiktok"),
        ({"partners": {"google-ads": True}}, "partners.google-ads"),
        ({"consent_id": "12345"}, "consent_id"),
        ({"revision": 99}, "revision"),
        ({"revision": "1"}, "revision"),
        ({"language": "es"}, "language"),
        ({"site": "voxbi.team", "language": "nl"}, "language"),
        ({"page_url": "javascript:alert(1)"}, "page_url"),
        ({"texts_version": "0" * 64}, "texts_version"),
        ({"colour": "blue"}, "colour"),
        ({"action": ...}, "action"),
        ({"action": "accept_all"}, "categories"),
    ],
)
def test_an_invalid_field_is_a_422_naming_it(post_consent, app, changes, field):
    response = post_consent(**changes)

    assert response.status_code == 422
    body = response.get_json()
    assert body["error"] == "invalid_field"
    assert body["field"] == field
    assert field in body["message"]
    assert log_rows(app) == []


def test_a_body_over_16_kb_is_refused_with_413(client, app):
    padding = "x" * (17 * 1024)
    response = client.post(
        "/v1/consents",
        data=json.dumps({**{"site": "mixvoip.com"}, "page_url": padding}),
        content_type="application/json",
    )
    assert response.status_code == 413
    assert response.get_json()["error"] == "body_too_large"
    assert log_rows(app) == []


def test_a_wrong_method_is_a_405_in_json(client):
    response = client.put("/v1/consents", json={})
    assert response.status_code == 405
    assert response.get_json()["error"] == "method_not_allowed"
    assert "POST" in response.headers["Allow"]
    assert client.delete("/v1/sites/mixvoip.com/config").status_code == 405


def test_an_unknown_api_path_is_a_404_in_json(client):
    response = client.get("/v1/nothing-here")
    assert response.status_code == 404
    assert response.get_json()["error"] == "not_found"


# --- CORS --------------------------------------------------------------------------------


def test_a_sites_own_origin_may_post_and_read_the_answer(post_consent):
    response = post_consent(headers={"Origin": ALLOWED})
    assert response.status_code == 201
    assert response.headers["Access-Control-Allow-Origin"] == ALLOWED
    assert "Origin" in response.headers["Vary"]


def test_a_foreign_origin_gets_403_and_writes_nothing(post_consent, app):
    for origin in ("https://evil.example", "null", "https://www.voxbi.com"):
        response = post_consent(headers={"Origin": origin})
        assert response.status_code == 403, origin
        assert response.get_json()["error"] == "forbidden_origin"
    assert log_rows(app) == []


def test_preflight_is_answered_for_site_origins_only(client):
    allowed = client.options(
        "/v1/consents",
        headers={
            "Origin": ALLOWED,
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "content-type",
        },
    )
    assert allowed.status_code == 204
    assert allowed.headers["Access-Control-Allow-Origin"] == ALLOWED
    assert "POST" in allowed.headers["Access-Control-Allow-Methods"]
    assert "Content-Type" in allowed.headers["Access-Control-Allow-Headers"]
    foreign = client.options(
        "/v1/consents",
        headers={
            "Origin": "https://evil.example",
            "Access-Control-Request-Method": "POST",
        },
    )
    assert foreign.status_code == 403
    assert "Access-Control-Allow-Origin" not in foreign.headers


def test_a_request_without_origin_is_not_subject_to_cors(post_consent):
    assert post_consent().status_code == 201
