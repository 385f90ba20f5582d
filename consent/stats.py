"""Opt-in statistics: decisions per day or week by action, advertising and per-partner rates.

The counting is done by the database. A daily rollup (``stats_daily`` and
``stats_partner_daily``) holds the counts of every log record up to a watermark;
:func:`roll_up` adds the records written since, and a query adds the few records newer than
the watermark straight from the log, so the figures are always current. Records join the rollup
only once they are :data:`SETTLE` old, so that a transaction still being committed (ids are
handed out before commit) is never skipped. Rolled-up counts are anonymous and stay when old
log records are purged.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from sqlalchemy import Connection, Engine, func, select, text
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import SQLAlchemyError

from consent.models import ConsentRecord, StatsDaily, StatsPartnerDaily, StatsRollup

log = logging.getLogger(__name__)

ACTIONS = ("accept_all", "refuse_all", "custom", "withdraw")
SETTLE = dt.timedelta(seconds=60)


# --- counting in SQL ---------------------------------------------------------------------

_SQL = {
    "sqlite": {
        "day": "substr(created_at, 1, 10)",
        "advertising": "coalesce(json_extract(categories, '$.advertising'), 0) = 1",
        # NOT INDEXED: walk the id range (rowid), not the whole site index in GROUP BY order.
        "log": "consent_log NOT INDEXED",
        "partners": "consent_log NOT INDEXED, json_each(consent_log.partners) AS p",
        "granted": "p.value = 1",
    },
    "postgresql": {
        "day": "(created_at AT TIME ZONE 'UTC')::date",
        "advertising": "coalesce((categories->>'advertising')::boolean, false)",
        "log": "consent_log",
        "partners": "consent_log, jsonb_each_text(consent_log.partners) AS p",
        "granted": "p.value = 'true'",
    },
}


def _decision_counts(connection: Connection, where: str, params: dict) -> list[tuple]:
    sql = _SQL[connection.dialect.name]
    query = text(
        f"SELECT site_id, {sql['day']} AS day, action, count(*) AS n, "
        f"sum(CASE WHEN {sql['advertising']} THEN 1 ELSE 0 END) AS adv "
        f"FROM {sql['log']} WHERE {where} GROUP BY site_id, {sql['day']}, action"
    )
    return [
        (r[0], _date(r[1]), r[2], int(r[3]), int(r[4])) for r in connection.execute(query, params)
    ]


def _partner_counts(connection: Connection, where: str, params: dict) -> list[tuple]:
    sql = _SQL[connection.dialect.name]
    query = text(
        f"SELECT site_id, {sql['day']} AS day, p.key AS partner, count(*) AS n, "
        f"sum(CASE WHEN {sql['granted']} THEN 1 ELSE 0 END) AS granted "
        f"FROM {sql['partners']} WHERE {where} GROUP BY site_id, {sql['day']}, p.key"
    )
    return [
        (r[0], _date(r[1]), r[2], int(r[3]), int(r[4])) for r in connection.execute(query, params)
    ]


def _date(value: object) -> dt.date:
    return value if isinstance(value, dt.date) else dt.date.fromisoformat(str(value)[:10])


# --- the rollup ----------------------------------------------------------------------------


def roll_up(engine: Engine, now: dt.datetime | None = None) -> int:
    """Add the log records written since the last rollup (and settled) to the daily counts.

    Returns how many records were added. Safe to call from several workers at once: the
    watermark moves by compare-and-set, and a worker that loses the race adds nothing.
    """
    settled = (now or dt.datetime.now(dt.UTC)) - SETTLE
    with engine.begin() as connection:
        low = _watermark(connection)
        _quick(connection)
        # Walks back from the newest record over the unsettled ones only (primary key).
        high = connection.execute(
            select(ConsentRecord.id)
            .where(ConsentRecord.id > low, ConsentRecord.created_at < settled)
            .order_by(ConsentRecord.id.desc())
            .limit(1)
        ).scalar()
        if high is None or high <= low:
            return 0
        moved = connection.execute(
            StatsRollup.__table__.update()
            .where(StatsRollup.id == 1, StatsRollup.last_id == low)
            .values(last_id=high, updated_at=dt.datetime.now(dt.UTC))
        )
        if moved.rowcount != 1:
            return 0
        params = {"low": low, "high": high}
        where = "consent_log.id > :low AND consent_log.id <= :high"
        decisions = _decision_counts(connection, where, params)
        _add(
            connection,
            StatsDaily.__table__,
            ("site_id", "day", "action"),
            ("decisions", "advertising_granted"),
            decisions,
        )
        _add(
            connection,
            StatsPartnerDaily.__table__,
            ("site_id", "day", "partner_id"),
            ("offered", "granted"),
            _partner_counts(connection, where, params),
        )
        return sum(row[3] for row in decisions)


def _quick(connection: Connection) -> None:
    """PostgreSQL: no JIT for these short queries (compiling would cost more than running)."""
    if connection.dialect.name == "postgresql":
        connection.execute(text("SET LOCAL jit = off"))


def _watermark(connection: Connection) -> int:
    low = connection.execute(select(StatsRollup.last_id).where(StatsRollup.id == 1)).scalar()
    if low is None:
        dialect = postgresql if connection.dialect.name == "postgresql" else sqlite
        connection.execute(
            dialect.insert(StatsRollup.__table__).on_conflict_do_nothing(),
            {"id": 1, "last_id": 0, "updated_at": dt.datetime.now(dt.UTC)},
        )
        low = connection.execute(select(StatsRollup.last_id).where(StatsRollup.id == 1)).scalar()
    return int(low or 0)


def _add(connection: Connection, table, keys: tuple, counts: tuple, rows: list[tuple]) -> None:
    if not rows:
        return
    dialect = postgresql if connection.dialect.name == "postgresql" else sqlite
    statement = dialect.insert(table)
    statement = statement.on_conflict_do_update(
        index_elements=list(keys),
        set_={name: table.c[name] + statement.excluded[name] for name in counts},
    )
    connection.execute(statement, [dict(zip(keys + counts, row, strict=True)) for row in rows])


# --- reading -------------------------------------------------------------------------------


@dataclass
class Period:
    start: dt.date
    by_action: dict[str, int] = field(default_factory=lambda: dict.fromkeys(ACTIONS, 0))
    advertising_granted: int = 0

    @property
    def decisions(self) -> int:
        return sum(self.by_action.values())

    @property
    def advertising_rate(self) -> float | None:
        return self.advertising_granted / self.decisions if self.decisions else None


@dataclass(frozen=True)
class PartnerRate:
    partner_id: str
    offered: int
    granted: int

    @property
    def rate(self) -> float | None:
        return self.granted / self.offered if self.offered else None


@dataclass(frozen=True)
class OptInStats:
    sites: tuple[str, ...]
    since: dt.date
    until: dt.date
    by: str
    periods: list[Period]
    partners: list[PartnerRate]

    @property
    def decisions(self) -> int:
        return sum(p.decisions for p in self.periods)

    @property
    def advertising_granted(self) -> int:
        return sum(p.advertising_granted for p in self.periods)

    @property
    def advertising_rate(self) -> float | None:
        return self.advertising_granted / self.decisions if self.decisions else None

    def total(self, action: str) -> int:
        return sum(p.by_action[action] for p in self.periods)


def opt_in_stats(
    engine: Engine,
    sites: Iterable[str],
    *,
    days: int = 90,
    by: str = "day",
    today: dt.date | None = None,
    roll: bool = True,
) -> OptInStats:
    """The figures of ``sites`` over the last ``days`` days (today included), per day or week.

    The rollup is brought up to date first (``roll=True``); if that fails (the database is
    busy), the figures are still complete, counted from the log above the old watermark.
    """
    if roll:
        try:
            roll_up(engine)
        except SQLAlchemyError as error:
            log.warning("opt-in rollup skipped: %s", error)
    sites = tuple(sites)
    until = today or dt.datetime.now(dt.UTC).date()
    since = until - dt.timedelta(days=days - 1)
    with engine.connect() as connection:
        _quick(connection)
        low = _watermark_read(connection)
        decisions = _rolled(
            connection, StatsDaily, ("action", "decisions", "advertising_granted"), sites, since
        )
        partners = _rolled(
            connection, StatsPartnerDaily, ("partner_id", "offered", "granted"), sites, since
        )
        tail_params = {"low": low}
        tail_where = "consent_log.id > :low"
        decisions += [
            r[1:]
            for r in _decision_counts(connection, tail_where, tail_params)
            if r[0] in sites and r[1] >= since
        ]
        partners += [
            r[1:]
            for r in _partner_counts(connection, tail_where, tail_params)
            if r[0] in sites and r[1] >= since
        ]
    return OptInStats(
        sites, since, until, by, _periods(decisions, since, until, by), _partner_rates(partners)
    )


def _watermark_read(connection: Connection) -> int:
    return int(
        connection.execute(select(StatsRollup.last_id).where(StatsRollup.id == 1)).scalar() or 0
    )


def _rolled(
    connection: Connection, model, columns: tuple[str, str, str], sites: tuple, since: dt.date
) -> list[tuple]:
    key, first, second = (getattr(model, name) for name in columns)
    query = (
        select(model.day, key, func.sum(first), func.sum(second))
        .where(model.site_id.in_(sites), model.day >= since)
        .group_by(model.day, key)
    )
    return [(_date(r[0]), r[1], int(r[2]), int(r[3])) for r in connection.execute(query)]


def period_start(day: dt.date, by: str) -> dt.date:
    return day - dt.timedelta(days=day.weekday()) if by == "week" else day


def _periods(rows: list[tuple], since: dt.date, until: dt.date, by: str) -> list[Period]:
    periods: dict[dt.date, Period] = {}
    day = since
    while day <= until:  # every period, also those without a decision
        start = period_start(day, by)
        periods.setdefault(start, Period(start))
        day += dt.timedelta(days=1)
    for day, action, count, advertising in rows:
        period = periods[period_start(day, by)]
        period.by_action[action] = period.by_action.get(action, 0) + count
        period.advertising_granted += advertising
    return [periods[start] for start in sorted(periods)]


def _partner_rates(rows: list[tuple]) -> list[PartnerRate]:
    totals: Mapping[str, list[int]] = defaultdict(lambda: [0, 0])
    for _day, partner, offered, granted in rows:
        totals[partner][0] += offered
        totals[partner][1] += granted
    return [PartnerRate(p, o, g) for p, (o, g) in sorted(totals.items())]
