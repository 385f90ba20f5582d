"""``consent scan URL --site S``: scan a page as a new visitor, after refusal and acceptance.

Prints a table of the findings (or the whole report with ``--json``) and exits with 1 when
there is a violation, so a CI job or cron can fail on it; 0 otherwise. An unknown site, an
unreachable URL or a missing Chromium is one sentence on stderr (exit 2), never a traceback.
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import urlsplit

import click
from flask.cli import with_appcontext
from sqlalchemy.exc import SQLAlchemyError

from consent.scanner.classify import PHASE_LABELS, VERDICTS, Rules, rules_for
from consent.services import services


class ScanFailed(click.ClickException):
    exit_code = 2


def site_rules(site_id: str) -> Rules:
    """The classification rules of ``site_id`` from the live catalogue (sites.yaml if no DB)."""
    svc = services()
    site = svc.config.site(site_id)
    if site is None:
        known = ", ".join(s.id for s in svc.config.sites)
        raise click.BadParameter(f"unknown site {site_id!r} (sites: {known})", param_hint="--site")
    try:
        partners: Any = list(svc.catalogue.snapshot().partners.values())
    except SQLAlchemyError:
        partners = list(svc.config.partners)
    return rules_for(svc.config, site, partners, svc.settings.public_url)


def run_scan(
    site_id: str, url: str, pages: int, resolve: dict[str, str] | None = None
) -> dict[str, Any]:
    """Scan and return the report; a scan that cannot be made raises :class:`ScanFailed`."""
    # Playwright is imported only when a scan runs, not with every ``consent`` command.
    from consent.scanner.browser import BrowserMissing
    from consent.scanner.crawl import ScanError, scan

    rules = site_rules(site_id)
    try:
        return scan(site_id, url, rules, pages=pages, resolve=resolve)
    except (ScanError, BrowserMissing) as error:
        raise ScanFailed(str(error)) from None


def _resolve_option(values: tuple[str, ...]) -> dict[str, str]:
    mapping = {}
    for value in values:
        host, _, address = value.partition("=")
        if not host or not address:
            raise click.BadParameter(f"{value!r} is not HOST=ADDRESS", param_hint="--resolve")
        mapping[host.strip().lower()] = address.strip()
    return mapping


@click.command("scan")
@click.argument("url")
@click.option("--site", "site_id", required=True, help="The site the page belongs to.")
@click.option("--json", "as_json", is_flag=True, help="Print the whole report as JSON.")
@click.option(
    "--pages",
    default=1,
    show_default=True,
    type=click.IntRange(1, 500),
    help="Follow same-site links until this many pages were scanned.",
)
@click.option(
    "--resolve",
    multiple=True,
    metavar="HOST=ADDRESS",
    help="Reach HOST at ADDRESS (a staging copy, tests); may be repeated.",
)
@with_appcontext
def scan_command(
    url: str, site_id: str, as_json: bool, pages: int, resolve: tuple[str, ...]
) -> None:
    """Scan URL: the cookies and hosts it uses before consent, after refusal, after acceptance."""
    if not url.startswith(("http://", "https://")):
        raise click.BadParameter(f"{url!r} is not an http(s) URL", param_hint="URL")
    report = run_scan(site_id, url, pages, _resolve_option(resolve))
    if as_json:
        click.echo(json.dumps(report, indent=2))
    else:
        click.echo(render_table(report))
    if report["summary"]["violations"]:
        raise click.exceptions.Exit(1)


def render_table(report: dict[str, Any]) -> str:
    """The findings as a plain-text table, the worst first."""
    summary = report["summary"]
    lines = [
        f"Scan of {report['site']} from {report['url']}: {summary['pages']} page(s), "
        f"{summary['violations']} violation(s), {summary['warnings']} warning(s).",
        "",
    ]
    order = {verdict: i for i, verdict in enumerate(VERDICTS)}
    findings = sorted(report["findings"], key=lambda f: (order[f["verdict"]], f["page"]))
    several = len({f["page"] for f in findings}) > 1
    header = ("VERDICT", "WHEN", "KIND", "NAME", "PARTNER", "DOMAIN", "LIFETIME", "SET BY / URL")
    header = ("PAGE", *header) if several else header
    rows = [
        (
            *((_path(f["page"]),) if several else ()),
            f["verdict"].upper() if f["verdict"] == "violation" else f["verdict"],
            PHASE_LABELS[f["phase"]],
            f["kind"],
            f["name"],
            f["partner"] or f["category"] or "unknown",
            f["domain"] or ("" if f["kind"] == "banner" else f["name"]),
            f["lifetime"] or "",
            f["source"] or "",
        )
        for f in findings
    ]
    if not rows:
        return "\n".join([*lines, "No cookie and no request to another host was found."])
    widths = [max(len(str(row[i])) for row in [header, *rows]) for i in range(len(header) - 1)]
    for row in [header, *rows]:
        cells = [str(cell).ljust(width) for cell, width in zip(row, widths, strict=False)]
        lines.append("  ".join([*cells, str(row[-1])]).rstrip())
    if several:
        lines += ["", "Pages scanned: " + ", ".join(p["url"] for p in report["pages"])]
    return "\n".join(lines)


def _path(url: str) -> str:
    parts = urlsplit(url)
    return (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
