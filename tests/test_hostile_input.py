"""Hostile input is refused cleanly or shown harmlessly, never a traceback or a 500.

Generated sites files and receipts reach only their documented errors; forged, expired and
truncated receipts are refused; consent ids are checked; oversized bodies and headers are
refused in JSON; markup and formulas planted in the configuration and in a consent come out
escaped in the pages and neutralised in the exports.
"""

from __future__ import annotations

import base64
import csv
import datetime as dt
import io
import re
import tempfile
import urllib.parse
from pathlib import Path
from typing import Any

import orjson
import pytest
import yaml
from harness import REFUSAL
from hostile import FORMULA, MARKUP, SCRIPT, hostile_sites_file
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from consent.api.schemas import UUID4_PATTERN
from consent.exports import LogFilter, lines
from consent.ledger import Appended
from consent.receipts import ReceiptError, Receipts
from consent.settings import PROJECT_ROOT
from consent.sites import SitesFileError, load_sites

FAST = settings(max_examples=300, deadline=None, suppress_health_check=list(HealthCheck))

# --- the sites.yaml validator ------------------------------------------------------------

SHIPPED = yaml.safe_load((PROJECT_ROOT / "sites.yaml").read_text(encoding="utf-8"))


def paths(node: Any, prefix: tuple = ()) -> list[tuple]:
    found = [prefix] if prefix else []
    if isinstance(node, dict):
        for key, value in node.items():
            found += paths(value, (*prefix, key))
    elif isinstance(node, list):
        for index, value in enumerate(node):
            found += paths(value, (*prefix, index))
    return found


SHIPPED_PATHS = paths(SHIPPED)
ANY_VALUE = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=True)
    | st.text()
    | st.sampled_from(["<script>", "../../etc/passwd", "🍪" * 400, "", "en", "mixvoip.com"]),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4),
    max_leaves=8,
)


def replaced(config: Any, path: tuple, value: Any) -> Any:
    copy = orjson.loads(orjson.dumps(config, default=str))
    node = copy
    for key in path[:-1]:
        node = node[key]
    node[path[-1]] = value
    return copy


def load_text(text: str) -> None:
    with tempfile.TemporaryDirectory() as directory:
        path = Path(directory) / "sites.yaml"
        path.write_text(text, encoding="utf-8", errors="surrogatepass")
        try:
            load_sites(path)
        except SitesFileError as error:
            assert str(path) in str(error)


@FAST
@given(path=st.sampled_from(SHIPPED_PATHS), value=ANY_VALUE)
def test_a_sites_file_with_any_value_anywhere_loads_or_names_the_problem(path, value):
    load_text(yaml.safe_dump(replaced(SHIPPED, path, value), allow_unicode=True))


@FAST
@given(text=st.text())
def test_any_text_as_a_sites_file_loads_or_names_the_problem(text):
    load_text(text)


# --- receipts -----------------------------------------------------------------------------

KEY = "the-service-key"
NOW = dt.datetime.now(dt.UTC)


def genuine(expires_at: dt.datetime | None = None, key: str = KEY) -> str:
    appended = Appended(
        "mixvoip.com",
        7,
        "3f1c9f0e-8a7b-4c1d-9e2f-0a1b2c3d4e5f",
        NOW,
        expires_at or NOW + dt.timedelta(days=180),
        "a" * 64,
    )
    return Receipts(key).issue(
        appended,
        action="refuse_all",
        categories={"technical": True, "advertising": False},
        partners={},
        revision=1,
    )


def test_a_genuine_receipt_is_read():
    assert Receipts(KEY).read(genuine())["cid"] == "3f1c9f0e-8a7b-4c1d-9e2f-0a1b2c3d4e5f"


@FAST
@given(token=st.text() | st.binary().map(lambda b: b.decode("latin-1")))
def test_any_string_is_refused_as_a_receipt_with_one_error(token):
    with pytest.raises(ReceiptError):
        Receipts(KEY).read(token)


def test_every_truncation_of_a_receipt_is_refused():
    token = genuine()
    for length in range(len(token)):
        with pytest.raises(ReceiptError):
            Receipts(KEY).read(token[:length])


@FAST
@given(data=st.data())
def test_a_receipt_with_any_character_changed_is_refused(data):
    token = genuine()
    index = data.draw(st.integers(0, len(token) - 1))
    character = data.draw(st.characters())
    assume(character != token[index])
    with pytest.raises(ReceiptError):
        Receipts(KEY).read(token[:index] + character + token[index + 1 :])


def test_a_receipt_signed_with_another_key_is_refused():
    with pytest.raises(ReceiptError, match="not genuine"):
        Receipts(KEY).read(genuine(key="someone-elses-key"))


def test_a_receipt_whose_payload_was_edited_is_refused():
    body, stamp, signature = genuine().split(".")
    payload = orjson.loads(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))
    payload["cid"] = "00000000-0000-4000-8000-000000000000"
    forged = base64.urlsafe_b64encode(orjson.dumps(payload)).rstrip(b"=").decode()
    with pytest.raises(ReceiptError, match="not genuine"):
        Receipts(KEY).read(f"{forged}.{stamp}.{signature}")


def test_an_expired_receipt_is_refused():
    with pytest.raises(ReceiptError, match="expired"):
        Receipts(KEY).read(genuine(expires_at=NOW - dt.timedelta(seconds=1)))


# --- receipts and consent ids through the API ----------------------------------------------


def recorded(client) -> dict:
    response = client.post("/v1/consents", json=REFUSAL)
    assert response.status_code == 201, response.json
    return response.json


def test_forged_truncated_and_expired_receipts_get_403_from_the_api(client, app):
    consent = recorded(client)
    # Signed with the service's own key, for a decision that lapsed a month ago.
    expired = Receipts(app.config["SECRET_KEY"]).issue(
        Appended(
            "mixvoip.com",
            1,
            consent["consent_id"],
            NOW - dt.timedelta(days=400),
            NOW - dt.timedelta(days=35),
            "b" * 64,
        ),
        action="refuse_all",
        categories={},
        partners={},
        revision=1,
    )
    bad = {
        "forged": genuine(key="not-the-service-key"),
        "truncated": consent["receipt"][:-3],
        "expired": expired,
        "junk": "%00<script>",
    }
    for name, token in bad.items():
        response = client.get(
            f"/v1/consents/{consent['consent_id']}", query_string={"receipt": token}
        )
        assert response.status_code == 403, (name, response.json)
        assert response.json["error"] == "invalid_receipt", name


@FAST
@given(
    consent_id=st.text(
        st.characters(exclude_characters="/", exclude_categories=["Cs"]), min_size=1, max_size=80
    )
)
def test_any_consent_id_in_the_path_is_checked(client, consent_id):
    path = "/v1/consents/" + urllib.parse.quote(consent_id, safe="")
    response = client.get(path, query_string={"receipt": genuine()})
    assert response.status_code in (403, 404, 422), response.data
    assert response.is_json
    if response.status_code == 422:
        assert response.json["field"] == "consent_id"


@FAST
@given(consent_id=st.text(max_size=80))
def test_any_consent_id_in_a_decision_is_checked(client, consent_id):
    response = client.post("/v1/consents", json={**REFUSAL, "consent_id": consent_id})
    if re.match(UUID4_PATTERN, consent_id):
        assert response.status_code == 201, response.json
    else:
        assert response.status_code == 422, response.json
        assert response.json["field"] == "consent_id"


# --- oversized requests ------------------------------------------------------------------


def test_a_body_over_the_content_limit_is_a_json_413(client):
    body = orjson.dumps({**REFUSAL, "page_url": "https://www.mixvoip.com/" + "a" * 2_000_000})
    response = client.post("/v1/consents", data=body, content_type="application/json")
    assert response.status_code == 413
    assert response.json["error"] == "body_too_large"


def test_oversized_headers_are_a_json_431(client):
    response = client.get("/v1/sites/mixvoip.com/config", headers={"X-Padding": "a" * 20_000})
    assert response.status_code == 431
    assert response.json["error"] == "headers_too_large"
    assert "KB" in response.json["message"]


def test_oversized_headers_on_a_page_are_a_readable_431(client):
    response = client.get("/demo/mixvoip.com", headers={"X-Padding": "b" * 20_000})
    assert response.status_code == 431
    assert b"<html" in response.data.lower()


# --- markup and formulas come out escaped --------------------------------------------------


@pytest.fixture
def settings_overrides(tmp_path: Path) -> dict[str, Any]:
    return {"CONSENT_SITES_FILE": str(hostile_sites_file(tmp_path / "sites.yaml"))}


@pytest.mark.parametrize("path", ["/", "/demo/mixvoip.com", "/demo/mixvoip.com?lang=en"])
def test_markup_in_the_configuration_is_escaped_in_the_pages(client, path):
    page = client.get(path).get_data(as_text=True)
    assert MARKUP not in page and SCRIPT not in page
    assert "&lt;img src=x onerror=" in page


def test_markup_in_the_language_asked_for_never_reaches_the_page(client):
    response = client.get("/demo/mixvoip.com", query_string={"lang": f'"><script>{MARKUP}'})
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert "<script>" + MARKUP not in page and MARKUP not in page


def test_markup_in_the_configuration_stays_inside_strings_in_the_widget(client):
    script = client.get("/v1/sites/mixvoip.com/widget.js").get_data(as_text=True)
    config = client.get("/v1/sites/mixvoip.com/config").json
    # Carried as escaped string data: it cannot end a script even when pasted inline.
    assert "</script>" not in script and MARKUP not in script
    assert "\\u003cimg src=x onerror=" in script
    assert any(MARKUP in partner["name"] for partner in config["partners"])


def test_markup_and_formulas_are_neutralised_in_the_exports(client, app):
    url = "https://www.mixvoip.com/" + urllib.parse.quote(SCRIPT, safe="/<>=\"'")
    response = client.post("/v1/consents", json={**REFUSAL, "page_url": url})
    assert response.status_code == 201, response.json
    engine = app.extensions["consent"].ledger.engine

    exported = "".join(lines(engine, LogFilter(), "csv"))
    rows = list(csv.DictReader(io.StringIO(exported)))
    assert rows[0]["controller"].startswith("'" + FORMULA)
    assert not any(cell.startswith(("=", "+", "-", "@")) for row in rows for cell in row.values())

    for line in lines(engine, LogFilter(), "jsonl"):
        row = orjson.loads(line)
        assert row["controller"].startswith(FORMULA)
        assert "\n" not in line.rstrip("\n")


@pytest.mark.parametrize(
    "path", ["/admin", "/admin/sites", "/admin/sites/mixvoip.com", "/admin/stats", "/admin/audit"]
)
def test_markup_in_the_configuration_is_escaped_in_the_admin(sign_in, path):
    admin = sign_in("admin")
    response = admin.get(path)
    assert response.status_code == 200, path
    page = response.get_data(as_text=True)
    assert MARKUP not in page and SCRIPT not in page
    if path == "/admin/sites/mixvoip.com":
        assert "Ads &lt;img src=x onerror=" in page
