"""The audit trail: any area records who changed what, when, before and after."""

from __future__ import annotations

from consent.admin.audit import record_audit
from consent.extensions import db
from consent.models import AuditEvent


def test_record_audit_keeps_who_what_where_before_and_after(app):
    with app.app_context():
        record_audit("legal@mixvoip.test", "log.export", "voxbi.com", None, {"rows": 3})
        event = db.session.execute(db.select(AuditEvent)).scalar_one()
    assert (event.actor, event.action, event.site_id) == (
        "legal@mixvoip.test",
        "log.export",
        "voxbi.com",
    )
    assert event.before is None and event.after == {"rows": 3}
    assert event.created_at is not None
