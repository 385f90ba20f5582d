"""Admin test helpers: accounts of each role and a client signed in as one of them.

Imported by ``conftest.py`` so every test module can use ``make_user`` and ``sign_in``; the
login goes through the real form, CSRF token included.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import pytest

from consent.extensions import db
from consent.users import create_user

PASSWORD = "correct horse battery staple"
_TOKEN = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')


def csrf_token(client: Any, path: str) -> str:
    """The CSRF token of the form on ``path`` (as a browser would read it from the page)."""
    page = client.get(path)
    assert page.status_code == 200, (path, page.status_code)
    match = _TOKEN.search(page.get_data(as_text=True))
    assert match, f"no CSRF token on {path}"
    return match.group(1)


@pytest.fixture
def make_user(app: Any) -> Callable[..., Any]:
    """``make_user("legal")`` → a new account with that role (email ``<role>@mixvoip.test``)."""

    def make(role: str, email: str | None = None, password: str = PASSWORD) -> Any:
        with app.app_context():
            user = create_user(db.session, email or f"{role}@mixvoip.test", role, password)
            return user.email

    return make


def log_in(client: Any, email: str, password: str = PASSWORD) -> Any:
    token = csrf_token(client, "/admin/login")
    return client.post(
        "/admin/login", data={"email": email, "password": password, "csrf_token": token}
    )


@pytest.fixture
def sign_in(app: Any, make_user: Callable[..., Any]) -> Callable[[str], Any]:
    """``sign_in("marketing")`` → a test client signed in with a new account of that role."""

    def signed_in(role: str) -> Any:
        client = app.test_client()
        response = log_in(client, make_user(role))
        assert response.status_code == 302, response.get_data(as_text=True)
        return client

    return signed_in
