"""Legal's commands: ``consent verify``, ``anchor``, ``verify-export``, ``erase``, ``purge``.

Registered in ``consent/cli.py`` through :data:`COMMANDS`. Every command that changes the log
(erase, purge) writes its audit event in the same transaction; exit status 1 means the log or
the file does not verify (the first broken record is named on the first line of stderr).
"""

from __future__ import annotations

import getpass
import json
import os
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click
from flask.cli import with_appcontext

from consent.admin.audit import record_audit
from consent.exports import LogFilter, export_filter
from consent.extensions import db
from consent.legal import Anchor, Retention, anchor, erase, purge, verify, verify_export
from consent.services import services

_SHOWN_BREAKS = 20


def cli_actor() -> str:
    """Who runs a command, as the audit trail names them."""
    try:
        return f"cli:{getpass.getuser()}"
    except (KeyError, OSError):
        return "cli"


def workers_option(purpose: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """``--workers N``: processes for a long run over the log (default: the CPUs, up to 8)."""
    return click.option(
        "--workers",
        type=click.IntRange(1, 64),
        default=lambda: min(os.cpu_count() or 1, 8),
        show_default="the number of CPUs, up to 8",
        help=purpose,
    )


def _load_anchor(path: str | None) -> Anchor | None:
    if path is None:
        return None
    try:
        return Anchor.from_json(json.loads(Path(path).read_text(encoding="utf-8")))
    except (OSError, ValueError) as error:
        raise click.BadParameter(f"{path}: {error}", param_hint="--anchor") from None


def _report_breaks(breaks: list, what: str) -> None:
    click.echo(f"BROKEN: {breaks[0]}", err=True)
    for extra in breaks[1:_SHOWN_BREAKS]:
        click.echo(f"        {extra}", err=True)
    if len(breaks) > _SHOWN_BREAKS:
        click.echo(f"        … and {len(breaks) - _SHOWN_BREAKS} more", err=True)
    click.echo(f"{what} does not verify: {len(breaks)} problem(s).", err=True)


@click.command("verify")
@click.option("--site", "sites", multiple=True, help="Only this site (repeatable).")
@click.option("--anchor", "anchor_file", type=click.Path(dir_okay=False), help="A kept anchor.")
@click.option("--json", "as_json", is_flag=True, help="Print the result as JSON.")
@workers_option("Processes that check ranges of long chains in parallel.")
@with_appcontext
def verify_command(
    sites: tuple[str, ...], anchor_file: str | None, as_json: bool, workers: int
) -> None:
    """Recompute every chain; exit 1 naming the first altered, deleted, inserted or moved record.

    With --anchor (a file from `consent anchor`), also check that every head written down then
    is still in the log with the same hash, which catches truncation of the newest records.
    """
    kept = _load_anchor(anchor_file)
    started = time.perf_counter()
    report = verify(db.engine, sites or None, kept, workers=workers)
    seconds = time.perf_counter() - started
    if as_json:
        click.echo(
            json.dumps(
                {
                    "ok": report.ok,
                    "records": report.records,
                    "heads": {s: {"seq": q, "hash": h} for s, (q, h) in report.heads.items()},
                    "breaks": [str(b) for b in report.breaks],
                    "seconds": round(seconds, 3),
                },
                indent=2,
            )
        )
    else:
        for site, count in report.records.items():
            head = report.heads.get(site)
            position = f", head #{head[0]} {head[1][:16]}…" if head else ""
            click.echo(f"{site}: {count} record(s){position}")
    if not report.ok:
        _report_breaks(report.breaks, "The consent log")
        sys.exit(1)
    if not as_json:
        against = f" and matches the anchor of {kept.created_at}" if kept else ""
        click.echo(f"OK: {report.checked} record(s) verify{against} ({seconds:.2f} s).")


@click.command("anchor")
@with_appcontext
def anchor_command() -> None:
    """Print every site's chain head with the time, as JSON, to keep outside the database."""
    click.echo(json.dumps(anchor(db.engine).to_json(), indent=2))


@click.command("verify-export")
@click.argument("file", type=click.Path(exists=True, dir_okay=False))
@click.option("--anchor", "anchor_file", type=click.Path(dir_okay=False), help="A kept anchor.")
@click.option(
    "--complete", is_flag=True, help="The file is an unfiltered export: a gap is a deletion."
)
def verify_export_command(file: str, anchor_file: str | None, complete: bool) -> None:
    """Verify an exported file (CSV or JSON Lines) on its own, without the database."""
    kept = _load_anchor(anchor_file)
    try:
        report = verify_export(Path(file), kept, complete)
    except ValueError as error:
        raise click.ClickException(f"{file}: {error}") from None
    for site, (seq, digest) in report.sites.items():
        click.echo(f"{site}: ends at #{seq} {digest[:16]}…")
    if not report.ok:
        _report_breaks(report.breaks, file)
        sys.exit(1)
    gaps = f"; {report.gaps} gap(s) left by the export's filter" if report.gaps else ""
    click.echo(
        f"OK: {report.records} record(s) match their hashes, {report.links} link(s) "
        f"between consecutive records verified{gaps}."
    )


@click.command("erase")
@click.argument("consent_id")
@click.option("--site", help="Only this site's records.")
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
@with_appcontext
def erase_command(consent_id: str, site: str | None, yes: bool) -> None:
    """Erase a visitor's personal fields (user agent, IP prefix, page URL) from their records.

    The decisions stay, the chain still verifies, the records show as redacted.
    """
    if not yes:
        click.confirm(f"Erase the personal fields of every record of {consent_id}?", abort=True)
    count = erase(services().ledger, consent_id, cli_actor(), site=site, audit=record_audit)
    if not count:
        raise click.ClickException(f"no record has consent id {consent_id}")
    click.echo(f"Erased the personal fields of {count} record(s) of {consent_id}.")


@click.command("purge")
@click.option("--dry-run", is_flag=True, help="Only say what would be removed and erased.")
@click.option("--json", "as_json", is_flag=True, help="Print the result as JSON.")
@with_appcontext
def purge_command(dry_run: bool, as_json: bool) -> None:
    """Remove records past each site's retention (sites.yaml, default 5 years) and erase IP
    prefixes past retention.ip_months (default 6); a checkpoint keeps the chain verifiable."""
    svc = services()
    rules = {s.id: Retention(s.retention.years, s.retention.ip_months) for s in svc.config.sites}
    results = purge(svc.ledger, rules, cli_actor(), dry_run=dry_run, audit=record_audit)
    if as_json:
        click.echo(json.dumps([r.to_json() for r in results], indent=2))
    verb = "would be" if dry_run else "were"
    for r in results:
        if as_json:
            break
        removed = (
            f"{r.purged} record(s) up to #{r.purge_through} {verb} purged"
            if r.purged
            else "nothing to purge"
        )
        click.echo(f"{r.site}: {removed}; {r.ips_erased} IP prefix(es) {verb} erased.")
    refused = [r for r in results if r.refused]
    for r in refused:
        click.echo(f"REFUSED {r.site}: {r.refused}", err=True)
    if refused:
        sys.exit(1)


COMMANDS = (
    verify_command,
    anchor_command,
    verify_export_command,
    erase_command,
    purge_command,
)


def audit_export(wanted: LogFilter, fmt: str, count: int, output: str | None) -> None:
    """Record a CLI export in the audit trail (called by ``consent export``)."""
    record_audit(
        cli_actor(),
        "log.export",
        wanted.site,
        None,
        {"records": count, "format": fmt, "to": output or "stdout"},
        subject=wanted.consent_id,
        detail=export_filter(wanted),
    )
