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


_BODY_HEADERS = frozenset({"CONTENT_TYPE", "CONTENT_LENGTH"})
_HTTP_BODY_HEADERS = frozenset({"HTTP_CONTENT_TYPE", "HTTP_CONTENT_LENGTH"})


def headers_size(environ: dict[str, object]) -> int:
    """``len(name) + len(value) + 4`` summed over ``request.headers``, read from the environ.

    The headers werkzeug lists (``EnvironHeaders``) are the ``HTTP_*`` keys, less two, and a
    non-empty ``CONTENT_TYPE``/``CONTENT_LENGTH``; a name's length is its key's without
    ``HTTP_``. Counting them here spares building a title-cased name for each, every request.
    """
    total = 0
    for key, value in environ.items():
        if key.startswith("HTTP_"):
            if key not in _HTTP_BODY_HEADERS:
                total += len(key) - 1 + len(value)  # type: ignore[arg-type]
        elif key in _BODY_HEADERS and value:
            total += len(key) + len(value) + 4  # type: ignore[arg-type]
    return total


def register(app: Flask) -> None:
    @app.before_request
    def _refuse_oversized_headers() -> None:
        if headers_size(request.environ) > MAX_HEADER_BYTES:
            raise RequestHeaderFieldsTooLarge(
                f"the request headers are over {MAX_HEADER_BYTES // 1024} KB"
            )
