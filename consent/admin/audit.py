"""The audit trail: who changed what, when, on which site, from what to what.

Any area records an accountable change with :func:`record_audit`; legal (and admins) read the
trail on ``/admin/audit``.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import Connection

from consent.extensions import db
from consent.models import AuditEvent


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
