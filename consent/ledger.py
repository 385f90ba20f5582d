"""The consent log: append with group commit, hash chain per site.

Every record is covered by the chain from the moment the API acknowledges it: the record's
SHA-256 is computed over a canonical form (``canonical``) that includes the previous record's
hash, inside the same transaction that inserts it and moves the site's chain head. One chain
per site means that writers for different sites never wait on each other's lock.

Personal fields (the reduced user agent, the truncated IP address, the page URL) are not
hashed directly: each is committed to by a salted digest, and the chain covers the digest.
Erasing a field removes its value and its salt and keeps the digest, so the chain still
verifies after a visitor's erasure request or the ageing-out of IP addresses, while the
digest alone cannot be brute-forced back to the value.

Writes are grouped: request threads hand their entry to one writer thread per process, which
commits everything waiting in one transaction and then wakes the requests. A request is
answered only after the commit that contains its record (no acknowledgement before
durability). On SQLite, writer processes also queue on a file lock beside the database, so
that they wait in the kernel instead of in SQLite's sleeping busy handler.

The chain is checked by ``consent/legal.py``'s ``verify`` (the one verifier, with anchors,
checkpoints and parallel ranges), from the algorithm published here (``canonical``,
``field_digest``, ``record_hash``) and in ``docs/verification.md``.

This module knows nothing of Flask: it takes an engine URL and plain values.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import fcntl
import hashlib
import logging
import os
import queue
import secrets
import threading
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

import orjson
from sqlalchemy import Connection, Engine, create_engine

from consent.database import configure_engine, engine_options, sqlite_path
from consent.ledger_writes import Dialect, dialect_for, lock_heads

log = logging.getLogger(__name__)

GENESIS = "0" * 64
CHAIN_VERSION = 1
PERSONAL_FIELDS = ("user_agent", "ip_prefix", "page_url")
SALT_COLUMN = {
    "user_agent": "user_agent_salt",
    "ip_prefix": "ip_salt",
    "page_url": "page_url_salt",
}
DIGEST_COLUMN = {
    "user_agent": "user_agent_digest",
    "ip_prefix": "ip_digest",
    "page_url": "page_url_digest",
}
# The fields of a record that its hash covers, in addition to "v" (the chain version).
CHAINED_FIELDS = (
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
    "user_agent_digest",
    "ip_digest",
    "page_url_digest",
    "prev_hash",
)

# The chained fields that are hashed as stored; the two timestamps are hashed as strings.
_CHAINED_VALUES = tuple(name for name in CHAINED_FIELDS if name not in ("created_at", "expires_at"))


class LedgerUnavailable(Exception):
    """The record could not be written (database down, locked or too slow); nothing was kept."""


@dataclass(frozen=True)
class Entry:
    """A decision to append, as plain values already validated and minimised by the caller."""

    site_id: str
    consent_id: str
    action: str
    categories: Mapping[str, bool]
    partners: Mapping[str, bool]
    revision: int
    policy_version: str
    texts_hash: str
    language: str
    controller: str
    gpc: bool
    lifetime_months: int
    user_agent: Mapping[str, Any] | None = None
    ip_prefix: str | None = None
    page_url: str | None = None


@dataclass(frozen=True)
class Appended:
    """What the caller learns once its record is committed."""

    site_id: str
    seq: int
    consent_id: str
    created_at: dt.datetime
    expires_at: dt.datetime
    hash: str


# --- the published algorithm -------------------------------------------------------------


def canonical(value: Any) -> bytes:
    """JSON with sorted keys, no whitespace, UTF-8 without escaping: the bytes that are hashed.

    Identical to ``json.dumps(value, sort_keys=True, separators=(",", ":"),
    ensure_ascii=False).encode()`` for the values a record holds (strings, integers, booleans,
    null, and objects and arrays of them); a test holds the two to that.
    """
    return orjson.dumps(value, option=orjson.OPT_SORT_KEYS)


def timestamp(moment: dt.datetime) -> str:
    """A UTC instant as the chain writes it: ``2026-11-23T09:15:02.123456Z``."""
    if moment.tzinfo is not None:
        moment = moment.astimezone(dt.UTC).replace(tzinfo=None)
    # isoformat is strftime("%Y-%m-%dT%H:%M:%S.%f") for every year from 1000 on, ten times faster.
    return moment.isoformat(timespec="microseconds") + "Z"


def field_digest(salt: str, name: str, value: Any) -> str:
    """The commitment to one personal field: SHA-256 of ``salt 0x1f name 0x1f canonical(value)``."""
    return hashlib.sha256(
        salt.encode() + b"\x1f" + name.encode() + b"\x1f" + canonical(value)
    ).hexdigest()


def record_hash(fields: Mapping[str, Any]) -> str:
    """SHA-256 of the canonical form of a record's chained fields (timestamps as strings)."""
    body = {name: fields[name] for name in CHAINED_FIELDS}
    body["v"] = CHAIN_VERSION
    return hashlib.sha256(canonical(body)).hexdigest()


def add_months(moment: dt.datetime, months: int) -> dt.datetime:
    """The same day ``months`` later, clamped to the end of a shorter month."""
    month_index = moment.month - 1 + months
    year, month = moment.year + month_index // 12, month_index % 12 + 1
    for day in range(moment.day, 27, -1):
        try:
            return moment.replace(year=year, month=month, day=day)
        except ValueError:
            continue
    return moment.replace(year=year, month=month, day=min(moment.day, 28))


# --- appending --------------------------------------------------------------------------


def build_row(entry: Entry, seq: int, prev_hash: str, created_at: dt.datetime) -> dict[str, Any]:
    """The database row for ``entry`` at position ``seq``, with its digests and hash."""
    return link_row(unlinked_row(entry), seq, prev_hash, created_at, entry.lifetime_months)


def unlinked_row(entry: Entry) -> dict[str, Any]:
    """Everything of ``entry``'s row that does not depend on its place in the chain.

    The salts and digests of the personal fields are made here, so that the writer can do
    this before it takes the chain's lock; ``link_row`` then adds position, time and hash.
    """
    row: dict[str, Any] = {
        "site_id": entry.site_id,
        "consent_id": entry.consent_id,
        "action": entry.action,
        "categories": dict(entry.categories),
        "partners": dict(entry.partners),
        "revision": entry.revision,
        "policy_version": entry.policy_version,
        "texts_hash": entry.texts_hash,
        "language": entry.language,
        "controller": entry.controller,
        "gpc": entry.gpc,
        "redacted_at": None,
    }
    salts = secrets.token_hex(16 * len(PERSONAL_FIELDS))  # one draw: 32 hex digits per field
    for index, name in enumerate(PERSONAL_FIELDS):
        value = getattr(entry, name)
        value = dict(value) if isinstance(value, Mapping) else value
        salt = salts[32 * index : 32 * (index + 1)]
        row[name] = value
        row[SALT_COLUMN[name]] = salt
        row[DIGEST_COLUMN[name]] = field_digest(salt, name, value)
    return row


def link_row(
    unlinked: Mapping[str, Any],
    seq: int,
    prev_hash: str,
    created_at: dt.datetime,
    lifetime_months: int,
) -> dict[str, Any]:
    """``unlinked`` placed at ``seq`` after ``prev_hash`` at ``created_at``, with its hash."""
    expires_at = add_months(created_at, lifetime_months)
    row = dict(unlinked, seq=seq, prev_hash=prev_hash, created_at=created_at, expires_at=expires_at)
    # record_hash's body, built straight from the row (the writer links every record it commits).
    body = {name: row[name] for name in _CHAINED_VALUES}
    body["created_at"] = timestamp(created_at)
    body["expires_at"] = timestamp(expires_at)
    body["v"] = CHAIN_VERSION
    row["hash"] = hashlib.sha256(canonical(body)).hexdigest()
    return row


class _Pending:
    """One request waiting for the writer: queued → claimed (being written) → done.

    The request thread waits on a lock that is created held and that the writer releases once
    the outcome is known: one C call on each side, where an ``Event`` costs a ``Condition``,
    a waiter lock and a notification per request.
    """

    __slots__ = ("entry", "_lock", "_done", "_state", "value", "error")

    def __init__(self, entry: Entry) -> None:
        self.entry = entry
        self._lock = threading.Lock()
        self._done = threading.Lock()
        self._done.acquire()
        self._state = "queued"
        self.value: Appended | None = None
        self.error: Exception | None = None

    def _move(self, from_state: str, to_state: str) -> bool:
        with self._lock:
            if self._state != from_state:
                return False
            self._state = to_state
            return True

    def claim(self) -> bool:
        return self._move("queued", "claimed")

    def settle(self, value: Appended | None, error: Exception | None) -> None:
        self.value, self.error = value, error
        self._done.release()

    def wait(self, timeout: float) -> Appended:
        if not self._done.acquire(timeout=timeout):
            if self._move("queued", "cancelled"):
                raise LedgerUnavailable("the consent log did not accept the record in time")
            # Already inside a transaction: its outcome decides, never a guess.
            if not self._done.acquire(timeout=max(timeout, 60.0)):
                raise LedgerUnavailable("the consent log did not confirm the record in time")
        if self.error is not None:
            raise self.error
        assert self.value is not None
        return self.value


_STOP: Any = object()


@dataclass
class WriterStats:
    """What this process's writer has done: batches and records committed, records in hand."""

    batches: int = 0
    records: int = 0
    writing: int = 0


@dataclass
class _Writer:
    thread: threading.Thread
    pid: int


class Ledger:
    """Appends records to the consent log through one group-committing writer per process."""

    def __init__(self, database_url: str, *, timeout: float = 10.0, max_batch: int = 512):
        options = engine_options(database_url)
        if not database_url.startswith("sqlite"):
            # The writer's connection is tested by its first statement instead of a ping per
            # batch: a write that finds its connection dead before COMMIT is retried once.
            options.update(pool_size=2, max_overflow=2, pool_pre_ping=False)
        self.engine: Engine = configure_engine(
            create_engine(database_url, **options), begin="BEGIN IMMEDIATE"
        )
        path = sqlite_path(database_url)
        self._lock_path = path.with_name(path.name + ".lock") if path else None
        self._timeout = timeout
        self._max_batch = max_batch
        self._queue: queue.SimpleQueue[_Pending] = queue.SimpleQueue()
        self._writer: _Writer | None = None
        self._start_lock = threading.Lock()
        self._lock_fd: int | None = None
        self._dialect = dialect_for(self.engine.dialect.name)
        self.stats = WriterStats()

    def append(self, entry: Entry) -> Appended:
        """Write ``entry`` and return once it is committed; raise :class:`LedgerUnavailable`."""
        pending = _Pending(entry)
        self._ensure_writer()
        self._queue.put(pending)
        return pending.wait(self._timeout)

    def append_many(self, entries: list[Entry]) -> list[Appended]:
        """Write several entries in one transaction, in this thread (imports, benchmarks)."""
        return self._write(entries)

    @contextlib.contextmanager
    def exclusive(self) -> Iterator[Connection]:
        """A transaction holding the log's write lock, for maintenance (purge, erasure)."""
        with self._file_lock(), self.engine.begin() as connection:
            yield connection

    def close(self) -> None:
        """Stop this process's writer once the queued records are written; release connections."""
        writer = self._writer
        if writer is not None and writer.pid == os.getpid() and writer.thread.is_alive():
            self._queue.put(_STOP)
            writer.thread.join(timeout=30)
        self._writer = None
        self.engine.dispose()

    # -- the writer thread ----------------------------------------------------------------

    def _ensure_writer(self) -> None:
        writer = self._writer
        if writer is not None and writer.pid == os.getpid() and writer.thread.is_alive():
            return
        with self._start_lock:
            writer = self._writer
            if writer is None or writer.pid != os.getpid() or not writer.thread.is_alive():
                if writer is not None and writer.pid != os.getpid():
                    # Forked: the parent's queue, lock and pooled connections are not ours.
                    self._queue = queue.SimpleQueue()
                    self._lock_fd = None
                    self.engine.dispose(close=False)
                thread = threading.Thread(target=self._run, name="consent-ledger", daemon=True)
                self._writer = _Writer(thread, os.getpid())
                thread.start()

    def _run(self) -> None:
        stopping = False
        while not stopping:
            batch = [self._queue.get()]
            while len(batch) < self._max_batch:
                try:
                    batch.append(self._queue.get_nowait())
                except queue.Empty:
                    break
            stopping = _STOP in batch
            batch = [pending for pending in batch if pending is not _STOP and pending.claim()]
            if not batch:
                continue
            self.stats.writing = len(batch)
            try:
                results = self._write([pending.entry for pending in batch])
            except Exception as error:  # noqa: BLE001 - every failure is reported to every waiter
                log.warning("consent log write of %d record(s) failed: %s", len(batch), error)
                # The details stay in the server's log; the visitor learns only to retry.
                failure = LedgerUnavailable("the consent log is unavailable")
                for pending in batch:
                    pending.settle(None, failure)
            else:
                self.stats.batches += 1
                self.stats.records += len(batch)
                for pending, result in zip(batch, results, strict=True):
                    pending.settle(result, None)
            finally:
                self.stats.writing = 0

    def _write(self, entries: list[Entry]) -> list[Appended]:
        """One transaction for ``entries``: their rows, in order, and the moved chain heads."""
        unlinked = [unlinked_row(entry) for entry in entries]  # before the lock: salts, digests
        sites = sorted({entry.site_id for entry in entries})
        disconnected = self.engine.dialect.loaded_dbapi.OperationalError
        with self._file_lock():
            for attempt in (1, 2):
                raw = self.engine.raw_connection()
                committing = False
                try:
                    cursor = raw.cursor()
                    self._dialect.begin(cursor)
                    results, params, heads = self._link(cursor, entries, unlinked, sites)
                    # PostgreSQL: the inserts, the heads and COMMIT in one round trip, whose
                    # errors arrive with the commit's (so a failure there is never retried).
                    with self._dialect.pipeline(raw):
                        self._store(cursor, params, heads, results)
                        committing = True
                        self._commit(raw, cursor)
                    return results
                except disconnected:
                    _rollback(raw, self._dialect)
                    # Before COMMIT nothing was written: a stale server connection gets one retry.
                    # SQLite has none to go stale; its error is the file (locked: it already
                    # waited its busy timeout, and waiting twice while holding the other workers'
                    # file lock would outlast their clients).
                    if committing or attempt == 2 or self._dialect.name == "sqlite":
                        raise
                    raw.invalidate()
                except BaseException:
                    _rollback(raw, self._dialect)
                    raise
                finally:
                    raw.close()
        raise AssertionError("unreachable")  # pragma: no cover

    def _link(
        self,
        cursor: Any,
        entries: list[Entry],
        unlinked: list[dict[str, Any]],
        sites: list[str],
    ) -> tuple[list[Appended], list[tuple[Any, ...]], dict[str, tuple[int, str]]]:
        dialect = self._dialect
        heads = lock_heads(dialect, cursor, sites, dt.datetime.now(dt.UTC))
        params, results = [], []
        for entry, partial in zip(entries, unlinked, strict=True):
            seq, prev_hash = heads[entry.site_id]
            row = link_row(
                partial, seq + 1, prev_hash, dt.datetime.now(dt.UTC), entry.lifetime_months
            )
            heads[entry.site_id] = (seq + 1, row["hash"])
            params.append(dialect.log_params(row))
            results.append(
                Appended(
                    entry.site_id,
                    seq + 1,
                    entry.consent_id,
                    row["created_at"],
                    row["expires_at"],
                    row["hash"],
                )
            )
        return results, params, heads

    def _store(
        self,
        cursor: Any,
        params: list[tuple[Any, ...]],
        heads: dict[str, tuple[int, str]],
        results: list[Appended],
    ) -> None:
        dialect = self._dialect
        updated = dialect.time(results[-1].created_at)
        dialect.store(
            cursor, params, [(seq, digest, updated, site) for site, (seq, digest) in heads.items()]
        )

    def _commit(self, raw: Any, cursor: Any) -> None:
        # A statement, not raw.commit(): psycopg's commit() would sync the pipeline on its own,
        # and leaving the pipeline syncs it again (two round trips instead of one).
        cursor.execute("COMMIT")

    @contextlib.contextmanager
    def _file_lock(self) -> Iterator[None]:
        if self._lock_path is None:
            yield
            return
        fd = os.open(self._lock_path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            yield
        finally:
            os.close(fd)  # closing the descriptor releases the lock


def _rollback(raw: Any, dialect: Dialect) -> None:
    """Undo a failed write; a connection that cannot even roll back is dropped from the pool."""
    try:
        if dialect.name == "sqlite":
            if raw.driver_connection.in_transaction:
                raw.cursor().execute("ROLLBACK")
        else:
            raw.rollback()
    except Exception:  # noqa: BLE001 - the write already failed; this connection is suspect
        log.warning("consent log connection could not roll back; discarding it")
        raw.invalidate()
