"""Engine set-up per dialect, shared by the web tier's engine and the ledger's own engine.

SQLite is the embedded default: WAL so readers never block the writer, ``synchronous=FULL``
so that a write acknowledged with 201 survives a crash of the process *and* of the machine
(the ledger commits in groups, so the fsync is paid once per group, not per consent), and a
busy timeout so that occasional writers outside the ledger wait instead of failing.

The web tier keeps pysqlite's own transaction handling (a transaction starts at the first
write), so a request that reads and then writes never holds a stale read snapshot that a
concurrent ledger commit would invalidate. The ledger's engine switches it off and opens its
transactions with ``BEGIN IMMEDIATE``, as SQLAlchemy's documentation describes, so that the
chain head it reads is the one it writes after.

SQLite opens a file it may not write read-only without a word, and such a connection stays
read-only after the file is writable again. Each new connection therefore proves that it can
write (it rewrites ``user_version`` with its own value, without waiting for the write lock):
on a read-only file the connection fails, the request is answered 503, and no read-only
connection ever waits in a pool, so the service recovers by itself once the file can be
written.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, event
from sqlalchemy.engine import make_url

SQLITE_BUSY_TIMEOUT_MS = 15_000


def engine_options(database_url: str) -> dict[str, Any]:
    """Options for ``create_engine`` (and ``SQLALCHEMY_ENGINE_OPTIONS``) for this database."""
    if database_url.startswith("sqlite"):
        return {"connect_args": {"timeout": SQLITE_BUSY_TIMEOUT_MS / 1000}}
    return {
        "pool_pre_ping": True,
        "pool_size": 5,
        "max_overflow": 10,
        "pool_timeout": 5,
        "connect_args": {"connect_timeout": 3},
    }


def sqlite_path(database_url: str) -> Path | None:
    """The database file of a SQLite URL (``None`` for other databases)."""
    url = make_url(database_url)
    if url.get_backend_name() != "sqlite":
        return None
    if not url.database or url.database == ":memory:":
        raise ValueError("an on-disk SQLite database is required (DATABASE_URL=sqlite:///path)")
    return Path(url.database)


def _is_writable(cursor: Any) -> bool:
    """Whether this connection may write, asked without waiting for the write lock.

    SQLite refuses a write on a read-only connection before it takes any lock; a write that
    finds the lock taken (another connection, possibly of this very thread, is writing) shows
    that the file can be written.
    """
    cursor.execute("PRAGMA busy_timeout=0")
    try:
        (version,) = cursor.execute("PRAGMA user_version").fetchone()
        cursor.execute(f"PRAGMA user_version={int(version)}")
    except sqlite3.OperationalError as error:
        return not getattr(error, "sqlite_errorname", "").startswith("SQLITE_READONLY")
    return True


def configure_engine(engine: Engine, *, begin: str | None = None) -> Engine:
    """Install the per-connection settings; ``begin`` replaces pysqlite's implicit transactions."""
    if engine.dialect.name != "sqlite":
        return engine

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        if begin:
            dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=FULL")
        cursor.execute("PRAGMA foreign_keys=ON")
        if not _is_writable(cursor):
            # Closed at once: while any read-only connection stays open in this process,
            # SQLite keeps every other connection to the file read-only too.
            cursor.close()
            dbapi_connection.close()
            raise sqlite3.OperationalError("attempt to write a readonly database")
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        cursor.close()

    if begin:

        @event.listens_for(engine, "begin")
        def _on_begin(connection: Any) -> None:
            connection.exec_driver_sql(begin)

    return engine
