"""POST /v1/consents answered before Flask (rate limits off): the Flask route's answers, exactly."""

from __future__ import annotations

import uuid

import pytest
from harness import REFUSAL, log_rows
from sqlalchemy.exc import OperationalError
from werkzeug.test import Client

from consent.consent_serving import ConsentFastPath
from consent.ledger import LedgerUnavailable

ORIGIN = "https://www.mixvoip.com"
CUSTOM = {
    "site": "mixvoip.com",
    "action": "custom",
    "categories": {"technical": True, "advertising": True},
    "partners": {"google-ads": True, "meta-pixel": False},
    "language": "fr",
    "page_url": "https://www.mixvoip.com/fr/tarifs?utm_source=x#top",
    "gpc": False,
}


def both(app):
    consent_path = app.wsgi_app.app  # behind the widget's fast path
    assert isinstance(consent_path, ConsentFastPath)
    return Client(app.wsgi_app), Client(consent_path.app)  # the fast path, and Flask alone


def answer(client, body=None, data=None, **headers):
    response = client.post(
        "/v1/consents",
        json=body,
        data=data,
        headers={k.replace("_", "-"): v for k, v in headers.items()},
    )
    return response.status_code, sorted(response.headers.items()), response.get_data()


def without_length(headers):
    return [(name, value) for name, value in headers if name != "Content-Length"]


@pytest.mark.parametrize("origin", [ORIGIN, None])
@pytest.mark.parametrize("decision", [REFUSAL, CUSTOM])
def test_a_recorded_decision_is_answered_as_the_flask_route_answers_it(app, origin, decision):
    fast, flask = both(app)
    headers = {"Origin": origin} if origin else {}
    headers["User_Agent"] = "Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0"
    ours = fast.post("/v1/consents", json=decision, headers=headers)
    theirs = flask.post("/v1/consents", json=decision, headers=headers)
    assert (ours.status_code, theirs.status_code) == (201, 201)
    assert without_length(sorted(ours.headers.items())) == without_length(
        sorted(theirs.headers.items())
    )
    mine, route = ours.get_json(), theirs.get_json()
    assert mine.keys() == route.keys()
    for name in ("site", "action", "categories", "partners", "revision"):
        assert mine[name] == route[name]
    rows = {row["consent_id"]: row for row in log_rows(app)}
    kept = [rows[mine["consent_id"]], rows[route["consent_id"]]]
    for name in ("categories", "partners", "language", "page_url", "user_agent", "ip_prefix"):
        assert kept[0][name] == kept[1][name]


@pytest.mark.parametrize(
    ("body", "data", "headers"),
    [
        (REFUSAL, None, {"Origin": "https://evil.example"}),
        (REFUSAL, None, {"Origin": "http://localhost"}),  # the service's own pages: same origin
        ({**REFUSAL, "site": "voxbi.com"}, None, {"Origin": ORIGIN}),
        ({**REFUSAL, "site": "unknown.example"}, None, {}),
        ({**REFUSAL, "action": "accept_all"}, None, {}),
        ({**REFUSAL, "revision": 99}, None, {}),
        ({**REFUSAL, "language": "nl", "site": "voxbi.team"}, None, {}),
        ({**REFUSAL, "page_url": "javascript:alert(1)"}, None, {}),
        ({**REFUSAL, "extra": 1}, None, {"Origin": ORIGIN}),
        ({**REFUSAL, "consent_id": "not-a-uuid"}, None, {}),
        (None, b"{not json", {"Content_Type": "application/json"}),
        (None, b"[1, 2]", {"Content_Type": "application/json"}),
        (None, b"   ", {"Content_Type": "application/json"}),
        (None, b"x" * (16 * 1024 + 1), {"Content_Type": "application/json"}),
        (REFUSAL, None, {"X_Padding": "p" * (17 * 1024)}),
    ],
)
def test_everything_but_an_ordinary_decision_is_answered_by_the_flask_route(
    app, body, data, headers
):
    fast, flask = both(app)
    ours = answer(fast, body, data, **headers)
    theirs = answer(flask, body, data, **headers)
    if ours[0] == 201:  # the same-origin post: recorded once by each path
        assert without_length(ours[1]) == without_length(theirs[1])
    else:
        assert ours == theirs


def test_a_log_that_cannot_write_is_the_flask_route_503(app, monkeypatch):
    fast, flask = both(app)
    ledger = app.extensions["consent"].ledger

    def refuse(entry):
        raise LedgerUnavailable("the consent log is unavailable")

    monkeypatch.setattr(ledger, "append", refuse)
    decision = {**REFUSAL, "consent_id": str(uuid.uuid4())}
    ours = answer(fast, decision, Origin=ORIGIN)
    assert ours == answer(flask, decision, Origin=ORIGIN)
    assert ours[0] == 503 and ("Retry-After", "5") in ours[1]
    assert answer(fast, decision) == answer(flask, decision)


def test_an_unexpected_error_is_the_flask_route_500(app, monkeypatch):
    fast, flask = both(app)

    def fail(entry):
        raise RuntimeError("unexpected")

    monkeypatch.setattr(app.extensions["consent"].ledger, "append", fail)
    ours = answer(fast, REFUSAL, Origin=ORIGIN)
    assert ours == answer(flask, REFUSAL, Origin=ORIGIN)
    assert ours[0] == 500 and b"internal_error" in ours[2]


def test_a_database_error_before_the_append_is_the_flask_route_503(app, monkeypatch):
    fast, flask = both(app)

    def unreadable(site_id):
        raise OperationalError("SELECT", {}, Exception("database is locked"))

    monkeypatch.setattr(app.extensions["consent"].catalogue, "site", unreadable)
    ours = answer(fast, REFUSAL, Origin=ORIGIN)
    assert ours == answer(flask, REFUSAL, Origin=ORIGIN)
    assert ours[0] == 503 and b"the database is unavailable" in ours[2]
    assert log_rows(app) == []


def test_a_post_that_flask_answers_is_written_once(app):
    fast, _ = both(app)
    decision = {**REFUSAL, "consent_id": str(uuid.uuid4())}
    response = fast.post("/v1/consents", json=decision, headers={"Origin": "http://localhost"})
    assert response.status_code == 201
    assert [row["consent_id"] for row in log_rows(app)] == [decision["consent_id"]]


@pytest.mark.parametrize("settings_overrides", [{"RATELIMIT_ENABLED": "true"}])
def test_with_rate_limits_on_every_post_goes_through_flask(app):
    layers, wsgi = [], app.wsgi_app
    while hasattr(wsgi, "app"):
        layers.append(type(wsgi).__name__)
        wsgi = wsgi.app
    assert "ConsentFastPath" not in layers
    response = app.test_client().post("/v1/consents", json=REFUSAL)
    assert response.status_code == 201 and "X-RateLimit-Limit" in response.headers


@pytest.mark.parametrize("settings_overrides", [{"TRUSTED_PROXIES": "1"}])
def test_behind_a_trusted_proxy_the_fast_path_keeps_the_visitors_address(app):
    # The production shape of docs/scaling.md: limits at the proxy, the fast path behind it.
    assert isinstance(app.wsgi_app.app.app, ConsentFastPath)  # widget path → ProxyFix → ours
    response = Client(app.wsgi_app).post(
        "/v1/consents",
        json=REFUSAL,
        headers={"X-Forwarded-For": "203.0.113.57"},
        environ_base={"REMOTE_ADDR": "10.0.0.2"},  # the proxy
    )
    assert response.status_code == 201
    [row] = [r for r in log_rows(app) if r["consent_id"] == response.get_json()["consent_id"]]
    assert row["ip_prefix"] == "203.0.113.0/24"
