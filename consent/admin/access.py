"""Who may use which admin page: declared per view with ``@requires``, enforced here only.

A view says which roles it serves (``@requires("legal")``); ``admin`` may use everything, and
``@requires()`` with no role means any signed-in account. One ``before_request`` hook checks
every request to the blueprint against that declaration: an anonymous visitor is sent to the
login page, a signed-in account without the role gets a readable 403 page. A view that declares
nothing is treated as admin-only, so a forgotten declaration fails closed. ``public`` marks the
few pages that need no account (the login page).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar
from urllib.parse import urlsplit

from flask import Flask, current_app, redirect, render_template, request, url_for
from flask_login import current_user

from consent.admin import bp
from consent.users import ROLES

View = TypeVar("View", bound=Callable[..., Any])

ADMIN = "admin"
PUBLIC = frozenset({"*public*"})
ANY_ROLE = frozenset(ROLES)
_ATTRIBUTE = "_admin_roles"


def requires(*roles: str) -> Callable[[View], View]:
    """Declare the roles that may use a view; none given = any signed-in account."""
    unknown = set(roles) - set(ROLES)
    if unknown:
        raise ValueError(f"unknown role(s) {sorted(unknown)}; roles are {ROLES}")
    allowed = frozenset(roles) | {ADMIN} if roles else ANY_ROLE

    def declare(view: View) -> View:
        setattr(view, _ATTRIBUTE, allowed)
        return view

    return declare


def public(view: View) -> View:
    """Declare a view open to anyone (only the login page)."""
    setattr(view, _ATTRIBUTE, PUBLIC)
    return view


def roles_for(view: Callable[..., Any] | None) -> frozenset[str]:
    """The roles a view serves (``PUBLIC`` for public views); undeclared = admin only."""
    return getattr(view, _ATTRIBUTE, frozenset({ADMIN}))


def is_allowed(role: str | None, endpoint: str, app: Flask | None = None) -> bool:
    """May an account with ``role`` (``None``: anonymous) use ``endpoint``?"""
    view = (app or current_app).view_functions.get(endpoint)
    allowed = roles_for(view)
    if allowed is PUBLIC:
        return True
    return role is not None and role in allowed


@dataclass(frozen=True)
class Route:
    """One admin URL rule and who may use it (the role matrix the tests walk)."""

    rule: str
    endpoint: str
    methods: frozenset[str]
    roles: frozenset[str]

    @property
    def is_public(self) -> bool:
        return self.roles is PUBLIC


def table(app: Flask) -> list[Route]:
    """Every admin route with its roles, read from the declarations."""
    routes = []
    for rule in app.url_map.iter_rules():
        if not rule.endpoint.startswith(f"{bp.name}."):
            continue
        methods = frozenset(rule.methods or ()) - {"HEAD", "OPTIONS"}
        roles = roles_for(app.view_functions[rule.endpoint])
        routes.append(Route(rule.rule, rule.endpoint, methods, roles))
    return sorted(routes, key=lambda r: r.rule)


def current_role() -> str | None:
    return current_user.role if current_user.is_authenticated else None


def safe_next(target: str | None) -> str | None:
    """``target`` if it is a path inside the admin (never another host), else ``None``."""
    if not target:
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not parts.path.startswith("/admin") or "\\" in target:
        return None
    return target


@bp.before_request
def _enforce() -> Any:
    endpoint = request.endpoint
    if endpoint is None:  # no route matched: let the 404 through
        return None
    view = current_app.view_functions.get(endpoint)
    allowed = roles_for(view)
    if allowed is PUBLIC:
        return None
    if not current_user.is_authenticated:
        target = request.full_path if request.method == "GET" else None
        return redirect(url_for("admin.login", next=safe_next(target)))
    if current_user.role not in allowed:
        return render_template(
            "admin/forbidden.html", needed=sorted(allowed - {ADMIN}) or [ADMIN]
        ), 403
    return None


# --- navigation ----------------------------------------------------------------------------


@dataclass(frozen=True)
class MenuItem:
    label: str
    endpoint: str
    order: int = 50


MENU: list[MenuItem] = []


def add_to_menu(label: str, endpoint: str, order: int = 50) -> None:
    """Add an area's entry page to the navigation (lower ``order`` first); it shows only to
    roles that may use it."""
    if all(item.endpoint != endpoint for item in MENU):
        MENU.append(MenuItem(label, endpoint, order))
        MENU.sort(key=lambda item: item.order)


def menu_for(role: str | None) -> list[MenuItem]:
    return [item for item in MENU if may(role, item.endpoint)]


@bp.context_processor
def _navigation() -> dict[str, Any]:
    role = current_role()
    return {"menu": menu_for(role), "may": lambda endpoint: may(role, endpoint)}


def may(role: str | None, endpoint: str) -> bool:
    """Is ``endpoint`` a page and may ``role`` use it? (templates: ``may('admin.site')``)."""
    return endpoint in current_app.view_functions and is_allowed(role, endpoint)
