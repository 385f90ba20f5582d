"""Admins manage accounts: create, change role, deactivate; every change is audited."""

from __future__ import annotations

import pytest
from admin_fixtures import PASSWORD, csrf_token, log_in

from consent.extensions import db
from consent.models import AuditEvent, User


@pytest.fixture
def admin(sign_in):
    return sign_in("admin")


def account(app, email):
    with app.app_context():
        return db.session.execute(db.select(User).where(User.email == email)).scalar_one()


def create(client, **fields):
    token = csrf_token(client, "/admin/users")
    data = {"email": "new@mixvoip.test", "role": "legal", "password": PASSWORD, **fields}
    return client.post("/admin/users", data={**data, "csrf_token": token})


def test_an_admin_creates_an_account_that_can_sign_in(app, admin):
    assert create(admin).status_code == 302
    assert "new@mixvoip.test" in admin.get("/admin/users").get_data(as_text=True)
    assert log_in(app.test_client(), "new@mixvoip.test").status_code == 302
    with app.app_context():
        event = db.session.execute(db.select(AuditEvent)).scalar_one()
    assert (event.actor, event.action) == ("admin@mixvoip.test", "users.create")
    assert event.after == {"email": "new@mixvoip.test", "role": "legal", "active": True}


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"password": "short"}, "at least 12 characters"),
        ({"email": "admin@mixvoip.test"}, "already exists"),
        ({"email": "not-an-email"}, "is not an email address"),
        ({"role": "owner"}, "Not a valid choice"),
    ],
)
def test_an_invalid_account_is_refused_with_a_message(admin, fields, message):
    response = create(admin, **fields)
    assert response.status_code == 422
    assert message in response.get_data(as_text=True)


def test_changing_a_role_applies_on_the_next_request(app, admin, make_user):
    email = make_user("marketing")
    member = app.test_client()
    log_in(member, email)
    assert member.get("/admin/audit").status_code == 403
    user_id = account(app, email).id

    token = csrf_token(admin, "/admin/users")
    admin.post(f"/admin/users/{user_id}", data={"role": "legal", "csrf_token": token})

    assert account(app, email).role == "legal"
    assert member.get("/admin/audit").status_code == 200
    assert member.get("/admin/sites").status_code == 403


def test_a_deactivated_account_is_signed_out_and_can_be_reactivated(app, admin, make_user):
    email = make_user("legal")
    member = app.test_client()
    log_in(member, email)
    user_id = account(app, email).id
    token = csrf_token(admin, "/admin/users")

    admin.post(f"/admin/users/{user_id}", data={"active": "0", "csrf_token": token})
    assert member.get("/admin").status_code == 302
    assert log_in(app.test_client(), email).status_code == 401

    admin.post(f"/admin/users/{user_id}", data={"active": "1", "csrf_token": token})
    assert log_in(app.test_client(), email).status_code == 302


def test_an_admin_cannot_demote_or_deactivate_themselves(app, admin):
    me = account(app, "admin@mixvoip.test")
    token = csrf_token(admin, "/admin/users")
    admin.post(f"/admin/users/{me.id}", data={"role": "legal", "csrf_token": token})
    admin.post(f"/admin/users/{me.id}", data={"active": "0", "csrf_token": token})
    after = account(app, "admin@mixvoip.test")
    assert (after.role, after.active) == ("admin", True)
    assert "cannot change your own role" in admin.get("/admin/users").get_data(as_text=True)


def test_audit_trail_page_shows_who_when_site_before_and_after(sign_in):
    marketing = sign_in("marketing")
    token = csrf_token(marketing, "/admin/sites/voxbi.team")
    revision = marketing.get("/v1/sites/voxbi.team/config").get_json()["revision"]
    marketing.post(
        "/admin/sites/voxbi.team",
        data={"csrf_token": token, "partners": ["meta-pixel"], "revision": str(revision)},
    )
    legal = sign_in("legal")
    page = legal.get("/admin/audit?site=voxbi.team").get_data(as_text=True)
    assert "marketing@mixvoip.test" in page and "partners.switch" in page
    row = page.split("partners.switch", 1)[1].split("</tr>", 1)[0]
    assert "voxbi.team" in row
    assert "linkedin-insight, meta-pixel" in row or "meta-pixel, linkedin-insight" in row
    assert row.rstrip().endswith("<td>meta-pixel</td>")
    assert "Nothing recorded yet" in legal.get("/admin/audit?site=voxbi.com").get_data(as_text=True)
