"""The admin: marketing's partner switches and opt-in rates, legal's log, accounts.

``bp`` is the one blueprint under ``/admin``. Each area is its own module that adds its routes
to ``bp`` and declares who may use them with :func:`consent.admin.access.requires`; the modules
are imported at the bottom of this file. ``docs/admin.md`` shows how to add one.
"""

from __future__ import annotations

from flask import Blueprint

from consent.extensions import db, login_manager
from consent.models import User

bp = Blueprint("admin", __name__, url_prefix="/admin")


@login_manager.user_loader
def _load_user(user_id: str) -> User | None:
    if not user_id.isdigit():
        return None
    user = db.session.get(User, int(user_id))
    return user if user is not None and user.active else None


# The areas register their routes on ``bp`` when imported; keep one import per area.
from consent.admin import (  # noqa: E402, F401
    access,
    audit,
    auth,
    charts,
    consent_log,
    dashboard,
    scans,
    sites,
    stats,
    users,
)
