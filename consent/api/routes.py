"""The /v1 routes: parse and check the request, call the domain, shape the response."""

from __future__ import annotations

import re
from typing import Any

import orjson
from flask import Blueprint, Flask, Response, current_app, request
from pydantic import ValidationError
from sqlalchemy.exc import SQLAlchemyError

from consent.api import cors
from consent.api.errors import ApiError, invalid, unavailable
from consent.api.openapi import document
from consent.api.schemas import UUID4_PATTERN, ConsentRequest
from consent.decisions import DecisionError
from consent.extensions import db, limiter
from consent.ledger import LedgerUnavailable
from consent.receipts import ReceiptError
from consent.recording import UnknownSite, record
from consent.records import history
from consent.services import services
from consent.sites import LANGUAGES
from consent.widget_serving import widget_headers

bp = Blueprint("api", __name__, url_prefix="/v1")

MAX_BODY = 16 * 1024
CONFIG_MAX_AGE = 60


def register(app: Flask, *, rate_limited: bool) -> None:
    """Register the /v1 routes; with rate limits off, the consent route skips the limiter.

    Flask-Limiter's wrapper, even switched off, identifies the request and filters its limits
    on every call; the view it wraps answers exactly the same without it.
    """
    app.register_blueprint(bp)
    if not rate_limited:
        app.view_functions["api.create_consent"] = create_consent.__wrapped__  # type: ignore[attr-defined]


def _readable(response: Response) -> Response:
    """Let a site's own origin read an error (its banner can then retry or report it)."""
    if cors.allowed_for_site(services().config, request, None):
        cors.allow(response, request)
    return response


@bp.errorhandler(ApiError)
def _api_error(error: ApiError) -> Response:
    return _readable(error.response())


@bp.errorhandler(LedgerUnavailable)
def _ledger_unavailable(error: LedgerUnavailable) -> Response:
    return _readable(unavailable(str(error)).response())


@bp.errorhandler(SQLAlchemyError)
def _database_unavailable(error: SQLAlchemyError) -> Response:
    current_app.logger.warning("database error on %s: %s", request.path, error)
    return _readable(unavailable("the database is unavailable").response())


def _json(body: Any, status: int = 200) -> Response:
    return Response(orjson.dumps(body), status=status, mimetype="application/json")


def _site_or_404(site_id: str) -> Any:
    view = services().catalogue.site(site_id)
    if view is None:
        raise ApiError(404, "unknown_site", f"there is no site {site_id!r}")
    return view


@bp.get("/sites/<site_id>/config")
def site_config(site_id: str) -> Response:
    view = _site_or_404(site_id)
    response = _json(services().widgets.site_config(view))
    response.headers["Access-Control-Allow-Origin"] = "*"
    response.cache_control.public = True
    response.cache_control.max_age = CONFIG_MAX_AGE
    return response


@bp.get("/sites/<site_id>/widget.js")
@limiter.exempt
def widget_script(site_id: str) -> Response:
    language = request.args.get("lang")
    if language is not None and language not in LANGUAGES:
        raise ApiError(422, "invalid_field", f"lang: must be one of {', '.join(LANGUAGES)}", "lang")
    bundle = services().widgets.bundle(
        site_id, language, request.headers.get("Accept-Language", "")
    )
    if bundle is None:
        raise ApiError(404, "unknown_site", f"there is no site {site_id!r}")
    body, encoding, etag = bundle.encoded(request.headers.get("Accept-Encoding", ""))
    headers = dict(widget_headers(etag, encoding, bundle.language, language is None))
    if etag in request.headers.get("If-None-Match", ""):
        return Response(status=304, headers=headers)
    return Response(body, headers=headers, content_type="application/javascript; charset=utf-8")


@bp.route("/consents", methods=["OPTIONS"])
@bp.route("/consents/<consent_id>", methods=["OPTIONS"])
@limiter.exempt
def consents_preflight(consent_id: str | None = None) -> Response:
    if not cors.allowed_for_site(services().config, request, None):
        raise ApiError(403, "forbidden_origin", "this origin may not use the consent API")
    return cors.preflight(request, "GET, POST" if consent_id is None else "GET")


def _consent_rate_limit() -> str:
    return services().settings.consent_rate_limit


@bp.post("/consents")
@limiter.limit(_consent_rate_limit)
def create_consent() -> Response:
    svc = services()
    body = _read_json_body()
    site_id = body.get("site") if isinstance(body, dict) else None
    if not cors.allowed_for_site(svc.config, request, None):
        raise ApiError(403, "forbidden_origin", "this origin may not record consents")
    if isinstance(site_id, str) and svc.config.site(site_id) is None:
        raise ApiError(404, "unknown_site", f"there is no site {site_id!r}", "site")
    try:
        payload = ConsentRequest.model_validate(body)
    except ValidationError as error:
        raise invalid(error) from None
    if not cors.allowed_for_site(svc.config, request, payload.site):
        raise ApiError(
            403, "forbidden_origin", f"this origin may not record consents for {payload.site}"
        )
    try:
        result = record(
            svc,
            payload.to_request(
                request.headers.get("Sec-GPC"),
                request.headers.get("User-Agent"),
                request.remote_addr,
            ),
        )
    except DecisionError as error:
        raise ApiError(422, "invalid_field", str(error), error.field) from None
    except UnknownSite:
        raise ApiError(404, "unknown_site", f"there is no site {payload.site!r}", "site") from None
    response = _json(result, 201)
    response.headers["Cache-Control"] = "no-store"
    return cors.allow(response, request)


@bp.get("/consents/<consent_id>")
def consent_history(consent_id: str) -> Response:
    svc = services()
    if not cors.allowed_for_site(svc.config, request, None):
        raise ApiError(403, "forbidden_origin", "this origin may not read consents")
    if not re.match(UUID4_PATTERN, consent_id):
        raise ApiError(422, "invalid_field", "consent_id: has an invalid format", "consent_id")
    token = request.args.get("receipt")
    authorization = request.headers.get("Authorization", "")
    if not token and authorization.lower().startswith("bearer "):
        token = authorization[7:].strip()
    if not token:
        raise ApiError(401, "receipt_required", "send the receipt as ?receipt= or a Bearer token")
    try:
        receipt = svc.receipts.read(token)
    except ReceiptError as error:
        raise ApiError(403, "invalid_receipt", str(error)) from None
    if receipt.get("cid") != consent_id:
        raise ApiError(403, "invalid_receipt", "the receipt is for another consent id")
    records = history(db.engine, consent_id, receipt["site"])
    if not records:
        raise ApiError(404, "unknown_consent", "no record of this consent id is kept any more")
    for entry in records:
        del entry["site"]
    response = _json(
        {
            "consent_id": consent_id,
            "site": receipt["site"],
            "controller": svc.config.controller.label,
            "records": records,
        }
    )
    response.headers["Cache-Control"] = "no-store"
    return cors.allow(response, request)


@bp.get("/openapi.json")
@limiter.exempt
def openapi() -> Response:
    response = _json(document())
    response.headers["Access-Control-Allow-Origin"] = "*"
    return response


def _read_json_body() -> Any:
    """The request body as JSON: 413 beyond 16 KB, 400 when it is not JSON."""
    length = request.content_length
    if length is not None and length > MAX_BODY:
        raise ApiError(413, "body_too_large", f"the body is over {MAX_BODY // 1024} KB")
    raw = request.stream.read(MAX_BODY + 1)  # also bounds a chunked body without a length
    if len(raw) > MAX_BODY:
        raise ApiError(413, "body_too_large", f"the body is over {MAX_BODY // 1024} KB")
    if not raw.strip():
        raise ApiError(400, "malformed_json", "the body is empty: send a JSON object")
    try:
        body = orjson.loads(raw)
    except orjson.JSONDecodeError as error:
        raise ApiError(400, "malformed_json", f"the body is not valid JSON: {error}") from None
    if not isinstance(body, dict):
        raise ApiError(400, "malformed_json", "the body must be a JSON object")
    return body
