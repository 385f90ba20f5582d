"""Cookie scans from the admin: start one for a site's pages, see the history and changes.

Starting a scan only queues it (``consent.scanner.jobs.start``); a process of its own runs
Chromium, so the page returns at once and the scan's page shows its progress.
"""

from __future__ import annotations

from typing import Any

from flask import abort, flash, redirect, render_template, request, url_for
from flask_login import current_user

from consent.admin import bp
from consent.admin.access import add_to_menu, requires
from consent.admin.audit import record_audit
from consent.extensions import db
from consent.models import Scan
from consent.scanner import jobs
from consent.scanner.classify import PHASE_LABELS, VERDICTS
from consent.services import services

HISTORY_LENGTH = 50


@bp.get("/scans")
@requires("marketing", "legal")
def scans() -> str:
    svc = services()
    history = (
        db.session.execute(db.select(Scan).order_by(Scan.id.desc()).limit(HISTORY_LENGTH))
        .scalars()
        .all()
    )
    return render_template("admin/scans.html", sites=svc.config.sites, history=history)


@bp.post("/scans")
@requires("marketing", "legal")
def start_scan() -> Any:
    svc = services()
    site = svc.config.site(request.form.get("site", ""))
    if site is None:
        abort(404, description="There is no such site.")
    wanted = request.form.getlist("urls")
    urls = [url for url in site.scan_urls if url in wanted]
    try:
        scan = jobs.start(db.session, svc.settings, site.id, urls, current_user.email)
    except jobs.ScanRefused as refusal:
        flash(str(refusal))
        return redirect(url_for("admin.scans"))
    record_audit(
        current_user.email, "scan.start", site.id, None, {"urls": urls}, subject=str(scan.id)
    )
    flash(f"Scan {scan.id} of {site.id} started; this page shows its findings when it is done.")
    return redirect(url_for("admin.scan", scan_id=scan.id))


@bp.get("/scans/<int:scan_id>")
@requires("marketing", "legal")
def scan(scan_id: int) -> str:
    found = db.session.get(Scan, scan_id)
    if found is None:
        abort(404, description=f"There is no scan {scan_id}.")
    previous = db.session.get(Scan, found.previous_id) if found.previous_id else None
    report = found.report or {}
    order = {verdict: i for i, verdict in enumerate(VERDICTS)}
    findings = sorted(report.get("findings", []), key=lambda f: order[f["verdict"]])
    return render_template(
        "admin/scan.html",
        scan=found,
        previous=previous,
        findings=findings,
        changes=jobs.changes(previous.report if previous else None, report),
        phases=PHASE_LABELS,
        running=found.status in jobs.ACTIVE,
    )


add_to_menu("Scans", "admin.scans")
