"""Limits on what a request may carry before any route sees it: the size of its headers.

All headers together may take 16 KB. gunicorn refuses a header line over its own limit
(``limit_request_field_size`` in ``gunicorn_config.py``) with a bare 400 before the application
is called; that limit is set above this one, so that in practice the service answers an
oversized request itself: a JSON 431 under /v1, a readable page elsewhere. The body limit is
Flask's ``MAX_CONTENT_LENGTH`` (413) and, for the consent API, the 16 KB check in
``api/routes.py``.
"""

from __future__ import annotations

from flask import Flask, request
from werkzeug.exceptions import RequestHeaderFieldsTooLarge

MAX_HEADER_BYTES = 16 * 1024


def headers_size() -> int:
    return sum(len(name) + len(value) + 4 for name, value in request.headers.items())


def register(app: Flask) -> None:
    @app.before_request
    def _refuse_oversized_headers() -> None:
        if headers_size() > MAX_HEADER_BYTES:
            raise RequestHeaderFieldsTooLarge(
                f"the request headers are over {MAX_HEADER_BYTES // 1024} KB"
            )
