"""Helpers for the legal tests: a chain written with chosen times, and raw-SQL tampering."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import text

from consent.ledger import Entry, build_row
from consent.models import ChainHead, ConsentRecord

CONTROLLER = "MIXVOIP Sa, 70, rue des Prés, L-7333 Steinsel, Luxembourg"


def entry(site: str = "mixvoip.com", **changes: Any) -> Entry:
    values: dict[str, Any] = dict(
        site_id=site,
        consent_id="3f1c9f0e-8a7b-4c1d-9e2f-0a1b2c3d4e5f",
        action="refuse_all",
        categories={"technical": True, "advertising": False},
        partners={"google-ads": False},
        revision=1,
        policy_version="2021-09-13",
        texts_hash="a" * 64,
        language="en",
        controller=CONTROLLER,
        gpc=False,
        lifetime_months=6,
        user_agent={"browser": "Firefox 120", "os": "Linux", "device": "pc", "bot": False},
        ip_prefix="203.0.113.0/24",
        page_url="https://www.mixvoip.com/",
    )
    values.update(changes)
    return Entry(**values)


def write_chain(engine: Any, site: str, times: list[dt.datetime], **changes: Any) -> list[str]:
    """Append records at the given times (oldest first) to ``site``'s chain, as the ledger would
    have written them then; return their consent ids."""
    log, heads = ConsentRecord.__table__, ChainHead.__table__
    with engine.begin() as connection:
        head = connection.execute(
            text("SELECT seq, hash FROM chain_heads WHERE site_id = :s"), {"s": site}
        ).first()
        seq, prev = (head[0], head[1]) if head else (0, "0" * 64)
        rows = []
        for moment in times:
            consent_id = changes.get("consent_id") or f"00000000-0000-4000-8000-{seq + 1:012d}"
            values = {**changes, "consent_id": consent_id}
            row = build_row(entry(site, **values), seq + 1, prev, moment)
            rows.append(row)
            seq, prev = seq + 1, row["hash"]
        connection.execute(log.insert(), rows)
        if head:
            connection.execute(
                heads.update().where(heads.c.site_id == site).values(seq=seq, hash=prev)
            )
        else:
            connection.execute(
                heads.insert(),
                {"site_id": site, "seq": seq, "hash": prev, "updated_at": times[-1]},
            )
    return [r["consent_id"] for r in rows]


def sql(engine: Any, statement: str, **params: Any) -> None:
    with engine.begin() as connection:
        connection.execute(text(statement), params)


def ago(**delta: float) -> dt.datetime:
    return dt.datetime.now(dt.UTC) - dt.timedelta(**delta)
