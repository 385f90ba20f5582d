"""Generated consent decisions, for the opt-in statistics' tests, benchmark and demos.

The decisions follow a plausible mix (most visitors accept or refuse all, some choose per
partner, a few withdraw) spread over the past days. They are written as real, chained log
records (``ledger.build_row``), so ``verify`` still passes on a database that holds them.
Never point this at a production database: it is evidence of decisions nobody made.
"""

from __future__ import annotations

import datetime as dt
import random
import uuid
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

from sqlalchemy import select

from consent.ledger import GENESIS, Entry, Ledger, build_row
from consent.models import ChainHead, ConsentRecord

ACTIONS = ("accept_all", "refuse_all", "custom", "withdraw")
_WEIGHTS = (45, 35, 15, 5)


@dataclass(frozen=True)
class Decision:
    site: str
    action: str
    advertising: bool
    partners: dict[str, bool]
    created_at: dt.datetime


def decisions(
    sites: dict[str, Sequence[str]],
    count: int,
    *,
    days: int = 60,
    seed: int = 4,
    now: dt.datetime | None = None,
) -> list[Decision]:
    """``count`` decisions over ``sites`` (site → partner ids), oldest first, reproducible."""
    rng = random.Random(seed)
    end = (now or dt.datetime.now(dt.UTC)) - dt.timedelta(minutes=5)
    span = days * 86_400
    moments = sorted(rng.random() * span for _ in range(count))
    names = list(sites)
    made = []
    for offset in moments:
        site = rng.choice(names)
        action = rng.choices(ACTIONS, _WEIGHTS)[0]
        offered = sites[site]
        if action == "accept_all":
            partners = dict.fromkeys(offered, True)
        elif action == "custom":
            partners = {p: rng.random() < 0.5 for p in offered}
        else:
            partners = dict.fromkeys(offered, False)
        at = end - dt.timedelta(seconds=span - offset)
        made.append(Decision(site, action, any(partners.values()), partners, at))
    return made


def write(ledger: Ledger, made: Sequence[Decision], batch: int = 20_000) -> None:
    """Append ``made`` to the log as chained records, continuing each site's chain."""
    with ledger.exclusive() as connection:
        heads = {
            row.site_id: (row.seq, row.hash)
            for row in connection.execute(select(ChainHead.site_id, ChainHead.seq, ChainHead.hash))
        }
        for site in {d.site for d in made} - set(heads):
            connection.execute(
                ChainHead.__table__.insert(), {"site_id": site, "seq": 0, "hash": GENESIS}
            )
            heads[site] = (0, GENESIS)
        for chunk in _chunks(made, batch):
            rows = []
            for decision in chunk:
                seq, previous = heads[decision.site]
                row = build_row(_entry(decision), seq + 1, previous, decision.created_at)
                heads[decision.site] = (seq + 1, row["hash"])
                rows.append(row)
            connection.execute(ConsentRecord.__table__.insert(), rows)
        for site, (seq, digest) in heads.items():
            connection.execute(
                ChainHead.__table__.update()
                .where(ChainHead.site_id == site)
                .values(seq=seq, hash=digest, updated_at=dt.datetime.now(dt.UTC))
            )


def _entry(decision: Decision) -> Entry:
    return Entry(
        site_id=decision.site,
        consent_id=str(uuid.uuid4()),
        action=decision.action,
        categories={"technical": True, "advertising": decision.advertising},
        partners=decision.partners,
        revision=1,
        policy_version="2021-09-13",
        texts_hash="0" * 64,
        language="en",
        controller="sample data",
        gpc=False,
        lifetime_months=13 if decision.advertising else 6,
        user_agent={"browser": "Firefox", "os": "Linux", "device": "pc"},
        ip_prefix="192.0.2.0/24",
        page_url=f"https://www.{decision.site}/",
    )


def _chunks(items: Sequence[Decision], size: int) -> Iterator[Sequence[Decision]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]
