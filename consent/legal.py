"""Legal's tools on the consent log: verify (against a kept anchor), anchor, verify an export,
erase a visitor's personal fields, purge records past retention.

``verify`` here is the log's only verifier: the CLI, the admin's *Verify every chain now*, the
purge and the tests all check the chains with it.

The chain itself (canonical form, record hash, field digests) is ``consent/ledger.py``'s; this
module reads the log fast enough for millions of records (plain driver rows, no ORM types),
and does the maintenance that keeps the chain verifiable:

- *erasure* removes a personal field's value and its salt and keeps its digest, which is what
  the record's hash covers, so the record still verifies and shows as redacted;
- *purge* deletes the oldest records of a site (a prefix of its chain) and writes a checkpoint
  naming the last purged position and its hash, where verification of the rest starts;
- *IP ageing* erases IP prefixes older than the site's ``retention.ip_months`` (6 by default,
  as the data processing addendum does for dynamic IP addresses).

Like ``ledger.py`` this module knows nothing of Flask: it takes an engine (or the ledger, whose
write lock maintenance must hold) and plain values. The published algorithm an expert uses to
check an export without this code is ``docs/verification.md``.
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
from collections.abc import Callable, Iterable, Iterator, Mapping
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field, replace
from multiprocessing import get_context
from pathlib import Path
from typing import Any

import orjson
from sqlalchemy import Connection, Engine, create_engine, delete, func, null, select, update
from sqlalchemy.pool import NullPool

from consent.ledger import (
    CHAIN_VERSION,
    CHAINED_FIELDS,
    DIGEST_COLUMN,
    GENESIS,
    PERSONAL_FIELDS,
    SALT_COLUMN,
    Ledger,
    add_months,
    timestamp,
)
from consent.ledger_writes import JSON_COLUMNS, LOG_COLUMNS, TIME_COLUMNS
from consent.models import ChainCheckpoint, ChainHead, ConsentRecord

_log = ConsentRecord.__table__
_heads = ChainHead.__table__
_checkpoints = ChainCheckpoint.__table__

ANCHOR_FORMAT = "mixvoip-consent-anchor/1"
DEFAULT_RETENTION_YEARS = 5
DEFAULT_IP_MONTHS = 6

# Columns of a record as ``read_log`` gives them: the log's own columns.
_COLUMNS = ("id", *LOG_COLUMNS)
_NAME_BYTES = {name: b"\x1f" + name.encode() + b"\x1f" for name in PERSONAL_FIELDS}
# Rows fetched at a time: more saves nothing measurable, and each 1,000 rows in hand cost
# about 4 MB (PostgreSQL: 5,000 took the peak RSS of an export from 118 to 146 MB).
_BATCH = 1000


# --- reading the log fast ------------------------------------------------------------------


def _select_sql(dialect: str, columns: Iterable[str], where: str, order: str) -> str:
    parts = []
    for name in columns:
        if dialect == "postgresql" and name in JSON_COLUMNS:
            parts.append(f"{name}::text")
        elif dialect == "postgresql" and name in TIME_COLUMNS:
            parts.append(f"to_char({name} AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"')")
        else:
            parts.append(name)
    return f"SELECT {', '.join(parts)} FROM consent_log WHERE {where} ORDER BY {order}"


def _sqlite_time(value: str | None) -> str | None:
    """SQLite keeps ``2026-11-23 09:15:02.123456`` (UTC); the chain writes ``…T…Z``."""
    if value is None:
        return None
    if len(value) == 26 and value[10] == " " and value[19] == "." and "+" not in value:
        return value[:10] + "T" + value[11:] + "Z"  # the stored form, without the steps below
    value = value.replace(" ", "T", 1)
    if "+" in value[10:]:
        value = value[: value.index("+", 10)]
    if "." not in value:
        value += ".000000"
    return value + "Z"


def _bound_time(dialect: str, moment: dt.datetime) -> Any:
    """A time as a bound parameter compared with stored times (SQLite compares the text)."""
    if dialect == "postgresql":
        return moment
    if moment.tzinfo is not None:
        moment = moment.astimezone(dt.UTC).replace(tzinfo=None)
    return moment.strftime("%Y-%m-%d %H:%M:%S.%f")


def _batches(cursor: Any, sql: str, params: tuple[Any, ...]) -> Iterator[list[tuple[Any, ...]]]:
    try:
        cursor.execute(sql, params)
        while batch := cursor.fetchmany(_BATCH):
            yield batch
    finally:
        cursor.close()


def _postgresql_batches(
    connection: Connection, sql: str, params: tuple[Any, ...]
) -> Iterator[list[tuple[Any, ...]]]:
    # Per statement: Connection.execution_options would change the caller's connection.
    result = connection.exec_driver_sql(
        sql, params, execution_options={"stream_results": True, "yield_per": _BATCH}
    )
    with result:
        while batch := result.fetchmany(_BATCH):
            yield batch


def _where(
    dialect: str,
    *,
    site: str | None = None,
    after_seq: int | None = None,
    through_seq: int | None = None,
    since: dt.datetime | None = None,
    until: dt.datetime | None = None,
    action: str | None = None,
    consent_id: str | None = None,
    after: tuple[str, int] | None = None,
) -> tuple[str, tuple[Any, ...]]:
    """The WHERE clause (and its parameters) of the records the filters name."""
    mark = "%s" if dialect == "postgresql" else "?"
    where, params = ["1 = 1"], []
    for condition, value in (
        ("site_id = ", site),
        ("seq > ", after_seq),
        ("seq <= ", through_seq),
        ("created_at >= ", _bound_time(dialect, since) if since else None),
        ("created_at < ", _bound_time(dialect, until) if until else None),
        ("action = ", action),
        ("consent_id = ", consent_id),
    ):
        if value is not None:
            where.append(condition + mark)
            params.append(value)
    if after is not None:
        where.append(f"(site_id > {mark} OR (site_id = {mark} AND seq > {mark}))")
        params.extend((after[0], after[0], after[1]))
    return " AND ".join(where), tuple(params)


def log_extent(connection: Connection, **wanted: Any) -> list[tuple[str, int, int, int]]:
    """Per site, the first and last position and the count of the records ``wanted`` names
    (``read_values``' filters), in site order."""
    where, params = _where(connection.dialect.name, **wanted)
    sql = (
        f"SELECT site_id, min(seq), max(seq), count(*) FROM consent_log WHERE {where} "
        "GROUP BY site_id ORDER BY site_id"
    )
    return [tuple(row) for row in connection.exec_driver_sql(sql, params)]  # type: ignore[misc]


def read_values(
    connection: Connection,
    columns: tuple[str, ...],
    *,
    limit: int | None = None,
    **wanted: Any,
) -> Iterator[list[Any]]:
    """Records in chain order (site, position), each as the list of its ``columns``' values,
    timestamps as the chain writes them, JSON parsed: plain driver rows, streamed, for
    millions of records. The filters (``wanted``) are ``site``, ``after_seq`` and
    ``through_seq`` (positions), ``since`` and ``until`` (times), ``action``, ``consent_id``
    and ``after``, a keyset position (site, seq) to start after; ``limit`` caps the count."""
    dialect = connection.dialect.name
    where, params = _where(dialect, **wanted)
    order = "seq" if wanted.get("site") else "site_id, seq"
    sql = _select_sql(dialect, columns, where, order)
    if limit is not None:
        sql += f" LIMIT {int(limit)}"
    sqlite = dialect == "sqlite"
    batches: Iterable[list[tuple[Any, ...]]]
    if sqlite:
        # pysqlite reads row by row under SQLAlchemy's streaming; its own cursor in batches
        # is twice as fast, and SQLite streams from the file either way.
        batches = _batches(connection.connection.driver_connection.cursor(), sql, params)
    else:
        batches = _postgresql_batches(connection, sql, params)
    json_at = [i for i, name in enumerate(columns) if name in JSON_COLUMNS]
    time_at = [i for i, name in enumerate(columns) if sqlite and name in TIME_COLUMNS]
    gpc_at = columns.index("gpc") if sqlite and "gpc" in columns else None
    loads = orjson.loads
    to_time = _sqlite_time
    for batch in batches:
        for raw in batch:
            values = list(raw)
            for i in json_at:
                value = values[i]
                if value is not None:
                    values[i] = loads(value)
            for i in time_at:
                values[i] = to_time(values[i])
            if gpc_at is not None:
                values[gpc_at] = bool(values[gpc_at])
            yield values


def read_log(connection: Connection, **wanted: Any) -> Iterator[dict[str, Any]]:
    """Records in chain order (site, position) as plain dicts of the log's columns, with
    ``read_values``' filters (``site``, ``after_seq``, ``since``, ``after``, ``limit``…)."""
    columns = _COLUMNS
    for values in read_values(connection, columns, **wanted):
        yield dict(zip(columns, values, strict=True))


# --- checking one record -------------------------------------------------------------------


@dataclass(frozen=True)
class Break:
    """A place where the log is not what the chain says it should be."""

    site_id: str
    seq: int
    problem: str
    record_id: int | None = None
    consent_id: str | None = None

    def __str__(self) -> str:
        who = f" (id {self.record_id}, consent {self.consent_id})" if self.record_id else ""
        return f"{self.site_id} record #{self.seq}{who}: {self.problem}"


@dataclass
class ChainReport:
    """What verification found: records checked and head of each site's chain, and breaks."""

    records: dict[str, int] = field(default_factory=dict)
    heads: dict[str, tuple[int, str]] = field(default_factory=dict)
    breaks: list[Break] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.breaks

    @property
    def checked(self) -> int:
        return sum(self.records.values())


# The chained fields in the canonical (sorted) order, before "v" (which sorts after them):
# a record's hashed object is these names zipped with its values, then "v".
_HASHED = tuple(sorted(CHAINED_FIELDS))
assert _HASHED[-1] < "v"
# Read to check a record: the hashed fields, then its hash, id and personal values and salts.
_PERSONAL_COLUMNS = tuple(c for name in PERSONAL_FIELDS for c in (name, SALT_COLUMN[name]))
_CHECK_COLUMNS = (*_HASHED, "hash", "id", *_PERSONAL_COLUMNS)
_HASH_AT, _ID_AT = len(_HASHED), len(_HASHED) + 1
_PERSONAL_FROM = len(_HASHED) + 2
_DIGEST_KEYS = tuple((name, _NAME_BYTES[name], DIGEST_COLUMN[name]) for name in PERSONAL_FIELDS)


def record_problem(row: Mapping[str, Any]) -> str | None:
    """Why a record (timestamps as chain strings) does not match its digests or its hash."""
    hashed = {name: row[name] for name in _HASHED}
    return _problem(hashed, row["hash"], [row[c] for c in _PERSONAL_COLUMNS])


def _problem(hashed: dict[str, Any], digest: str, personal: list[Any]) -> str | None:
    """The check of one record: ``hashed`` its chained fields in canonical order (``v`` is
    added here), ``personal`` its personal values and salts in ``_PERSONAL_COLUMNS`` order."""
    sha256 = hashlib.sha256
    dumps = orjson.dumps
    sort = orjson.OPT_SORT_KEYS
    for index, (name, tag, digest_key) in enumerate(_DIGEST_KEYS):
        value, salt = personal[2 * index], personal[2 * index + 1]
        if salt is None:
            if value is not None:
                return f"its {name} was altered (a value without a salt)"
            continue
        if (
            sha256(salt.encode() + tag + dumps(value, option=sort)).hexdigest()
            != hashed[digest_key]
        ):
            return f"its {name} was altered (does not match its digest)"
    hashed["v"] = CHAIN_VERSION
    if sha256(dumps(hashed, option=sort)).hexdigest() != digest:
        return "its content was altered (does not match its hash)"
    return None


_UNLINKED = "does not link to the record before it (inserted, reordered or altered)"


@dataclass
class _Walk:
    """Following one chain record by record (shared by the log's and an export's checks)."""

    site: str
    expected_seq: int
    expected_prev: str
    strict: bool = True  # an export may leave records out (a filter); the log may not
    count: int = 0
    links: int = 0
    gaps: int = 0
    breaks: list[Break] = field(default_factory=list)
    first: tuple[int, str] | None = None  # (seq, prev_hash) of the first record seen
    anchored_seq: int | None = None
    anchored_hash: str | None = None

    def step(self, row: Mapping[str, Any], record_id: int | None = None) -> None:
        """Take the next record of an export (a mapping of its fields)."""
        self.advance(
            row["seq"],
            row["prev_hash"],
            row["hash"],
            row["consent_id"],
            record_id,
            record_problem(row),
        )

    def take(self, rows: Iterable[list[Any]]) -> None:
        """Take the next records of the log (``read_values`` rows of ``_CHECK_COLUMNS``)."""
        hashed_names = _HASHED
        hash_at, id_at, personal_from = _HASH_AT, _ID_AT, _PERSONAL_FROM
        for values in rows:
            hashed = dict(zip(hashed_names, values, strict=False))  # the first len(_HASHED)
            self.advance(
                hashed["seq"],
                hashed["prev_hash"],
                values[hash_at],
                hashed["consent_id"],
                values[id_at],
                _problem(hashed, values[hash_at], values[personal_from:]),
            )

    def advance(
        self,
        seq: int,
        prev_hash: str,
        digest: str,
        consent_id: str,
        record_id: int | None,
        own_problem: str | None,
    ) -> None:
        """One record: its place in the chain, then (if it is in place) its own check."""
        self.count += 1
        problem = None
        if self.first is None:
            self.first = (seq, prev_hash)
        if seq == self.anchored_seq:
            self.anchored_hash = digest
        if seq < self.expected_seq:
            problem = f"is out of place: #{self.expected_seq} was expected (inserted or reordered)"
        elif seq > self.expected_seq and self.strict:
            missing = self.expected_seq
            gap = f"#{missing}" if seq == missing + 1 else f"#{missing}–#{seq - 1}"
            problem = f"follows a gap: record {gap} is missing (deleted)"
        elif seq > self.expected_seq:
            self.gaps += 1
            problem = own_problem
        elif self.expected_prev is not None and prev_hash != self.expected_prev:
            problem = _UNLINKED
        else:
            self.links += 1
            problem = own_problem
        if problem:
            self.breaks.append(Break(self.site, seq, problem, record_id, consent_id))
        if seq >= self.expected_seq:
            self.expected_seq, self.expected_prev = seq + 1, digest


# --- verifying the log ---------------------------------------------------------------------


@dataclass(frozen=True)
class Anchor:
    """Chain heads written down at a moment, kept outside the database."""

    created_at: str
    heads: dict[str, tuple[int, str]]

    def to_json(self) -> dict[str, Any]:
        return {
            "format": ANCHOR_FORMAT,
            "created_at": self.created_at,
            "heads": {
                site: {"seq": seq, "hash": digest} for site, (seq, digest) in self.heads.items()
            },
        }

    @classmethod
    def from_json(cls, data: Any) -> Anchor:
        if not isinstance(data, dict) or data.get("format") != ANCHOR_FORMAT:
            raise ValueError(f'not an anchor (expected "format": "{ANCHOR_FORMAT}")')
        heads = {}
        for site, head in data.get("heads", {}).items():
            if not isinstance(head, dict) or not isinstance(head.get("seq"), int):
                raise ValueError(f"the anchor's head of {site!r} has no position")
            heads[site] = (head["seq"], str(head.get("hash", "")))
        return cls(str(data.get("created_at", "")), heads)


def anchor(engine: Engine) -> Anchor:
    """The current head (newest position and hash) of every site's chain, with the time."""
    with engine.connect() as connection:
        heads = {
            site: (seq, digest)
            for site, seq, digest in connection.execute(
                select(_heads.c.site_id, _heads.c.seq, _heads.c.hash).order_by(_heads.c.site_id)
            )
        }
    return Anchor(timestamp(dt.datetime.now(dt.UTC)), heads)


def _last_checkpoint(connection: Connection, site: str) -> tuple[int, str] | None:
    found = connection.execute(
        select(_checkpoints.c.through_seq, _checkpoints.c.hash)
        .where(_checkpoints.c.site_id == site)
        .order_by(_checkpoints.c.through_seq.desc())
        .limit(1)
    ).first()
    return (found[0], found[1]) if found else None


def chain_sites(connection: Connection) -> list[str]:
    known = {r for (r,) in connection.execute(select(_heads.c.site_id))}
    known |= {r for (r,) in connection.execute(select(_log.c.site_id).distinct())}
    known |= {r for (r,) in connection.execute(select(_checkpoints.c.site_id).distinct())}
    return sorted(known)


def verify(
    engine: Engine,
    sites: Iterable[str] | None = None,
    kept: Anchor | None = None,
    workers: int = 1,
) -> ChainReport:
    """Recompute every chain (and compare with a kept anchor); breaks in chain order.

    With ``workers`` > 1, long chains are cut into position ranges checked by that many
    processes (forked: only from a single-threaded process such as the CLI), and the ranges'
    ends are linked here, so the result is the same as a single pass.
    """
    report = ChainReport()
    wanted = list(sites) if sites else None
    pool = None
    try:
        with engine.connect() as connection:
            names = wanted or chain_sites(connection)
            if kept is not None and not wanted:
                names = sorted(set(names) | set(kept.heads))
            if workers > 1:
                pool = ProcessPoolExecutor(workers, mp_context=get_context("fork"))
            for site in names:
                _verify_site(connection, site, report, kept, pool, workers)
    finally:
        if pool is not None:
            pool.shutdown()
    return report


PARALLEL_MIN = 100_000  # records in a chain before it is worth cutting it into ranges


def _walk_range(
    url: str,
    site: str,
    after: int | None,
    through: int | None,
    start: tuple[int, str | None],
    anchored_seq: int | None,
) -> _Walk:
    """Check one range of a chain in a worker process (``start``: the position and previous
    hash expected first; an unknown hash leaves the first link to the caller)."""
    engine = create_engine(url, poolclass=NullPool)
    try:
        walk = _Walk(site, start[0], start[1], anchored_seq=anchored_seq)  # type: ignore[arg-type]
        with engine.connect() as connection:
            walk.take(
                read_values(
                    connection, _CHECK_COLUMNS, site=site, after_seq=after, through_seq=through
                )
            )
        return walk
    finally:
        engine.dispose()


def _walk_site(
    connection: Connection,
    site: str,
    start: tuple[int, str],
    anchored_seq: int | None,
    pool: ProcessPoolExecutor | None,
    workers: int,
) -> _Walk:
    lowest, highest, count = connection.execute(
        select(func.min(_log.c.seq), func.max(_log.c.seq), func.count()).where(
            _log.c.site_id == site
        )
    ).one()
    if pool is None or count < PARALLEL_MIN:
        walk = _Walk(site, start[0], start[1], anchored_seq=anchored_seq)
        walk.take(read_values(connection, _CHECK_COLUMNS, site=site))
        return walk
    url = connection.engine.url.render_as_string(hide_password=False)
    width = (highest - lowest + 1) // workers + 1
    bounds = [lowest - 1 + width * k for k in range(1, workers)]
    ranges = list(zip([None, *bounds], [*bounds, None], strict=True))
    parts = [
        pool.submit(
            _walk_range,
            url,
            site,
            after,
            through,
            start if after is None else (after + 1, None),
            anchored_seq,
        )
        for after, through in ranges
    ]
    walk = parts[0].result()
    for (after, _), future in zip(ranges[1:], parts[1:], strict=True):
        part = future.result()
        if part.first is None:
            continue  # an empty range: the next one's start shows the gap
        seq, prev = part.first
        link = None
        if seq == after + 1:  # a later start is already named by the range as a gap
            if walk.expected_seq <= after:
                missing = walk.expected_seq
                gap = f"#{missing}" if after == missing else f"#{missing}–#{after}"
                link = Break(site, seq, f"follows a gap: record {gap} is missing (deleted)")
            elif prev != walk.expected_prev:
                link = Break(site, seq, _UNLINKED)
        if link is not None:
            # A single pass names a record once, for the link before its content.
            if part.breaks and part.breaks[0].seq == seq:
                part.breaks[0] = replace(part.breaks[0], problem=link.problem)
            else:
                part.breaks.insert(0, link)
        walk.breaks.extend(part.breaks)
        walk.count += part.count
        walk.expected_seq, walk.expected_prev = part.expected_seq, part.expected_prev
        if part.anchored_hash is not None:
            walk.anchored_hash = part.anchored_hash
    walk.breaks.sort(key=lambda b: b.seq)
    return walk


def _read_head(connection: Connection, site: str) -> tuple[int, str] | None:
    head = connection.execute(
        select(_heads.c.seq, _heads.c.hash).where(_heads.c.site_id == site)
    ).first()
    return (head[0], head[1]) if head is not None else None


def _verify_site(
    connection: Connection,
    site: str,
    report: ChainReport,
    kept: Anchor | None,
    pool: ProcessPoolExecutor | None = None,
    workers: int = 1,
) -> None:
    checkpoint = _last_checkpoint(connection, site)
    start_seq, start_prev = (checkpoint[0] + 1, checkpoint[1]) if checkpoint else (1, GENESIS)
    anchored = kept.heads.get(site) if kept else None
    walk = _walk_site(
        connection, site, (start_seq, start_prev), anchored[0] if anchored else None, pool, workers
    )
    head = _read_head(connection, site)
    # On a live log, records and their head are committed together after the records were
    # read: a head ahead of them is followed by reading the records appended since.
    while head is not None and head[0] > walk.expected_seq - 1:
        counted = walk.count
        walk.take(
            read_values(connection, _CHECK_COLUMNS, site=site, after_seq=walk.expected_seq - 1)
        )
        if walk.count == counted:
            break
        head = _read_head(connection, site)
    newest = {anchored[0]: walk.anchored_hash} if anchored and walk.anchored_hash else {}
    report.records[site] = walk.count
    report.breaks.extend(walk.breaks)
    last_seq = walk.expected_seq - 1
    if head is None:
        if walk.count:
            report.breaks.append(Break(site, last_seq, "the site's chain head is missing"))
    else:
        report.heads[site] = (head[0], head[1])
        if head[0] != last_seq or head[1] != walk.expected_prev:
            report.breaks.append(
                Break(
                    site,
                    head[0],
                    f"the chain head says #{head[0]} is the newest record but the log ends at "
                    f"#{last_seq} (newest records deleted or head altered)",
                )
            )
    if anchored:
        seq, digest = anchored
        when = kept.created_at if kept else ""
        if checkpoint and seq <= checkpoint[0]:
            if seq == checkpoint[0] and digest != checkpoint[1]:
                report.breaks.append(
                    Break(site, seq, f"differs from the anchor of {when} (chain rewritten)")
                )
        elif seq not in newest:
            report.breaks.append(
                Break(
                    site,
                    seq,
                    f"is missing: the anchor of {when} names #{seq} but the log ends at "
                    f"#{last_seq} (newest records truncated)",
                )
            )
        elif newest[seq] != digest:
            report.breaks.append(
                Break(site, seq, f"differs from the anchor of {when} (chain rewritten)")
            )


# --- verifying an export on its own --------------------------------------------------------


@dataclass
class ExportReport:
    records: int = 0
    links: int = 0
    gaps: int = 0
    sites: dict[str, tuple[int, str]] = field(default_factory=dict)
    breaks: list[Break] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.breaks


def _csv_value(name: str, cell: str) -> Any:
    if cell.startswith("'"):
        cell = cell[1:]  # the export's spreadsheet guard (see consent/exports.py)
    if cell == "":
        return None
    if name in ("seq", "revision"):
        return int(cell)
    if name == "gpc":
        return cell == "true"
    if name in JSON_COLUMNS:
        return orjson.loads(cell)
    return cell


def export_rows(path: Path) -> Iterator[dict[str, Any]]:
    """The rows of an exported file (JSON Lines or CSV, told apart by the first byte)."""
    with path.open("r", encoding="utf-8", newline="") as stream:
        first = stream.read(1)
        stream.seek(0)
        if first == "{":
            for number, line in enumerate(stream, 1):
                if line.strip():
                    try:
                        yield orjson.loads(line)
                    except orjson.JSONDecodeError:
                        raise ValueError(f"line {number} is not JSON") from None
            return
        reader = csv.reader(stream)
        header = next(reader, None)
        if not header or "hash" not in header:
            raise ValueError("neither JSON Lines nor a CSV export of the consent log")
        for cells in reader:
            yield {name: _csv_value(name, cell) for name, cell in zip(header, cells, strict=True)}


def verify_export(path: Path, kept: Anchor | None = None, complete: bool = False) -> ExportReport:
    """Check every record of an export and every link between consecutive positions.

    A filtered export leaves gaps, which are counted; ``complete`` says the file claims to hold
    every record from its first, so a gap is a deleted record and the anchor's heads must be in
    it (a truncated file).
    """
    report = ExportReport()
    walks: dict[str, _Walk] = {}
    anchored_seen: dict[str, str] = {}
    for number, row in enumerate(export_rows(path), 1):
        try:
            row["site_id"] = row["site"]
            row["created_at"] = row["recorded_at"]
            site = row["site"]
            walk = walks.get(site)
            if walk is None:
                walk = walks[site] = _Walk(site, row["seq"], row["prev_hash"], strict=complete)
                if row["seq"] == 1 and row["prev_hash"] != GENESIS:
                    walk.expected_prev = GENESIS
            walk.step(row)
        except (KeyError, TypeError) as error:
            raise ValueError(f"record {number} lacks a field of the export ({error})") from None
        if kept and site in kept.heads and kept.heads[site][0] == row["seq"]:
            anchored_seen[site] = row["hash"]
    for site, walk in sorted(walks.items()):
        report.records += walk.count
        report.links += walk.links
        report.gaps += walk.gaps
        report.sites[site] = (walk.expected_seq - 1, walk.expected_prev)
        report.breaks.extend(walk.breaks)
    if kept:
        for site, (seq, digest) in sorted(kept.heads.items()):
            if site in anchored_seen and anchored_seen[site] != digest:
                report.breaks.append(
                    Break(site, seq, f"differs from the anchor of {kept.created_at}")
                )
            elif complete and site not in anchored_seen:
                last = report.sites.get(site, (0, ""))[0]
                report.breaks.append(
                    Break(
                        site,
                        seq,
                        f"is missing: the anchor of {kept.created_at} names #{seq} but the "
                        f"file ends at #{last} (truncated)",
                    )
                )
    return report


# --- erasure -------------------------------------------------------------------------------

_ERASED = {
    "user_agent": null(),
    "user_agent_salt": None,
    "ip_prefix": None,
    "ip_salt": None,
    "page_url": None,
    "page_url_salt": None,
}

Audit = Callable[..., None]


def erase(
    ledger: Ledger,
    consent_id: str,
    actor: str,
    *,
    site: str | None = None,
    audit: Audit | None = None,
) -> int:
    """Erase the personal fields of every record of ``consent_id``; return how many records.

    Values and salts go; digests stay, so every record still verifies. The audit event (if
    ``audit`` is given, ``record_audit``'s signature) joins the same transaction.
    """
    now = dt.datetime.now(dt.UTC)
    condition = _log.c.consent_id == consent_id
    if site:
        condition = condition & (_log.c.site_id == site)
    with ledger.exclusive() as connection:
        rows = connection.execute(
            select(_log.c.site_id, _log.c.seq).where(condition).order_by(_log.c.site_id)
        ).all()
        if not rows:
            return 0
        connection.execute(update(_log).where(condition).values(**_ERASED, redacted_at=now))
        if audit:
            audit(
                actor,
                "log.erase",
                site,
                None,
                {"records": len(rows), "fields": list(PERSONAL_FIELDS)},
                subject=consent_id,
                detail={"positions": [f"{s}#{q}" for s, q in rows]},
                connection=connection,
            )
    return len(rows)


# --- retention -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Retention:
    years: int = DEFAULT_RETENTION_YEARS
    ip_months: int = DEFAULT_IP_MONTHS


@dataclass
class SitePurge:
    site: str
    cutoff: str
    ip_cutoff: str
    purge_through: int | None = None  # last position removed (None: nothing to remove)
    purged: int = 0
    ended_at_hash: str | None = None
    ips_erased: int = 0
    refused: str | None = None  # why nothing was purged although records were due

    def to_json(self) -> dict[str, Any]:
        return {
            "site": self.site,
            "retention_cutoff": self.cutoff,
            "ip_cutoff": self.ip_cutoff,
            "purged": self.purged,
            "purged_through_seq": self.purge_through,
            "ended_at_hash": self.ended_at_hash,
            "ip_prefixes_erased": self.ips_erased,
            "refused": self.refused,
        }


def purge(
    ledger: Ledger,
    retention: Mapping[str, Retention],
    actor: str,
    *,
    now: dt.datetime | None = None,
    dry_run: bool = False,
    audit: Audit | None = None,
) -> list[SitePurge]:
    """Remove records past each site's retention and erase IP prefixes past ``ip_months``.

    Only a prefix of a chain is ever removed (every record before the first one still within
    retention), after verifying the site's chain: a tampered log is never purged into a
    checkpoint. The checkpoint names the last removed position and its hash, where the rest of
    the chain now starts. Sites missing from ``retention`` use the defaults.
    """
    now = now or dt.datetime.now(dt.UTC)
    results = []
    with ledger.exclusive() as connection:
        sites = sorted(set(chain_sites(connection)) | set(retention))
        for site in sites:
            rule = retention.get(site, Retention())
            cutoff = add_months(now, -12 * rule.years)
            ip_cutoff = add_months(now, -rule.ip_months)
            outcome = SitePurge(site, timestamp(cutoff), timestamp(ip_cutoff))
            _purge_site(connection, outcome, cutoff, dry_run, actor)
            aged = (
                (_log.c.site_id == site)
                & (_log.c.created_at < ip_cutoff)
                & (_log.c.ip_salt.is_not(None) | _log.c.ip_prefix.is_not(None))
            )
            if dry_run:
                outcome.ips_erased = connection.execute(
                    select(func.count()).select_from(_log).where(aged)
                ).scalar_one()
            else:
                outcome.ips_erased = connection.execute(
                    update(_log).where(aged).values(ip_prefix=None, ip_salt=None)
                ).rowcount
            results.append(outcome)
        if audit and not dry_run:
            audit(
                actor,
                "log.purge",
                None,
                None,
                {"purged": sum(r.purged for r in results)},
                detail=[r.to_json() for r in results],
                connection=connection,
            )
    return results


def _purge_site(
    connection: Connection, outcome: SitePurge, cutoff: dt.datetime, dry_run: bool, actor: str
) -> None:
    site = outcome.site
    mine = _log.c.site_id == site
    if connection.dialect.name == "postgresql":
        # Hold the site's writers (SQLite: the ledger's lock already does) so the head read
        # by the verification below is the one the records end at.
        connection.execute(select(_heads.c.seq).where(_heads.c.site_id == site).with_for_update())
    first_kept = connection.execute(
        select(func.min(_log.c.seq)).where(mine, _log.c.created_at >= cutoff)
    ).scalar_one()
    if first_kept is None:
        through = connection.execute(
            select(func.max(_log.c.seq)).where(mine, _log.c.created_at < cutoff)
        ).scalar_one()
    else:
        through = first_kept - 1
    checkpoint = _last_checkpoint(connection, site)
    if through is None or through <= (checkpoint[0] if checkpoint else 0):
        return
    ended = connection.execute(select(_log.c.hash).where(mine, _log.c.seq == through)).first()
    count = connection.execute(
        select(func.count()).select_from(_log).where(mine, _log.c.seq <= through)
    ).scalar_one()
    outcome.purge_through, outcome.purged = through, count
    outcome.ended_at_hash = ended[0] if ended else None
    report = ChainReport()
    _verify_site(connection, site, report, None)
    if report.breaks:
        outcome.refused = f"the chain does not verify: {report.breaks[0]}"
        outcome.purged = 0
        return
    if dry_run or ended is None:
        return
    connection.execute(delete(_log).where(mine, _log.c.seq <= through))
    connection.execute(
        _checkpoints.insert(),
        {
            "site_id": site,
            "through_seq": through,
            "hash": ended[0],
            "purged_count": count,
            "reason": f"retention: recorded before {outcome.cutoff}",
            "actor": actor,
            "created_at": dt.datetime.now(dt.UTC),
        },
    )


# --- one record in its chain ---------------------------------------------------------------


def place_problem(connection: Connection, row: Mapping[str, Any]) -> str | None:
    """Why one record (a ``read_log`` row) does not verify in place: its own hash and digests,
    the link from the record before it and the link to the record after it (or the head)."""
    own = record_problem(row)
    if own:
        return own
    site, seq = row["site_id"], row["seq"]
    mine = _log.c.site_id == site
    if seq == 1:
        before = GENESIS
    else:
        before = connection.execute(select(_log.c.hash).where(mine, _log.c.seq == seq - 1)).scalar()
        if before is None:
            checkpoint = connection.execute(
                select(_checkpoints.c.hash).where(
                    _checkpoints.c.site_id == site, _checkpoints.c.through_seq == seq - 1
                )
            ).scalar()
            if checkpoint is None:
                return f"the record before it (#{seq - 1}) is missing"
            before = checkpoint
    if row["prev_hash"] != before:
        return f"does not link to the record before it (#{seq - 1})"
    after = connection.execute(select(_log.c.prev_hash).where(mine, _log.c.seq == seq + 1)).scalar()
    if after is None:
        head = connection.execute(
            select(_heads.c.seq, _heads.c.hash).where(_heads.c.site_id == site)
        ).first()
        if head is None or head[0] != seq or head[1] != row["hash"]:
            return f"the record after it (#{seq + 1}) is missing"
    elif after != row["hash"]:
        return f"the record after it (#{seq + 1}) does not link to it"
    return None
