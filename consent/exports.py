"""Exports of the consent log as CSV or JSON Lines, streamed row by row in constant memory.

Every row names the controller, the policy version, the site's revision and the hash of the
banner texts shown, and carries the chain fields (position, digests, previous hash, hash) and
the salts, so that an exported file can be verified on its own with the published algorithm
(``docs/verification.md``).

CSV is safe to open in a spreadsheet: a cell that starts with ``= + - @``, a tab, a carriage
return or an apostrophe is prefixed with an apostrophe, so no cell is read as a formula. The
rule is reversible: drop the first apostrophe of any cell that starts with one.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import orjson
from sqlalchemy import Engine, select

from consent.ledger import timestamp
from consent.models import ConsentRecord

_log = ConsentRecord.__table__
FORMATS = ("csv", "jsonl")
COLUMNS = (
    "controller",
    "site",
    "seq",
    "consent_id",
    "action",
    "categories",
    "partners",
    "revision",
    "policy_version",
    "texts_hash",
    "language",
    "recorded_at",
    "expires_at",
    "gpc",
    "user_agent",
    "ip_prefix",
    "page_url",
    "redacted_at",
    "user_agent_salt",
    "ip_salt",
    "page_url_salt",
    "user_agent_digest",
    "ip_digest",
    "page_url_digest",
    "prev_hash",
    "hash",
)
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r", "'")
_BATCH = 2000


@dataclass(frozen=True)
class LogFilter:
    """Which records to read; every criterion is optional. ``until`` is exclusive."""

    site: str | None = None
    since: dt.datetime | None = None
    until: dt.datetime | None = None
    action: str | None = None
    consent_id: str | None = None


def records(engine: Engine, wanted: LogFilter) -> Iterator[dict[str, Any]]:
    """The matching records in chain order (site, then position), as export rows."""
    query = select(_log)
    if wanted.site:
        query = query.where(_log.c.site_id == wanted.site)
    if wanted.since:
        query = query.where(_log.c.created_at >= wanted.since)
    if wanted.until:
        query = query.where(_log.c.created_at < wanted.until)
    if wanted.action:
        query = query.where(_log.c.action == wanted.action)
    if wanted.consent_id:
        query = query.where(_log.c.consent_id == wanted.consent_id)
    query = query.order_by(_log.c.site_id, _log.c.seq)
    with engine.connect() as connection:
        result = connection.execution_options(stream_results=True, yield_per=_BATCH).execute(query)
        for row in result.mappings():
            yield _export_row(row)


def _export_row(row: Any) -> dict[str, Any]:
    redacted = row["redacted_at"]
    return {
        "controller": row["controller"],
        "site": row["site_id"],
        "seq": row["seq"],
        "consent_id": row["consent_id"],
        "action": row["action"],
        "categories": row["categories"],
        "partners": row["partners"],
        "revision": row["revision"],
        "policy_version": row["policy_version"],
        "texts_hash": row["texts_hash"],
        "language": row["language"],
        "recorded_at": timestamp(row["created_at"]),
        "expires_at": timestamp(row["expires_at"]),
        "gpc": row["gpc"],
        "user_agent": row["user_agent"],
        "ip_prefix": row["ip_prefix"],
        "page_url": row["page_url"],
        "redacted_at": timestamp(redacted) if redacted else None,
        "user_agent_salt": row["user_agent_salt"],
        "ip_salt": row["ip_salt"],
        "page_url_salt": row["page_url_salt"],
        "user_agent_digest": row["user_agent_digest"],
        "ip_digest": row["ip_digest"],
        "page_url_digest": row["page_url_digest"],
        "prev_hash": row["prev_hash"],
        "hash": row["hash"],
    }


def neutralise(cell: str) -> str:
    """Make a CSV cell inert in spreadsheets (reversible: drop one leading apostrophe)."""
    return "'" + cell if cell.startswith(_FORMULA_STARTS) else cell


def _csv_cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dict | list):
        return neutralise(orjson.dumps(value, option=orjson.OPT_SORT_KEYS).decode())
    return neutralise(str(value))


def csv_lines(rows: Iterator[dict[str, Any]]) -> Iterator[str]:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(COLUMNS)
    yield buffer.getvalue()
    for row in rows:
        buffer.seek(0)
        buffer.truncate()
        writer.writerow([_csv_cell(row[column]) for column in COLUMNS])
        yield buffer.getvalue()


def jsonl_lines(rows: Iterator[dict[str, Any]]) -> Iterator[str]:
    for row in rows:
        yield orjson.dumps(row).decode() + "\n"


def lines(engine: Engine, wanted: LogFilter, fmt: str) -> Iterator[str]:
    """The export of the filtered log in ``fmt`` (``csv`` or ``jsonl``), line by line."""
    rows = records(engine, wanted)
    return csv_lines(rows) if fmt == "csv" else jsonl_lines(rows)
