"""Response headers every page carries, and the stricter ones of the admin."""

from __future__ import annotations

from flask import Flask, Response, request

# Every answer's, unless it sets its own (in this order, after the answer's own headers).
EVERY_RESPONSE = (
    ("X-Content-Type-Options", "nosniff"),
    ("Referrer-Policy", "strict-origin-when-cross-origin"),
)


def register(app: Flask) -> None:
    @app.after_request
    def _headers(response: Response) -> Response:
        headers = response.headers
        for name, value in EVERY_RESPONSE:
            headers.setdefault(name, value)
        if request.path.startswith("/admin"):
            headers["Content-Security-Policy"] = (
                "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
                "frame-ancestors 'none'; form-action 'self'; base-uri 'none'"
            )
            headers["X-Frame-Options"] = "DENY"
            headers["Cache-Control"] = "no-store"
        return response
