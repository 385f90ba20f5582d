"""Exports of the consent log as CSV or JSON Lines, streamed row by row in constant memory.

Every row names the controller, the policy version, the site's revision and the hash of the
banner texts shown, and carries the chain fields (position, digests, previous hash, hash) and
the salts, so that an exported file can be verified on its own with the published algorithm
(``docs/verification.md``).

An export to a file (``export_file``) can be written by several processes at once, each
writing a run of consecutive records, joined in chain order into the file one pass writes.

CSV is safe to open in a spreadsheet: a cell that starts with ``= + - @``, a tab, a carriage
return or an apostrophe is prefixed with an apostrophe, so no cell is read as a formula. The
rule is reversible: drop the first apostrophe of any cell that starts with one.
"""

from __future__ import annotations

import datetime as dt
import os
import re
import shutil
from collections.abc import Callable, Iterator
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from multiprocessing import get_context
from operator import itemgetter
from pathlib import Path
from typing import Any, BinaryIO

import orjson
from sqlalchemy import Engine, create_engine
from sqlalchemy.pool import NullPool

from consent.legal import log_extent, read_values

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
# The log's column behind each of the export's columns, read in the export's order.
_READ = tuple({"site": "site_id", "recorded_at": "created_at"}.get(c, c) for c in COLUMNS)
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


def records(engine: Engine, wanted: LogFilter) -> Iterator[list[Any]]:
    """The matching records in chain order (site, then position), each as the list of its
    values in the export's column order (``COLUMNS``)."""
    with engine.connect() as connection:
        yield from read_values(connection, _READ, **_filters(wanted))


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


def _csv_row(row: list[Any]) -> list[str]:
    cells = []
    append = cells.append
    first = _FORMULA_FIRST
    for value, is_json in zip(row, _IS_JSON, strict=True):
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


# A cell starts right after a NUL when the cells are joined by one: where a formula could.
_FORMULA_AFTER_NUL = re.compile("\x00[=+\\-@\t\r']")
_PLANS: dict[tuple[type, ...], tuple[tuple[int, Callable[[Any], str]], ...]] = {}


def _plain_cells(row: list[Any]) -> list[str] | None:
    """``_csv_row`` for the usual record, where no cell needs the spreadsheet guard: each
    column converted by its value's type (a plan per set of types, made once); ``None`` when
    some cell starts like a formula, for ``_csv_row`` to decide cell by cell."""
    kinds = tuple(map(type, row))
    plan = _PLANS.get(kinds)
    if plan is None:
        plan = _PLANS[kinds] = _plan(kinds)
    cells = list(row)
    for index, convert in plan:
        cells[index] = convert(cells[index])
    if _FORMULA_AFTER_NUL.search("\x00" + "\x00".join(cells)):
        return None
    return cells


def _plan(kinds: tuple[type, ...]) -> tuple[tuple[int, Callable[[Any], str]], ...]:
    """How ``_csv_row`` turns values of these types into cells, but for the guard (which
    ``_plain_cells`` checks on the whole line): strings stay, the rest is converted."""
    plan: list[tuple[int, Callable[[Any], str]]] = []
    for index, (kind, is_json) in enumerate(zip(kinds, _IS_JSON, strict=True)):
        if kind is type(None):
            plan.append((index, _empty))
        elif is_json and kind is dict:
            plan.append((index, _json_cell))  # "{…}": never a formula
        elif is_json:
            plan.append((index, _csv_cell))
        elif kind is int:
            plan.append((index, str))  # a negative number starts with "-": the guard's case
        elif kind is bool:
            plan.append((index, _boolean))
        elif kind is not str:
            plan.append((index, _csv_cell))
    return tuple(plan)


def _json_cell(value: dict[str, Any]) -> str:
    return orjson.dumps(value, option=orjson.OPT_SORT_KEYS).decode()


def _empty(value: None) -> str:
    return ""


def _boolean(value: bool) -> str:
    return "true" if value else "false"


def _quoted(cell: str) -> str:
    """RFC 4180 quoting, as ``csv.writer`` does it (minimal), at a fraction of its cost."""
    if '"' in cell or "," in cell or "\n" in cell or "\r" in cell:
        return '"' + cell.replace('"', '""') + '"'
    return cell


_QUOTED_AT = tuple(i for i, column in enumerate(COLUMNS) if column in _ALWAYS_QUOTED)
_SEPARATORS = len(COLUMNS) - 1


_UNQUOTED = itemgetter(*(i for i in range(len(COLUMNS)) if i not in _QUOTED_AT))
_NEEDS_QUOTES = re.compile('[,"\r\n]')


def csv_line(row: list[Any]) -> str:
    """One CSV line (RFC 4180, CRLF) of a record's values in ``COLUMNS`` order. The columns in
    ``_ALWAYS_QUOTED`` are quoted; the others only if they need it, found with one look at
    them all instead of one per cell."""
    cells = _plain_cells(row) or _csv_row(row)
    if _NEEDS_QUOTES.search("".join(_UNQUOTED(cells))):
        return (
            ",".join(
                '"' + cell.replace('"', '""') + '"' if i in _QUOTED_AT else _quoted(cell)
                for i, cell in enumerate(cells)
            )
            + "\r\n"
        )
    for index in _QUOTED_AT:
        cell = cells[index]
        cells[index] = '"' + (cell.replace('"', '""') if '"' in cell else cell) + '"'
    return ",".join(cells) + "\r\n"


def csv_lines(rows: Iterator[list[Any]]) -> Iterator[str]:
    yield ",".join(COLUMNS) + "\r\n"
    yield from _csv_batches(rows)


def _csv_batches(rows: Iterator[list[Any]]) -> Iterator[str]:
    batch = []
    for row in rows:
        batch.append(csv_line(row))
        if len(batch) == _BATCH:
            yield "".join(batch)
            batch.clear()
    if batch:
        yield "".join(batch)


def jsonl_lines(rows: Iterator[list[Any]]) -> Iterator[str]:
    for chunk in _jsonl_batches(rows):
        yield chunk.decode()


def _jsonl_batches(rows: Iterator[list[Any]]) -> Iterator[bytes]:
    batch = []
    dumps = orjson.dumps
    for row in rows:
        batch.append(dumps(dict(zip(COLUMNS, row, strict=True))))
        if len(batch) == _BATCH:
            yield b"\n".join(batch) + b"\n"
            batch.clear()
    if batch:
        yield b"\n".join(batch) + b"\n"


def lines(engine: Engine, wanted: LogFilter, fmt: str) -> Iterator[str]:
    """The export of the filtered log in ``fmt`` (``csv`` or ``jsonl``), line by line."""
    rows = records(engine, wanted)
    return csv_lines(rows) if fmt == "csv" else jsonl_lines(rows)


# --- an export to a file, in parallel parts --------------------------------------------------

PARALLEL_MIN = 50_000  # records in an export before it is worth writing it in parts

Segment = tuple[str, int, int]  # a site's records after one position, through another


def export_file(engine: Engine, wanted: LogFilter, fmt: str, path: Path, workers: int = 1) -> int:
    """Write the export of the filtered log to ``path``; return how many records it holds.

    With ``workers`` > 1 a long export is cut into that many parts of consecutive records
    (runs of positions of a site), written at once by forked processes (only from a
    single-threaded process such as the CLI) and this one, then joined in chain order: the
    file is the one a single pass writes, byte for byte.
    """
    parts: list[list[Segment]] = []
    # Parts are files beside the export: only for a regular file (not a pipe or a device).
    if workers > 1 and (path.is_file() or not path.exists()):
        with engine.connect() as connection:
            extent = log_extent(connection, **_filters(wanted))
        if sum(count for *_, count in extent) >= PARALLEL_MIN:
            parts = _parts(extent, workers)
    if len(parts) < 2:
        with path.open("wb") as stream:
            return write_export(engine, wanted, fmt, stream)
    url = engine.url.render_as_string(hide_password=False)
    spare = [_part_path(path, index) for index in range(1, len(parts))]
    try:
        with ProcessPoolExecutor(len(parts) - 1, mp_context=get_context("fork")) as pool:
            later = [
                pool.submit(_write_part, url, wanted, fmt, segments, str(part))
                for segments, part in zip(parts[1:], spare, strict=True)
            ]
            with path.open("wb") as stream:
                count = _write(_segment_rows(engine, wanted, parts[0]), fmt, stream, header=True)
                for future, part in zip(later, spare, strict=True):
                    count += future.result()
                    _append(stream, part)
        return count
    finally:
        for part in spare:
            part.unlink(missing_ok=True)


def write_export(engine: Engine, wanted: LogFilter, fmt: str, stream: BinaryIO) -> int:
    """Write the export of the filtered log to ``stream`` in one pass; return the count."""
    return _write(records(engine, wanted), fmt, stream, header=True)


def _filters(wanted: LogFilter) -> dict[str, Any]:
    return {
        "site": wanted.site,
        "since": wanted.since,
        "until": wanted.until,
        "action": wanted.action,
        "consent_id": wanted.consent_id,
    }


def _parts(extent: list[tuple[str, int, int, int]], workers: int) -> list[list[Segment]]:
    """``workers`` runs of segments with about as many records each, in chain order, that
    together cover every position of ``extent`` once (records assumed spread evenly)."""
    total = sum(count for *_, count in extent)
    share = -(-total // max(workers, 1))
    parts: list[list[Segment]] = [[]]
    room = share
    for site, lowest, highest, count in extent:
        after = lowest - 1
        while count > 0:
            if room <= 0:
                parts.append([])
                room = share
            if count <= room:
                parts[-1].append((site, after, highest))
                room -= count
                break
            through = after + max(1, (highest - after) * room // count)
            parts[-1].append((site, after, through))
            count -= room
            after, room = through, 0
    return [part for part in parts if part]


def _segment_rows(
    engine: Engine, wanted: LogFilter, segments: list[Segment]
) -> Iterator[list[Any]]:
    filters = _filters(wanted)
    with engine.connect() as connection:
        for site, after, through in segments:
            filters.update(site=site, after_seq=after, through_seq=through)
            yield from read_values(connection, _READ, **filters)


def _write_part(url: str, wanted: LogFilter, fmt: str, segments: list[Segment], path: str) -> int:
    """Write one later part of a parallel export (in a worker process)."""
    engine = create_engine(url, poolclass=NullPool)
    try:
        with open(path, "wb") as stream:
            return _write(_segment_rows(engine, wanted, segments), fmt, stream, header=False)
    finally:
        engine.dispose()


def _write(rows: Iterator[list[Any]], fmt: str, stream: BinaryIO, *, header: bool) -> int:
    tally = [0]
    counted = _counting(rows, tally)
    if fmt == "csv":
        if header:
            stream.write((",".join(COLUMNS) + "\r\n").encode())
        for chunk in _csv_batches(counted):
            stream.write(chunk.encode())
    else:
        for data in _jsonl_batches(counted):
            stream.write(data)
    return tally[0]


def _counting(rows: Iterator[list[Any]], tally: list[int]) -> Iterator[list[Any]]:
    for row in rows:
        tally[0] += 1
        yield row


def _part_path(path: Path, index: int) -> Path:
    return path.with_name(f".{path.name}.part{index}-{os.getpid()}")


def _append(stream: BinaryIO, part: Path) -> None:
    """Append a written part to the export (in the kernel where it can)."""
    stream.flush()
    with part.open("rb") as source:
        size = os.fstat(source.fileno()).st_size
        offset = 0
        try:
            while offset < size:
                copied = os.copy_file_range(source.fileno(), stream.fileno(), size - offset)
                if not copied:
                    break
                offset += copied
        except OSError:
            pass  # not supported between these files: copy through Python below
        source.seek(offset)
        stream.seek(0, os.SEEK_END)
        shutil.copyfileobj(source, stream, 1 << 20)


def export_filter(wanted: LogFilter) -> dict[str, str | None]:
    """The filter of an export, as the audit trail records it."""
    return {
        "site": wanted.site,
        "since": wanted.since.isoformat() if wanted.since else None,
        "until": wanted.until.isoformat() if wanted.until else None,
        "action": wanted.action,
        "consent_id": wanted.consent_id,
    }
