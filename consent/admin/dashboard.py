"""The admin's start page: the four sites at a glance and what this account may do."""

from __future__ import annotations

from flask import render_template

from consent.admin import bp
from consent.admin.access import add_to_menu, requires
from consent.services import services


@bp.get("")
@requires()
def dashboard() -> str:
    svc = services()
    sites = [svc.catalogue.site(site.id) for site in svc.config.sites]
    return render_template("admin/dashboard.html", sites=[s for s in sites if s is not None])


add_to_menu("Dashboard", "admin.dashboard", order=0)
