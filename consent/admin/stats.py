"""Marketing's opt-in rates: per site and for all sites, as SVG charts, tables and CSV."""

from __future__ import annotations

import csv
import io
from typing import Any

from flask import Response, abort, render_template, request, url_for

from consent.admin import bp
from consent.admin.access import add_to_menu, requires
from consent.admin.charts import ACTION_LABELS, decisions_chart, partner_chart, rate_chart
from consent.extensions import db
from consent.services import services
from consent.stats import ACTIONS, OptInStats, opt_in_stats

RANGES = (7, 30, 90, 365)


def _choice() -> tuple[int, str]:
    """The period asked for in the query string; anything unknown falls back to the default."""
    days = request.args.get("days", type=int)
    days = days if days in RANGES else 90
    by = request.args.get("by")
    by = by if by in ("day", "week") else ("day" if days <= 31 else "week")
    return days, by


def _sites(site_id: str | None) -> list[str]:
    config = services().config
    if site_id is None:
        return [site.id for site in config.sites]
    if config.site(site_id) is None:
        abort(404, description=f"There is no site called {site_id!r}.")
    return [site_id]


def _page(site_id: str | None) -> str:
    days, by = _choice()
    figures = opt_in_stats(db.engine, _sites(site_id), days=days, by=by)
    names = {p.id: p.name for p in services().catalogue.snapshot().partners.values()}
    scope = site_id or "all sites"
    per_site = None
    if site_id is None:
        per_site = [
            (site, opt_in_stats(db.engine, [site], days=days, by=by, roll=False))
            for site in figures.sites
        ]
    return render_template(
        "admin/stats.html",
        site_id=site_id,
        figures=figures,
        per_site=per_site,
        names=names,
        days=days,
        by=by,
        ranges=RANGES,
        actions=ACTIONS,
        labels=ACTION_LABELS,
        charts={
            "decisions": decisions_chart("decisions", figures.periods, by, scope),
            "rate": rate_chart("rate", figures.periods, by, scope),
            "partners": partner_chart("partners", figures.partners, names, scope),
        },
        csv_url=url_for(
            "admin.stats_csv" if site_id is None else "admin.site_stats_csv",
            **({"site_id": site_id} if site_id else {}),
            days=days,
            by=by,
        ),
    )


@bp.get("/stats")
@requires("marketing")
def stats() -> str:
    return _page(None)


@bp.get("/sites/<site_id>/stats")
@requires("marketing")
def site_stats(site_id: str) -> str:
    return _page(site_id)


def _csv(site_id: str | None) -> Response:
    days, by = _choice()
    figures = opt_in_stats(db.engine, _sites(site_id), days=days, by=by)
    table = request.args.get("table", "decisions")
    body = io.StringIO()
    writer = csv.writer(body, lineterminator="\r\n")
    if table == "partners":
        _partner_rows(writer, figures)
    else:
        table = "decisions"
        _decision_rows(writer, figures)
    name = f"opt-in-{table}-{site_id or 'all-sites'}-{figures.since}-{figures.until}.csv"
    return Response(
        body.getvalue(),
        mimetype="text/csv",
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )


def _decision_rows(writer: Any, figures: OptInStats) -> None:
    writer.writerow(
        [figures.by, "sites", "decisions", *ACTIONS, "advertising_granted", "advertising_rate"]
    )
    for period in figures.periods:
        rate = period.advertising_rate
        writer.writerow(
            [
                period.start.isoformat(),
                " ".join(figures.sites),
                period.decisions,
                *(period.by_action[a] for a in ACTIONS),
                period.advertising_granted,
                "" if rate is None else f"{rate:.4f}",
            ]
        )


def _partner_rows(writer: Any, figures: OptInStats) -> None:
    writer.writerow(["partner", "sites", "since", "until", "offered", "granted", "rate"])
    for partner in figures.partners:
        writer.writerow(
            [
                partner.partner_id,
                " ".join(figures.sites),
                figures.since.isoformat(),
                figures.until.isoformat(),
                partner.offered,
                partner.granted,
                "" if partner.rate is None else f"{partner.rate:.4f}",
            ]
        )


@bp.get("/stats.csv")
@requires("marketing")
def stats_csv() -> Response:
    return _csv(None)


@bp.get("/sites/<site_id>/stats.csv")
@requires("marketing")
def site_stats_csv(site_id: str) -> Response:
    return _csv(site_id)


add_to_menu("Opt-in rates", "admin.stats", order=20)
