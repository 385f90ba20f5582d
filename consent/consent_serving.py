"""``POST /v1/consents`` answered before Flask when rate limits are off: the service's hot write.

Every decision a visitor makes is posted here, and each post waits for its group commit, so
the little CPU left per request is what bounds the service on a small machine. This WSGI
layer does what the Flask route does (``api/routes.py``) without a request context, URL
matching, the extensions' hooks or a response object: it reads the body, checks it with the
same schema, ``recording.prepare`` checks and minimises the decision, ``recording.write``
appends it and signs its receipt, and the answer carries the route's headers.

It answers only the ordinary case. Anything else goes on to Flask, with the body it read put
back, before a single record is written: a body without a length, too large or not JSON, an
Origin outside the configured ones (the same-origin rule is Flask's), an unknown site, a
validation or decision error, oversized headers. Flask answers those as it always does.
Failures are answered here as the route's error handlers answer them, byte for byte, and not
handed on (the route would wait for a locked or unreachable database a second time): a consent
log that cannot write or a database error, the route's 503; anything unexpected, the
application's JSON 500 (logged).

With rate limits on (``RATELIMIT_ENABLED``, the default), Flask-Limiter must count every post,
so this layer is not installed and every post goes through Flask.
"""

from __future__ import annotations

import io
import logging
from collections.abc import Callable, Iterable
from typing import Any

import orjson
from flask import Response
from pydantic import ValidationError
from sqlalchemy.exc import SQLAlchemyError

from consent.api.errors import json_error, unavailable
from consent.api.routes import MAX_BODY
from consent.api.schemas import ConsentRequest
from consent.decisions import DecisionError
from consent.ledger import LedgerUnavailable
from consent.recording import Prepared, UnknownSite, prepare, write
from consent.request_limits import MAX_HEADER_BYTES, headers_size
from consent.security import EVERY_RESPONSE
from consent.services import Services

PATH = "/v1/consents"
UNEXPECTED = "an unexpected error occurred; it was logged"
log = logging.getLogger("consent")  # the application's logger (Flask's app.logger)

WsgiApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]


class ConsentFastPath:
    """WSGI middleware answering ordinary consent posts; everything else goes to ``app``."""

    def __init__(self, app: WsgiApp, services: Services) -> None:
        self.app = app
        self.services = services

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        if environ.get("PATH_INFO") != PATH or environ.get("REQUEST_METHOD") != "POST":
            return self.app(environ, start_response)
        raw = _read_body(environ)
        if raw is None:
            return self.app(environ, start_response)
        environ["wsgi.input"] = io.BytesIO(raw)  # Flask reads the same body if it answers
        origin = environ.get("HTTP_ORIGIN")
        # A failure of the database (or anything unexpected) is answered here, as the route's
        # error handlers answer it, and not handed on: the route would wait for it once more.
        try:
            prepared = self._prepare(environ, raw)
        except Exception as error:  # noqa: BLE001
            return _failure(error, origin)(environ, start_response)
        if prepared is None:
            return self.app(environ, start_response)
        try:
            result = write(self.services, prepared)
        except Exception as error:  # noqa: BLE001
            return _failure(error, origin)(environ, start_response)
        body = orjson.dumps(result)
        headers = [
            ("Content-Type", "application/json"),
            ("Content-Length", str(len(body))),
            ("Cache-Control", "no-store"),
        ]
        if origin:
            headers += [("Access-Control-Allow-Origin", origin), ("Vary", "Origin")]
        headers += EVERY_RESPONSE
        start_response("201 CREATED", headers)
        return [body]

    def _prepare(self, environ: dict[str, Any], raw: bytes) -> Prepared | None:
        """The decision, prepared as the route prepares it; ``None`` when Flask should answer."""
        config = self.services.config
        origin = environ.get("HTTP_ORIGIN")
        try:
            body = orjson.loads(raw)
        except orjson.JSONDecodeError:
            return None
        if not isinstance(body, dict):
            return None
        site_id = body.get("site")
        if origin is not None and origin not in config.origins:
            return None
        if not isinstance(site_id, str) or config.site(site_id) is None:
            return None
        try:
            payload = ConsentRequest.model_validate(body)
        except ValidationError:
            return None
        site = config.site(payload.site)
        if site is None or (origin is not None and origin not in site.origins):
            return None
        request = payload.to_request(
            environ.get("HTTP_SEC_GPC"), environ.get("HTTP_USER_AGENT"), environ.get("REMOTE_ADDR")
        )
        try:
            return prepare(self.services, request)
        except (DecisionError, UnknownSite):
            return None  # nothing was written: the route answers it with its message


def _failure(error: Exception, origin: str | None) -> Response:
    """What the route's error handlers answer for ``error`` (api/routes.py, errors.py)."""
    if isinstance(error, LedgerUnavailable | SQLAlchemyError):
        if isinstance(error, SQLAlchemyError):
            log.warning("database error on %s: %s", PATH, error)
            error = LedgerUnavailable("the database is unavailable")
        response = unavailable(str(error)).response()
        if origin:  # checked against the configured origins: the route makes it readable
            response.headers["Access-Control-Allow-Origin"] = origin
            response.headers["Vary"] = "Origin"
    else:
        log.error("unexpected error on %s", PATH, exc_info=error)
        response = json_error(500, "internal_error", UNEXPECTED)
    for name, value in EVERY_RESPONSE:
        response.headers.setdefault(name, value)
    return response


def _read_body(environ: dict[str, Any]) -> bytes | None:
    """The body of an ordinary post (a length up to 16 KB, headers within their limit)."""
    length = environ.get("CONTENT_LENGTH", "")
    if not length.isdigit() or "HTTP_TRANSFER_ENCODING" in environ:
        return None
    size = int(length)
    if not 0 < size <= MAX_BODY or headers_size(environ) > MAX_HEADER_BYTES:
        return None
    return environ["wsgi.input"].read(size)
