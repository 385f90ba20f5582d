"""widget.js answered before Flask: the same bytes and headers as the Flask route, 304 on ETag."""

from __future__ import annotations

import pytest
from werkzeug.test import Client

from consent.widget_serving import WidgetFastPath

ENCODINGS = ["", "gzip", "gzip, deflate, br"]


def both(app):
    fast = app.wsgi_app
    assert isinstance(fast, WidgetFastPath)
    return Client(fast), Client(fast.app)  # the fast path, and Flask alone


def answer(client, method="GET", query="", **headers):
    response = client.open(
        f"/v1/sites/mixvoip.com/widget.js{query}",
        method=method,
        headers={k.replace("_", "-"): v for k, v in headers.items()},
    )
    return response.status_code, sorted(response.headers.items()), response.get_data()


@pytest.mark.parametrize("encoding", ENCODINGS)
def test_the_fast_path_answers_exactly_as_the_flask_route(app, encoding):
    fast, flask = both(app)
    assert answer(fast, Accept_Encoding=encoding) == answer(flask, Accept_Encoding=encoding)
    assert answer(fast, "HEAD", Accept_Encoding=encoding) == answer(
        flask, "HEAD", Accept_Encoding=encoding
    )
    status, headers, body = answer(fast, Accept_Encoding=encoding)
    assert status == 200 and len(body) == int(dict(headers)["Content-Length"]) > 1000


@pytest.mark.parametrize(
    ("query", "accept_language"),
    [("?lang=fr", ""), ("", "de-DE,de;q=0.9"), ("?lang=de&lang=xx", "nl")],
)
def test_the_fast_path_chooses_the_language_as_the_flask_route(app, query, accept_language):
    fast, flask = both(app)
    headers = {"Accept_Encoding": "br", "Accept_Language": accept_language}
    ours = answer(fast, query=query, **headers)
    assert ours == answer(flask, query=query, **headers)
    etag = dict(ours[1])["ETag"]
    assert answer(fast, query=query, If_None_Match=etag, **headers) == answer(
        flask, query=query, If_None_Match=etag, **headers
    )


@pytest.mark.parametrize("query", ["?lang=", "?lang=xx&lang=fr", "?lang=%3Cscript%3E"])
def test_a_language_that_is_not_one_of_the_four_is_the_flask_route_422(app, query):
    fast, flask = both(app)
    ours = answer(fast, query=query, Accept_Encoding="br", Accept_Language="nl")
    assert ours == answer(flask, query=query, Accept_Encoding="br", Accept_Language="nl")
    assert ours[0] == 422 and b"lang" in ours[2]


@pytest.mark.parametrize("encoding", ENCODINGS)
def test_a_known_etag_is_answered_304_without_a_body(app, encoding):
    fast, flask = both(app)
    etag = dict(answer(fast, Accept_Encoding=encoding)[1])["ETag"]
    status, headers, body = answer(fast, Accept_Encoding=encoding, If_None_Match=etag)
    assert (status, body) == (304, b"")
    assert dict(headers)["ETag"] == etag
    flask_status, flask_headers, _ = answer(flask, Accept_Encoding=encoding, If_None_Match=etag)
    assert flask_status == 304
    assert headers == flask_headers
    stale = answer(fast, Accept_Encoding=encoding, If_None_Match='"0000"')
    assert stale[0] == 200


def test_what_the_fast_path_does_not_know_goes_to_flask(client):
    unknown = client.get("/v1/sites/example.com/widget.js")
    assert unknown.status_code == 404
    assert unknown.get_json()["error"] == "unknown_site"
    assert client.post("/v1/sites/mixvoip.com/widget.js").status_code == 405
    assert client.get("/v1/sites/a/b/widget.js").status_code == 404
    assert client.get("/v1/sites/mixvoip.com/config").status_code == 200
