"""One place that turns errors into responses: JSON under /v1, a readable page elsewhere."""

from __future__ import annotations

import re

from flask import Flask, Response, render_template, request
from sqlalchemy.exc import SQLAlchemyError
from werkzeug.exceptions import HTTPException

from consent.api.errors import RETRY_AFTER_SECONDS, json_error


def _is_api() -> bool:
    return request.path.startswith("/v1/") or request.path == "/v1"


def _code(name: str) -> str:
    return re.sub(r"[^a-z0-9]+", "_", name.lower()).strip("_")


def register(app: Flask) -> None:
    @app.errorhandler(HTTPException)
    def http_error(error: HTTPException) -> Response | tuple[str, int]:
        status = error.code or 500
        if _is_api():
            headers = {
                k: v for k, v in error.get_headers() if k.lower() in {"allow", "retry-after"}
            }
            message = error.description or error.name
            if status == 413:
                return json_error(413, "body_too_large", "the body is over 16 KB")
            if status == 431:
                return json_error(431, "headers_too_large", message)
            if status == 429:
                message = f"too many requests: {error.description}; slow down and retry"
            return json_error(status, _code(error.name), message, headers=headers)
        return render_template(
            "error.html", status=status, title=error.name, message=error.description
        ), status

    @app.errorhandler(SQLAlchemyError)
    def database_error(error: SQLAlchemyError) -> Response | tuple[str, int, dict[str, str]]:
        app.logger.warning("database error on %s: %s", request.path, error)
        retry = {"Retry-After": str(RETRY_AFTER_SECONDS)}
        if _is_api():
            return json_error(
                503, "unavailable", "the database is unavailable; please retry", headers=retry
            )
        return (
            render_template(
                "error.html",
                status=503,
                title="Temporarily unavailable",
                message="The database cannot be reached. Please try again in a moment.",
            ),
            503,
            retry,
        )

    @app.errorhandler(Exception)
    def unexpected(error: Exception) -> Response | tuple[str, int]:
        app.logger.exception("unexpected error on %s", request.path)
        if _is_api():
            return json_error(500, "internal_error", "an unexpected error occurred; it was logged")
        return render_template(
            "error.html",
            status=500,
            title="Something went wrong",
            message="An unexpected error occurred; it was logged.",
        ), 500
