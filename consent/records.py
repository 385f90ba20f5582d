"""Reading the consent log: one visitor's history, as the visitor or legal may see it."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Engine, select

from consent.ledger import timestamp
from consent.models import ConsentRecord

_log = ConsentRecord.__table__


def history(engine: Engine, consent_id: str, site_id: str | None = None) -> list[dict[str, Any]]:
    """Every decision recorded under ``consent_id`` (on ``site_id``), oldest first."""
    query = select(_log).where(_log.c.consent_id == consent_id)
    if site_id is not None:
        query = query.where(_log.c.site_id == site_id)
    with engine.connect() as connection:
        rows = connection.execute(query.order_by(_log.c.site_id, _log.c.seq)).mappings().all()
    return [
        {
            "site": r["site_id"],
            "seq": r["seq"],
            "action": r["action"],
            "categories": r["categories"],
            "partners": r["partners"],
            "revision": r["revision"],
            "language": r["language"],
            "policy_version": r["policy_version"],
            "texts_hash": r["texts_hash"],
            "recorded_at": timestamp(r["created_at"]),
            "expires_at": timestamp(r["expires_at"]),
            "gpc": r["gpc"],
            "hash": r["hash"],
        }
        for r in rows
    ]
