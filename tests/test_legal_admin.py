"""Legal's admin pages on both databases: the log (filters, pages, downloads), one visitor's
proof of consent (texts in their language, place in the chain, JSON, erasure) and the chain."""

from __future__ import annotations

import csv
import io
import json

import pytest
from admin_fixtures import csrf_token
from harness import REFUSAL
from legal_fixtures import CONTROLLER, entry, sql
from sqlalchemy import text

from consent.extensions import db
from consent.legal import verify

VISITOR = "3f1c9f0e-8a7b-4c1d-9e2f-0a1b2c3d4e5f"


def audit_actions(app) -> list[tuple[str, str | None]]:
    with app.app_context():
        rows = db.session.execute(
            text("SELECT action, subject FROM audit_events ORDER BY id")
        ).all()
    return [(r.action, r.subject) for r in rows]


@pytest.mark.parametrize("role", ["marketing"])
def test_only_legal_and_admin_see_the_log(app, sign_in, role):
    paths = [
        "/admin/log",
        f"/admin/log/{VISITOR}",
        f"/admin/log/{VISITOR}.json",
        "/admin/chain",
        "/admin/log/export.csv",
        "/admin/chain/anchor.json",
    ]
    anonymous = app.test_client()
    other = sign_in(role)
    legal, admin = sign_in("legal"), sign_in("admin")
    for path in paths:
        assert anonymous.get(path).status_code == 302, path
        denied = other.get(path)
        assert denied.status_code == 403 and "not for your role" in denied.get_data(as_text=True)
        assert legal.get(path).status_code == 200, path
        assert admin.get(path).status_code == 200, path
    assert "Consent log" not in other.get("/admin").get_data(as_text=True)
    assert "Consent log" in legal.get("/admin").get_data(as_text=True)


def test_the_log_filters_and_pages_with_a_keyset(app, sign_in):
    ledger = app.extensions["consent"].ledger
    ledger.append_many([entry(consent_id=f"00000000-0000-4000-8000-{i:012d}") for i in range(55)])
    ledger.append_many([entry("voxbi.com", action="accept_all", consent_id=VISITOR)])
    client = sign_in("legal")

    first = client.get("/admin/log").get_data(as_text=True)
    assert first.count("<tr>") == 51  # header + 50
    assert 'rel="next" href="/admin/log?after=mixvoip.com:50"' in first
    second = client.get("/admin/log?after=mixvoip.com:50").get_data(as_text=True)
    assert second.count("<tr>") == 1 + 6 and "voxbi.com" in second and 'rel="next"' not in second

    by_site = client.get("/admin/log?site=voxbi.com").get_data(as_text=True)
    assert by_site.count("<tr>") == 2 and VISITOR in by_site
    by_action = client.get("/admin/log?action=accept_all").get_data(as_text=True)
    assert by_action.count("<tr>") == 2
    by_id = client.get("/admin/log?consent_id=00000000-0000-4000-8000-000000000007")
    assert by_id.get_data(as_text=True).count("<tr>") == 2
    today = client.get("/admin/log?since=2000-01-01&until=2999-12-31&site=mixvoip.com")
    assert today.get_data(as_text=True).count("<tr>") == 51
    none = client.get("/admin/log?until=2000-01-01").get_data(as_text=True)
    assert "No record matches" in none


def test_bad_filters_get_a_readable_page(sign_in):
    page = sign_in("legal").get("/admin/log?since=yesterday&site=nowhere&action=maybe")
    assert page.status_code == 400
    body = page.get_data(as_text=True)
    assert "is not a date" in body and "nowhere" in body and "maybe" in body


@pytest.mark.parametrize("fmt", ["csv", "jsonl"])
def test_the_filter_downloads_streamed_and_audited(app, sign_in, fmt, tmp_path):
    ledger = app.extensions["consent"].ledger
    ledger.append_many([entry(), entry("voxbi.com"), entry(consent_id=VISITOR, page_url="=1+2")])
    client = sign_in("legal")
    response = client.get(f"/admin/log/export.{fmt}?site=mixvoip.com")
    assert response.status_code == 200
    assert response.is_streamed
    assert "attachment" in response.headers["Content-Disposition"]
    body = response.get_data(as_text=True)
    if fmt == "csv":
        rows = list(csv.DictReader(io.StringIO(body)))
        assert rows[1]["page_url"] == "'=1+2"
    else:
        rows = [json.loads(line) for line in body.splitlines()]
    assert [r["site"] for r in rows] == ["mixvoip.com", "mixvoip.com"]
    assert all(r["controller"] == CONTROLLER for r in rows)
    path = tmp_path / f"download.{fmt}"
    path.write_text(body)
    assert app.test_cli_runner().invoke(args=["verify-export", str(path)]).exit_code == 0
    assert audit_actions(app) == [("log.export", None)]


def _record(client, **changes):
    response = client.post("/v1/consents", json={**REFUSAL, **changes})
    assert response.status_code == 201, response.get_json()
    return response.get_json()["consent_id"]


def test_the_proof_of_one_consent(app, sign_in):
    api = app.test_client()
    headers = {
        "User-Agent": "Mozilla/5.0 (X11; Linux x86_64; rv:120.0) Gecko/20100101 Firefox/120.0"
    }
    visitor = _record(api, language="fr", page_url="https://www.mixvoip.com/fr/?utm=x")
    api.post(
        "/v1/consents",
        json={
            **REFUSAL,
            "consent_id": visitor,
            "action": "accept_all",
            "language": "fr",
            "categories": {"technical": True, "advertising": True},
        },
        headers=headers,
    )
    _record(api)  # someone else
    client = sign_in("legal")
    page = client.get(f"/admin/log/{visitor}").get_data(as_text=True)
    assert page.count('<section class="panel" aria-labelledby') == 2
    assert "refuse_all on mixvoip.com" in page and "accept_all on mixvoip.com" in page
    assert "mixvoip.com record #1" in page and "mixvoip.com record #2" in page
    assert page.count("verifies (own hash") == 2
    assert "Cookies sur" in page  # the texts as the visitor read them, in French
    assert 'lang="fr"' in page
    assert "https://www.mixvoip.com/fr/" in page and "utm" not in page
    assert CONTROLLER in page
    assert 'href="/static/legal.css"' in page  # with its print stylesheet

    # Tampering shows on the record that was touched.
    sql(db_engine(app), "UPDATE consent_log SET action = 'custom' WHERE seq = 2")
    page = client.get(f"/admin/log/{visitor}").get_data(as_text=True)
    assert "does not verify: its content was altered" in page


def db_engine(app):
    return app.extensions["consent"].ledger.engine


def test_the_visitor_gets_their_records_as_json(app, sign_in):
    visitor = _record(app.test_client(), language="de")
    response = sign_in("admin").get(f"/admin/log/{visitor}.json")
    assert response.status_code == 200 and "attachment" in response.headers["Content-Disposition"]
    body = response.get_json()
    assert body["consent_id"] == visitor and body["controller"] == CONTROLLER
    assert [r["action"] for r in body["records"]] == ["refuse_all"]
    assert body["records"][0]["verified"] is True
    (shown,) = body["texts_shown"].values()
    assert shown["language"] == "de"
    assert ("log.export", visitor) in audit_actions(app)
    nothing = sign_in("legal").get("/admin/log/99999999-9999-4999-8999-999999999999.json")
    assert nothing.status_code == 200 and nothing.get_json()["records"] == []


def test_erasure_from_the_admin_needs_confirmation_and_keeps_the_chain(app, sign_in):
    api = app.test_client()
    visitor = _record(api, page_url="https://www.mixvoip.com/contact")
    _record(
        api,
        consent_id=visitor,
        action="accept_all",
        categories={"technical": True, "advertising": True},
    )
    _record(api)
    client = sign_in("legal")
    url = f"/admin/log/{visitor}"
    token = csrf_token(client, url)

    unconfirmed = client.post(f"{url}/erase", data={"csrf_token": token}, follow_redirects=True)
    assert "Nothing was erased" in unconfirmed.get_data(as_text=True)
    forged = client.post(f"{url}/erase", data={"confirm": "y"})
    assert forged.status_code == 400 and "CSRF" in forged.get_data(as_text=True)
    assert audit_actions(app) == []

    done = client.post(
        f"{url}/erase", data={"csrf_token": token, "confirm": "y"}, follow_redirects=True
    )
    page = done.get_data(as_text=True)
    assert "Erased the user agent, IP prefix and page URL of 2 record(s)" in page
    assert page.count("redacted") >= 2 and "/contact" not in page
    assert page.count("verifies (own hash") == 2
    assert "Erase personal fields</button>" not in page
    assert verify(db_engine(app)).ok
    assert audit_actions(app) == [("log.erase", visitor)]


def test_the_chain_page_shows_heads_and_verifies_on_demand(app, sign_in):
    ledger = app.extensions["consent"].ledger
    ledger.append_many([entry(), entry(), entry("voxbi.com")])
    client = sign_in("legal")
    page = client.get("/admin/chain").get_data(as_text=True)
    assert "#2" in page and "#1" in page and "mixvoip.com" in page and "voxbi.com" in page
    anchor = client.get("/admin/chain/anchor.json").get_json()
    assert anchor["heads"]["mixvoip.com"]["seq"] == 2

    token = csrf_token(client, "/admin/chain")
    checked = client.post("/admin/chain/verify", data={"csrf_token": token}).get_data(as_text=True)
    assert "Verified: 3 record(s)" in checked
    sql(db_engine(app), "DELETE FROM consent_log WHERE site_id = 'mixvoip.com' AND seq = 1")
    checked = client.post("/admin/chain/verify", data={"csrf_token": token}).get_data(as_text=True)
    assert "Does not verify" in checked and "mixvoip.com record #2" in checked
