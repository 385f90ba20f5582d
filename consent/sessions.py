"""The admin's cookie session, and none for the public API.

The banner's requests under ``/v1/`` never carry or need the admin's session cookie, so they
get Flask's null session (readable, empty) instead of a cookie to parse and verify on every
page view of the four sites.
"""

from __future__ import annotations

from flask import Flask, Request
from flask.sessions import SecureCookieSession, SecureCookieSessionInterface

API_PREFIX = "/v1/"


class AdminSessionInterface(SecureCookieSessionInterface):
    def open_session(self, app: Flask, request: Request) -> SecureCookieSession | None:
        if request.path.startswith(API_PREFIX):
            return self.make_null_session(app)
        return super().open_session(app, request)
