"""Scans started from the admin: queued in the ``scans`` table, run by a process of their own.

``start`` stores a queued scan and spawns ``python -m consent.scanner.worker <id>`` with the
application's settings in its environment, then returns at once: a web worker never waits
for Chromium. The worker (``run``) scans each URL, stores the merged report and counts, and
links the scan to the previous finished scan of the same site; ``changes`` compares the two.
"""

from __future__ import annotations

import datetime as dt
import os
import subprocess
import sys
from typing import Any

from sqlalchemy.orm import Session

from consent.models import Scan
from consent.settings import PROJECT_ROOT, Settings

# A scan still "queued" or "running" after this long has lost its worker; it no longer blocks.
STALE_AFTER = dt.timedelta(hours=1)
ACTIVE = ("queued", "running")


class ScanRefused(ValueError):
    """The scan cannot be started; the message says why."""


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def _aware(moment: dt.datetime) -> dt.datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)


def start(
    session: Session, settings: Settings, site_id: str, urls: list[str], requested_by: str
) -> Scan:
    """Queue a scan of ``urls`` and start its worker process; refuse a second one at once."""
    if not urls:
        raise ScanRefused("Choose at least one page to scan.")
    active = session.execute(
        Scan.__table__.select().where(Scan.site_id == site_id, Scan.status.in_(ACTIVE))
    ).mappings()
    if any(utcnow() - _aware(row["created_at"]) < STALE_AFTER for row in active):
        raise ScanRefused(f"A scan of {site_id} is already under way; wait for it to finish.")
    scan = Scan(site_id=site_id, status="queued", requested_by=requested_by, urls=list(urls))
    session.add(scan)
    session.commit()
    spawn_worker(scan.id, settings)
    return scan


def worker_environment(settings: Settings) -> dict[str, str]:
    """The environment that gives the worker the same application as the web process."""
    env = {
        **os.environ,
        "DATABASE_URL": settings.database_url,
        "CONSENT_SITES_FILE": str(settings.sites_file),
        "CONSENT_INSTANCE_PATH": str(settings.instance_path),
        "SECRET_KEY": settings.secret_key,
        "CONSENT_ENV": "production" if settings.production else "development",
        "RATELIMIT_ENABLED": "false",
    }
    if settings.public_url:
        env["CONSENT_PUBLIC_URL"] = settings.public_url
    return env


def spawn_worker(scan_id: int, settings: Settings) -> subprocess.Popen[bytes]:
    settings.instance_path.mkdir(parents=True, exist_ok=True)
    with open(settings.instance_path / "scans.log", "ab") as log:
        return subprocess.Popen(
            [sys.executable, "-m", "consent.scanner.worker", str(scan_id)],
            env=worker_environment(settings),
            cwd=PROJECT_ROOT,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # outlives a restarted web worker
        )


def run(session: Session, scan_id: int) -> Scan | None:
    """Run a queued scan to its end (done or failed) and store what it found."""
    from consent.scanner.cli import run_scan

    scan = session.get(Scan, scan_id)
    if scan is None or scan.status != "queued":
        return scan
    scan.status, scan.started_at = "running", utcnow()
    session.commit()
    reports, errors = [], []
    for url in scan.urls:
        try:
            reports.append(run_scan(scan.site_id, url, pages=1))
        except Exception as error:  # noqa: BLE001 - a page that cannot be scanned is reported
            errors.append(getattr(error, "message", None) or str(error))
    if reports:
        report = merge(scan.site_id, reports, errors)
        scan.report = report
        scan.violations = report["summary"]["violations"]
        scan.warnings = report["summary"]["warnings"]
        scan.status = "done"
        scan.error = "; ".join(errors) or None
        scan.previous_id = session.execute(
            Scan.__table__.select()
            .with_only_columns(Scan.id)
            .where(Scan.site_id == scan.site_id, Scan.status == "done", Scan.id < scan.id)
            .order_by(Scan.id.desc())
            .limit(1)
        ).scalar()
    else:
        scan.status, scan.error = "failed", "; ".join(errors) or "nothing was scanned"
    scan.finished_at = utcnow()
    session.commit()
    return scan


def merge(site_id: str, reports: list[dict[str, Any]], errors: list[str]) -> dict[str, Any]:
    """One report for a scan of several URLs."""
    findings = [f for r in reports for f in r["findings"]]
    pages = [p for r in reports for p in r["pages"]]
    return {
        "site": site_id,
        "started_at": reports[0]["started_at"],
        "finished_at": reports[-1]["finished_at"],
        "summary": {
            "pages": len(pages),
            "violations": sum(f["verdict"] == "violation" for f in findings),
            "warnings": sum(f["verdict"] == "warning" for f in findings),
        },
        "errors": errors,
        "findings": findings,
        "pages": pages,
    }


def _violations(report: dict[str, Any]) -> set[str]:
    from consent.scanner.classify import PHASE_LABELS

    return {
        f"{f['kind']} {f['name']} {PHASE_LABELS[f['phase']]}"
        for f in report.get("findings", [])
        if f["verdict"] == "violation"
    }


def _cookies(report: dict[str, Any]) -> set[str]:
    return {
        f"{cookie['name']} ({cookie['domain']})"
        for page in report.get("pages", [])
        for visit in page["visits"].values()
        for cookie in visit["cookies"]
    }


def _hosts(report: dict[str, Any]) -> set[str]:
    return {
        host["host"]
        for page in report.get("pages", [])
        for visit in page["visits"].values()
        for host in visit["hosts"]
    }


def changes(previous: dict[str, Any] | None, current: dict[str, Any]) -> dict[str, Any]:
    """What is new and what is gone since ``previous``: violations, cookies, hosts."""
    before = previous or {}
    areas = (("violations", _violations), ("cookies", _cookies), ("hosts", _hosts))
    return {
        area: {
            "new": sorted(read(current) - read(before)),
            "gone": sorted(read(before) - read(current)),
        }
        for area, read in areas
    }
