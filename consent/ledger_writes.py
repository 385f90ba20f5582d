"""The ledger's write transaction, at the database driver's level.

The writer holds the log's lock (the SQLite file lock and ``BEGIN IMMEDIATE``; on PostgreSQL
the row locks of the chain heads) for as short a time as it can: the rows are prepared before
the lock is taken (salts, digests, JSON), and inside it there are four statements, sent
straight to the driver (sqlite3 or psycopg) without SQLAlchemy's per-statement work. The
values are stored exactly as the ORM stores them (JSON text or JSONB, timestamps in SQLAlchemy's
SQLite format or as ``timestamptz``), so that everything else reads the rows through
SQLAlchemy as usual; tests hold the two paths to the same result.
"""

from __future__ import annotations

import contextlib
import datetime as dt
from collections.abc import Mapping, Sequence
from typing import Any

import orjson

LOG_COLUMNS = (
    "site_id",
    "seq",
    "consent_id",
    "action",
    "categories",
    "partners",
    "revision",
    "policy_version",
    "texts_hash",
    "language",
    "created_at",
    "expires_at",
    "controller",
    "gpc",
    "user_agent",
    "user_agent_salt",
    "user_agent_digest",
    "ip_prefix",
    "ip_salt",
    "ip_digest",
    "page_url",
    "page_url_salt",
    "page_url_digest",
    "redacted_at",
    "prev_hash",
    "hash",
)
JSON_COLUMNS = frozenset({"categories", "partners", "user_agent"})
TIME_COLUMNS = frozenset({"created_at", "expires_at", "redacted_at"})


def json_text(value: Any) -> str:
    """A JSON column's value as stored (``None`` is the JSON ``null``, as SQLAlchemy stores it)."""
    return orjson.dumps(value).decode()


def sqlite_time(moment: dt.datetime | None) -> str | None:
    """A timestamp as SQLAlchemy's SQLite ``DateTime`` stores it (UTC, no offset)."""
    if moment is None:
        return None
    if moment.tzinfo is not None:
        moment = moment.astimezone(dt.UTC).replace(tzinfo=None)
    # isoformat is strftime("%Y-%m-%d %H:%M:%S.%f") for every year from 1000 on, ten times faster.
    return moment.isoformat(" ", "microseconds")


class Dialect:
    """The statements of a write, for one driver."""

    name = ""
    mark = "?"

    def __init__(self) -> None:
        marks = ", ".join(self.column_marks())
        self.insert_log = f"INSERT INTO consent_log ({', '.join(LOG_COLUMNS)}) VALUES ({marks})"
        m = self.mark
        self.update_head = (
            f"UPDATE chain_heads SET seq = {m}, hash = {m}, updated_at = {m} WHERE site_id = {m}"
        )
        self.insert_head = (
            f"INSERT INTO chain_heads (site_id, seq, hash, updated_at) VALUES ({m}, 0, {m}, {m}) "
            "ON CONFLICT DO NOTHING"
        )
        # Each log column with the function that turns its row value into a parameter.
        self._converters = tuple(
            (c, self.json if c in JSON_COLUMNS else self.time if c in TIME_COLUMNS else None)
            for c in LOG_COLUMNS
        )

    def column_marks(self) -> list[str]:
        return [self.mark] * len(LOG_COLUMNS)

    def begin(self, cursor: Any) -> None:
        """Start the transaction (PostgreSQL's driver starts one at the first statement)."""

    def pipeline(self, raw: Any) -> contextlib.AbstractContextManager[Any]:
        """Where the statements that follow the heads' lock are sent together, if anywhere."""
        return contextlib.nullcontext()

    def select_heads(self, sites: Sequence[str]) -> tuple[str, tuple[Any, ...]]:
        raise NotImplementedError

    def store(
        self, cursor: Any, log_params: list[tuple[Any, ...]], head_params: list[tuple[Any, ...]]
    ) -> None:
        """Insert the log rows (``log_params``) and move the heads (seq, hash, updated, site)."""
        cursor.executemany(self.insert_log, log_params)
        cursor.executemany(self.update_head, head_params)

    def time(self, moment: dt.datetime | None) -> Any:
        return moment

    def json(self, value: Any) -> str:
        return json_text(value)

    def log_params(self, row: Mapping[str, Any]) -> tuple[Any, ...]:
        return tuple([row[c] if f is None else f(row[c]) for c, f in self._converters])


class SQLite(Dialect):
    name = "sqlite"

    def begin(self, cursor: Any) -> None:
        cursor.execute("BEGIN IMMEDIATE")

    def select_heads(self, sites: Sequence[str]) -> tuple[str, tuple[Any, ...]]:
        marks = ", ".join("?" * len(sites))
        return f"SELECT site_id, seq, hash FROM chain_heads WHERE site_id IN ({marks})", tuple(
            sites
        )

    def time(self, moment: dt.datetime | None) -> Any:
        return sqlite_time(moment)


class PostgreSQL(Dialect):
    name = "postgresql"
    mark = "%s"

    def __init__(self) -> None:
        super().__init__()
        # The batch as one JSON parameter (orjson, in C) read by one statement: one message and
        # one execution for the server instead of one per row (what executemany sends). The
        # table's own row type converts each field; a missing user agent stays the JSON null
        # the ORM stores (json_populate_recordset reads a JSON null as SQL NULL).
        values = ", ".join(
            f"coalesce(r.{c}, 'null'::jsonb)" if c in JSON_COLUMNS else f"r.{c}"
            for c in LOG_COLUMNS
        )
        self.insert_rows = (
            f"INSERT INTO consent_log ({', '.join(LOG_COLUMNS)}) "
            f"SELECT {values} FROM json_populate_recordset(NULL::consent_log, %s::json) AS r"
        )
        self.update_heads = (
            "UPDATE chain_heads AS h SET seq = m.seq, hash = m.hash, updated_at = m.updated_at "
            "FROM json_to_recordset(%s::json) "
            "AS m(seq bigint, hash text, updated_at timestamptz, site_id text) "
            "WHERE h.site_id = m.site_id"
        )

    def log_params(self, row: Mapping[str, Any]) -> Any:
        return {c: row[c] for c in LOG_COLUMNS}

    def store(self, cursor: Any, log_params: list[Any], head_params: list[tuple[Any, ...]]) -> None:
        cursor.execute(self.insert_rows, (orjson.dumps(log_params).decode(),))
        heads = [
            dict(zip(("seq", "hash", "updated_at", "site_id"), h, strict=True)) for h in head_params
        ]
        cursor.execute(self.update_heads, (orjson.dumps(heads).decode(),))

    def column_marks(self) -> list[str]:
        return ["%s::jsonb" if c in JSON_COLUMNS else "%s" for c in LOG_COLUMNS]

    def pipeline(self, raw: Any) -> contextlib.AbstractContextManager[Any]:
        # psycopg's pipeline mode: executemany rides it without a sync of its own, and leaving
        # it syncs once, so the batch costs one round trip after the heads are locked.
        return raw.driver_connection.pipeline()

    def select_heads(self, sites: Sequence[str]) -> tuple[str, tuple[Any, ...]]:
        # Locked in a fixed order, so that two writers of overlapping sites cannot deadlock.
        return (
            "SELECT site_id, seq, hash FROM chain_heads WHERE site_id = ANY(%s) "
            "ORDER BY site_id FOR UPDATE",
            (list(sites),),
        )


def dialect_for(name: str) -> Dialect:
    if name == "sqlite":
        return SQLite()
    if name == "postgresql":
        return PostgreSQL()
    raise ValueError(f"the consent log does not support the {name} database")


def lock_heads(
    dialect: Dialect, cursor: Any, sites: Sequence[str], now: dt.datetime
) -> dict[str, tuple[int, str]]:
    """Lock and read the chain heads of ``sites``, creating a genesis head for a new site."""
    from consent.ledger import GENESIS

    query, params = dialect.select_heads(sites)
    cursor.execute(query, params)
    heads = {site: (seq, digest) for site, seq, digest in cursor.fetchall()}
    missing = [site for site in sites if site not in heads]
    if missing:
        cursor.executemany(
            dialect.insert_head, [(site, GENESIS, dialect.time(now)) for site in missing]
        )
        query, params = dialect.select_heads(missing)
        cursor.execute(query, params)
        heads.update({site: (seq, digest) for site, seq, digest in cursor.fetchall()})
    return heads
