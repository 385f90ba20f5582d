"""The audit trail: who changed what, when, on which site, from what to what.

Any area records an accountable change with :func:`record_audit`; legal (and admins) read the
trail on ``/admin/audit``.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from flask import render_template, request
from sqlalchemy import Connection

from consent.admin import bp
from consent.admin.access import add_to_menu, requires
from consent.extensions import db
from consent.models import AuditEvent
from consent.services import services


def record_audit(
    actor: str,
    action: str,
    site: str | None,
    before: Any,
    after: Any,
    *,
    subject: str | None = None,
    detail: Any = None,
    connection: Connection | None = None,
) -> None:
    """Add one event to the audit trail.

    ``action`` is a dotted name (``partners.switch``, ``log.export``); ``before``/``after`` are
    any JSON values. With ``connection`` the event joins the caller's transaction; without, it
    is written and committed through the Flask-SQLAlchemy session.
    """
    values = {
        "created_at": dt.datetime.now(dt.UTC),
        "actor": actor,
        "action": action,
        "site_id": site,
        "subject": subject,
        "before": before,
        "after": after,
        "detail": detail,
    }
    if connection is not None:
        connection.execute(AuditEvent.__table__.insert(), values)
        return
    db.session.add(AuditEvent(**values))
    db.session.commit()


PAGE_SIZE = 50


@bp.get("/audit")
@requires("legal")
def audit() -> str:
    svc = services()
    site = request.args.get("site") or None
    if site is not None and svc.config.site(site) is None:
        site = None
    before_id = request.args.get("before", type=int)
    query = db.select(AuditEvent).order_by(AuditEvent.id.desc()).limit(PAGE_SIZE + 1)
    if site:
        query = query.where(AuditEvent.site_id == site)
    if before_id:
        query = query.where(AuditEvent.id < before_id)
    events = list(db.session.execute(query).scalars())
    more = len(events) > PAGE_SIZE
    events = events[:PAGE_SIZE]
    return render_template(
        "admin/audit.html",
        events=events,
        site=site,
        sites=[s.id for s in svc.config.sites],
        next_before=events[-1].id if more else None,
    )


add_to_menu("Audit trail", "admin.audit", order=60)
