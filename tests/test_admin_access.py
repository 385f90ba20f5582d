"""Who may open which admin page, walked route by route from the one access table.

The matrix is generated from ``consent.admin.access.table``: a route added anywhere in the
admin is covered the moment it exists. For each route: an anonymous visitor is sent to the
login page, each role without the right gets 403, each role with it gets through.
"""

from __future__ import annotations

import re
from typing import Any

import pytest
from admin_fixtures import csrf_token

from consent.admin import access
from consent.users import ROLES

# Values for the URL parts of admin routes; a new route with another part needs one here.
SAMPLE_VALUES: dict[str, Any] = {
    "site_id": "mixvoip.com",
    "partner_id": "google-ads",
    "consent_id": "3f1c9f0e-8a7b-4c1d-9e2f-0a1b2c3d4e5f",
    "fmt": "csv",
}


def url_for_rule(rule: str, values: dict[str, Any]) -> str:
    def fill(match: re.Match[str]) -> str:
        name = match.group(1).split(":")[-1]
        assert name in values, f"add a sample value for <{name}> ({rule}) to SAMPLE_VALUES"
        return str(values[name])

    return re.sub(r"<([^>]+)>", fill, rule)


def request(client: Any, method: str, url: str, token: str) -> Any:
    if method == "GET":
        return client.get(url)
    return client.open(url, method=method, data={"csrf_token": token})


def is_login_redirect(response: Any) -> bool:
    return response.status_code == 302 and "/admin/login" in response.headers["Location"]


def test_every_admin_route_declares_known_roles(app):
    routes = access.table(app)
    assert {r.endpoint for r in routes} >= {"admin.login", "admin.logout", "admin.dashboard"}
    for route in routes:
        assert route.is_public or route.roles <= set(ROLES), route
        assert route.is_public or "admin" in route.roles, route
    assert [r.endpoint for r in routes if r.is_public] == ["admin.login"]


def test_role_matrix_covers_every_route(app, make_user):
    clients = {None: app.test_client()}
    users = {}
    for role in ROLES:
        users[role] = make_user(role)
        client = app.test_client()
        token = csrf_token(client, "/admin/login")
        signed = client.post(
            "/admin/login",
            data={
                "email": users[role],
                "password": "correct horse battery staple",
                "csrf_token": token,
            },
        )
        assert signed.status_code == 302
        clients[role] = client
    with app.app_context():
        from consent.extensions import db
        from consent.models import Scan, User

        scan = Scan(site_id="mixvoip.com", status="done", requested_by="test", urls=[])
        db.session.add(scan)
        db.session.commit()
        values = dict(SAMPLE_VALUES, user_id=db.session.query(User.id).first()[0], scan_id=scan.id)
    tokens = {
        who: csrf_token(client, "/admin/login" if who is None else "/admin")
        for who, client in clients.items()
    }

    checked = 0
    for route in access.table(app):
        if route.is_public or route.endpoint == "admin.logout":  # logout: test_admin_login
            continue
        url = url_for_rule(route.rule, values)
        for method in sorted(route.methods):
            anonymous = request(clients[None], method, url, tokens[None])
            assert is_login_redirect(anonymous), (method, url, anonymous.status_code)
            for role in ROLES:
                response = request(clients[role], method, url, tokens[role])
                if role in route.roles:
                    assert response.status_code != 403, (role, method, url)
                    assert not is_login_redirect(response), (role, method, url)
                    if method == "GET":
                        assert response.status_code == 200, (role, url, response.status_code)
                else:
                    assert response.status_code == 403, (role, method, url)
                    assert "not for your role" in response.get_data(as_text=True)
                checked += 1
    assert checked >= len(ROLES)


def test_an_undeclared_view_is_admin_only(app, sign_in):
    def probe() -> str:
        return "probe ok"

    app.add_url_rule("/admin/undeclared-probe", endpoint="admin.probe", view_func=probe)

    assert is_login_redirect(app.test_client().get("/admin/undeclared-probe"))
    assert sign_in("legal").get("/admin/undeclared-probe").status_code == 403
    assert sign_in("marketing").get("/admin/undeclared-probe").status_code == 403
    assert sign_in("admin").get("/admin/undeclared-probe").status_code == 200


@pytest.mark.parametrize("role", ROLES)
def test_the_navigation_shows_exactly_the_pages_the_role_may_open(app, sign_in, role):
    client = sign_in(role)
    page = client.get("/admin").get_data(as_text=True)
    nav = page.split('<nav aria-label="Admin">', 1)[1].split("</nav>", 1)[0]
    links = set(re.findall(r'href="([^"]+)"', nav))

    with app.test_request_context():
        from flask import url_for

        expected = {
            url_for(item.endpoint)
            for item in access.MENU
            if role in access.roles_for(app.view_functions[item.endpoint])
        }
    assert links == expected
    for link in links:
        assert client.get(link).status_code == 200, link


def test_every_form_post_is_refused_without_csrf_token(app, sign_in):
    client = sign_in("admin")  # admin may use every route: only the token is missing
    with app.app_context():
        from consent.extensions import db
        from consent.models import User

        values = dict(SAMPLE_VALUES, user_id=db.session.query(User.id).first()[0])
    posts = [r for r in access.table(app) if "POST" in r.methods]
    assert {r.endpoint for r in posts} >= {"admin.login", "admin.logout"}
    for route in posts:
        response = client.post(url_for_rule(route.rule, values), data={})
        assert response.status_code == 400, route.rule
        assert "CSRF" in response.get_data(as_text=True), route.rule
    assert client.get("/admin").status_code == 200  # and still signed in
