"""Errors of the /v1 API as ``{"error", "message", "field"?}`` JSON, never a bare 500."""

from __future__ import annotations

from typing import Any

import orjson
from flask import Response
from pydantic import ValidationError

RETRY_AFTER_SECONDS = 5


class ApiError(Exception):
    def __init__(
        self,
        status: int,
        error: str,
        message: str,
        field: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.status, self.error, self.message = status, error, message
        self.field, self.headers = field, headers or {}

    def response(self) -> Response:
        return json_error(self.status, self.error, self.message, self.field, self.headers)


def json_error(
    status: int,
    error: str,
    message: str,
    field: str | None = None,
    headers: dict[str, str] | None = None,
) -> Response:
    body: dict[str, Any] = {"error": error, "message": message}
    if field is not None:
        body["field"] = field
    response = Response(orjson.dumps(body), status=status, mimetype="application/json")
    response.headers.update(headers or {})
    return response


def unavailable(message: str) -> ApiError:
    return ApiError(
        503,
        "unavailable",
        f"{message}; nothing was recorded, please retry",
        headers={"Retry-After": str(RETRY_AFTER_SECONDS)},
    )


def invalid(validation: ValidationError) -> ApiError:
    """The first problem of a pydantic validation, naming its field (``categories.advertising``)."""
    first = validation.errors()[0]
    field = ".".join(str(part) for part in first["loc"]) or None
    message = first["msg"]
    if first["type"] == "extra_forbidden":
        message = "is not a field of this request"
    elif first["type"] == "string_pattern_mismatch":
        message = "has an invalid format"
    elif first["type"] == "missing":
        message = "is required"
    return ApiError(422, "invalid_field", f"{field}: {message}" if field else message, field)
