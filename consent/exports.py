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

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import orjson
from sqlalchemy import Engine

from consent.legal import read_log

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
_FORMULA_FIRST = frozenset(_FORMULA_STARTS)
_BATCH = 500


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
    with engine.connect() as connection:
        for row in read_log(
            connection,
            site=wanted.site,
            since=wanted.since,
            until=wanted.until,
            action=wanted.action,
            consent_id=wanted.consent_id,
        ):
            yield _export_row(row)


def _export_row(row: dict[str, Any]) -> dict[str, Any]:
    """A row of ``read_log`` under the export's column names, in the export's order."""
    row["site"] = row["site_id"]
    row["recorded_at"] = row["created_at"]
    return {column: row[column] for column in COLUMNS}


def neutralise(cell: str) -> str:
    """Make a CSV cell inert in spreadsheets (reversible: drop one leading apostrophe)."""
    return "'" + cell if cell.startswith(_FORMULA_STARTS) else cell


_JSON_COLUMNS = frozenset({"categories", "partners", "user_agent"})


def _csv_cell(value: Any) -> str:
    if value is None:
        return ""
    if value is True:
        return "true"
    if value is False:
        return "false"
    if isinstance(value, dict | list):
        return neutralise(orjson.dumps(value, option=orjson.OPT_SORT_KEYS).decode())
    return neutralise(str(value))


# Cells that (almost) always hold commas or quotes are quoted whatever they hold.
_ALWAYS_QUOTED = frozenset({"controller", "categories", "partners", "user_agent"})


_IS_JSON = tuple(column in _JSON_COLUMNS for column in COLUMNS)


def _csv_row(row: dict[str, Any]) -> list[str]:
    cells = []
    append = cells.append
    first = _FORMULA_FIRST
    for value, is_json in zip(map(row.__getitem__, COLUMNS), _IS_JSON, strict=True):
        kind = value.__class__
        if is_json and value is not None:
            append(_csv_cell(value))  # canonical JSON, whatever the value's type
        elif kind is str:
            append("'" + value if value[:1] in first else value)
        elif value is None:
            append("")
        elif kind is int:
            append(str(value) if value >= 0 else "'" + str(value))
        elif kind is bool:
            append("true" if value else "false")
        else:
            append(_csv_cell(value))
    return cells


def _quoted(cell: str) -> str:
    """RFC 4180 quoting, as ``csv.writer`` does it (minimal), at a fraction of its cost."""
    if '"' in cell or "," in cell or "\n" in cell or "\r" in cell:
        return '"' + cell.replace('"', '""') + '"'
    return cell


_QUOTED_AT = tuple(i for i, column in enumerate(COLUMNS) if column in _ALWAYS_QUOTED)
_SEPARATORS = len(COLUMNS) - 1


def csv_line(row: dict[str, Any]) -> str:
    """One CSV line (RFC 4180, CRLF). The columns in ``_ALWAYS_QUOTED`` are quoted; the others
    only if they need it, found with one look at the whole line instead of one per cell."""
    cells = _csv_row(row)
    commas = quotes = 0
    for index in _QUOTED_AT:
        cell = cells[index]
        commas += cell.count(",")
        quotes += cell.count('"')
        cells[index] = '"' + cell.replace('"', '""') + '"'
    line = ",".join(cells)
    if (
        line.count(",") != _SEPARATORS + commas
        or line.count('"') != 2 * (quotes + len(_QUOTED_AT))
        or "\n" in line
        or "\r" in line
    ):
        cells = _csv_row(row)
        line = ",".join(
            '"' + cell.replace('"', '""') + '"' if i in _QUOTED_AT else _quoted(cell)
            for i, cell in enumerate(cells)
        )
    return line + "\r\n"


def csv_lines(rows: Iterator[dict[str, Any]]) -> Iterator[str]:
    yield ",".join(COLUMNS) + "\r\n"
    batch = []
    for row in rows:
        batch.append(csv_line(row))
        if len(batch) == _BATCH:
            yield "".join(batch)
            batch.clear()
    if batch:
        yield "".join(batch)


def jsonl_lines(rows: Iterator[dict[str, Any]]) -> Iterator[str]:
    batch = []
    for row in rows:
        batch.append(orjson.dumps(row))
        if len(batch) == _BATCH:
            yield (b"\n".join(batch) + b"\n").decode()
            batch.clear()
    if batch:
        yield (b"\n".join(batch) + b"\n").decode()


def lines(engine: Engine, wanted: LogFilter, fmt: str) -> Iterator[str]:
    """The export of the filtered log in ``fmt`` (``csv`` or ``jsonl``), line by line."""
    rows = records(engine, wanted)
    return csv_lines(rows) if fmt == "csv" else jsonl_lines(rows)


def export_filter(wanted: LogFilter) -> dict[str, str | None]:
    """The filter of an export, as the audit trail records it."""
    return {
        "site": wanted.site,
        "since": wanted.since.isoformat() if wanted.since else None,
        "until": wanted.until.isoformat() if wanted.until else None,
        "action": wanted.action,
        "consent_id": wanted.consent_id,
    }
