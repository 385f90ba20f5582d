"""The reference of the server benchmark: Flask doing nothing but what every request needs.

``POST /v1/consents`` reads the body, parses it with the same JSON library as the service and
answers 201 with a small JSON object; ``GET /v1/sites/<site>/widget.js`` answers a fixed small
script. ``bench/server_bench.py`` serves it with the service's own gunicorn configuration
(``gunicorn -c python:consent.gunicorn_config noop_app:app``), so that the two differ only in
what the service does per request.
"""

from __future__ import annotations

import orjson
from flask import Flask, Response, request

app = Flask(__name__)

SCRIPT = b"(function(){window.__consentNoop=1;})();\n"


@app.post("/v1/consents")
def create_consent() -> Response:
    body = orjson.loads(request.get_data())
    answer = {"consent_id": body.get("consent_id"), "site": body.get("site")}
    return Response(orjson.dumps(answer), status=201, mimetype="application/json")


@app.get("/v1/sites/<site_id>/widget.js")
def widget_script(site_id: str) -> Response:  # noqa: ARG001 - same route shape as the service
    return Response(SCRIPT, content_type="application/javascript; charset=utf-8")
