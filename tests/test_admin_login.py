"""Signing in to the admin: the form, wrong passwords, sessions, CSRF, rate limit, headers."""

from __future__ import annotations

import pytest
from admin_fixtures import PASSWORD, csrf_token, log_in

from consent.extensions import db
from consent.models import User


def test_the_login_form_has_labelled_email_and_password_fields(client):
    page = client.get("/admin/login").get_data(as_text=True)
    assert '<label for="email">Email</label>' in page
    assert '<label for="password">Password</label>' in page
    assert 'type="password"' in page


def test_a_right_password_signs_in_and_opens_the_dashboard(client, make_user):
    email = make_user("marketing")
    response = log_in(client, email)
    assert response.status_code == 302
    assert response.headers["Location"] == "/admin"
    dashboard = client.get("/admin").get_data(as_text=True)
    assert email in dashboard
    assert "mixvoip.com" in dashboard


def test_a_wrong_password_is_refused_with_a_message(client, make_user):
    email = make_user("marketing")
    response = log_in(client, email, "not the password at all")
    assert response.status_code == 401
    assert "email or the password is wrong" in response.get_data(as_text=True)
    assert client.get("/admin").status_code == 302


def test_an_unknown_email_gets_the_same_answer(client):
    response = log_in(client, "nobody@mixvoip.test")
    assert response.status_code == 401
    assert "email or the password is wrong" in response.get_data(as_text=True)


def test_a_deactivated_account_cannot_sign_in_and_loses_its_session(app, make_user):
    email = make_user("legal")
    signed_in = app.test_client()
    assert log_in(signed_in, email).status_code == 302
    with app.app_context():
        db.session.execute(db.update(User).where(User.email == email).values(active=False))
        db.session.commit()
    assert signed_in.get("/admin").status_code == 302
    assert log_in(app.test_client(), email).status_code == 401


def test_passwords_are_stored_hashed(app, make_user):
    email = make_user("admin")
    with app.app_context():
        stored = db.session.execute(db.select(User.password_hash).where(User.email == email))
        digest = stored.scalar_one()
    assert PASSWORD not in digest
    assert digest.startswith(("scrypt:", "pbkdf2:"))


def test_anonymous_visitors_are_sent_to_login_and_back(client, make_user):
    response = client.get("/admin?x=1")
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/admin/login?next=")
    email = make_user("admin")
    token = csrf_token(client, "/admin/login")
    back = client.post(
        "/admin/login?next=/admin?x%3D1",
        data={"email": email, "password": PASSWORD, "csrf_token": token},
    )
    assert back.headers["Location"] == "/admin?x=1"


@pytest.mark.parametrize("target", ["https://evil.example/", "//evil.example/admin", "/demo/x"])
def test_login_never_redirects_outside_the_admin(client, make_user, target):
    email = make_user("admin")
    token = csrf_token(client, "/admin/login")
    response = client.post(
        "/admin/login",
        query_string={"next": target},
        data={"email": email, "password": PASSWORD, "csrf_token": token},
    )
    assert response.headers["Location"] == "/admin"


def test_login_without_csrf_token_is_rejected(client, make_user):
    email = make_user("admin")
    response = client.post("/admin/login", data={"email": email, "password": PASSWORD})
    assert response.status_code == 400
    assert "CSRF" in response.get_data(as_text=True)
    assert client.get("/admin").status_code == 302


def test_signing_out_needs_a_post_with_token_and_ends_the_session(sign_in):
    client = sign_in("marketing")
    assert client.get("/admin/logout").status_code == 405
    assert client.post("/admin/logout").status_code == 400
    token = csrf_token(client, "/admin")
    response = client.post("/admin/logout", data={"csrf_token": token})
    assert response.headers["Location"] == "/admin/login"
    assert client.get("/admin").status_code == 302


def test_admin_pages_forbid_framing_and_caching(client, sign_in):
    for response in (client.get("/admin/login"), sign_in("legal").get("/admin")):
        assert response.headers["X-Frame-Options"] == "DENY"
        assert response.headers["Cache-Control"] == "no-store"
        policy = response.headers["Content-Security-Policy"]
        assert "default-src 'self'" in policy and "frame-ancestors 'none'" in policy


def test_the_session_cookie_is_httponly_and_samesite(client, make_user):
    response = log_in(client, make_user("admin"))
    cookie = next(c for c in response.headers.getlist("Set-Cookie") if "consent_admin=" in c)
    assert "HttpOnly" in cookie
    assert "SameSite=Lax" in cookie


class TestRateLimit:
    @pytest.fixture
    def settings_overrides(self):
        return {"RATELIMIT_ENABLED": "true", "LOGIN_RATE_LIMIT": "3 per minute"}

    def test_login_attempts_are_rate_limited(self, client, make_user):
        email = make_user("admin")
        answers = [log_in(client, email, "wrong password!").status_code for _ in range(3)]
        assert answers == [401, 401, 401]
        blocked = log_in(client, email)
        assert blocked.status_code == 429
        assert "Too Many Requests" in blocked.get_data(as_text=True)
        assert client.get("/admin").status_code == 302
