"""The start page for a newcomer and one demo page per site that embeds the widget for real."""

from __future__ import annotations

from flask import Blueprint, abort, render_template, request

from consent.services import services

bp = Blueprint("demo", __name__)


@bp.get("/")
def start() -> str:
    svc = services()
    return render_template(
        "index.html",
        config=svc.config,
        sites=[svc.catalogue.site(site.id) for site in svc.config.sites],
    )


@bp.get("/demo/<site_id>")
def demo_page(site_id: str) -> str:
    svc = services()
    view = svc.catalogue.site(site_id)
    if view is None:
        abort(404, description=f"There is no site called {site_id!r}.")
    lang = request.args.get("lang", view.config.default_language)
    if lang not in view.config.languages:
        lang = view.config.default_language
    return render_template("demo/site.html", site=view, lang=lang, config=svc.config)
