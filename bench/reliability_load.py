"""Load and crash figures for docs/RELIABILITY.md: the service as `make run` starts it.

For each database: 20,000 consents from 64 clients (requests, duration, throughput, statuses,
records logged, chain verified), then a second run cut by ``kill -9`` of the whole server
process group after 3,000 acknowledgements, a restart, and a count of the acknowledged
records missing from the log (must be zero).

    .venv/bin/python bench/reliability_load.py            # SQLite
    TEST_DATABASE_URL=postgresql+psycopg://postgres@127.0.0.1:5432/test \\
        .venv/bin/python bench/reliability_load.py        # and PostgreSQL
"""

from __future__ import annotations

import os
import signal
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))

from harness import (  # noqa: E402
    TEST_DATABASE_URL,
    LiveServer,
    drop_postgres_schemas,
    live_server_env,
    postgres_schema_url,
)
from load import LoadClient, LoadResult, loopback_port  # noqa: E402
from sqlalchemy import create_engine, text  # noqa: E402

from consent.legal import verify  # noqa: E402

TOTAL, CONCURRENCY, KILL_AFTER = 20_000, 64, 3_000


def check(url: str, result: LoadResult) -> tuple[int, int, bool, float]:
    """(records in the log, acknowledged records missing, chain ok, seconds to verify)."""
    engine = create_engine(url)
    try:
        with engine.connect() as connection:
            rows = {
                tuple(r)
                for r in connection.execute(
                    text("SELECT consent_id, site_id, seq, hash FROM consent_log")
                )
            }
        started = time.monotonic()
        report = verify(engine)
        seconds = time.monotonic() - started
    finally:
        engine.dispose()
    missing = sum((a.consent_id, a.site, a.seq, a.hash) not in rows for a in result.acknowledged)
    return len(rows), missing, report.ok, seconds


def server_for(kind: str, workdir: Path) -> LiveServer:
    url = (
        f"sqlite:///{workdir / 'consent.db'}"
        if kind == "sqlite"
        else postgres_schema_url(f"bench_reliability_{workdir.name[-6:]}")
    )
    port = loopback_port()
    return LiveServer(workdir, live_server_env(url, workdir, port), port)


def run(kind: str) -> None:
    with tempfile.TemporaryDirectory() as directory:
        server = server_for(kind, Path(directory))
        server.start()
        url = server.env["DATABASE_URL"]
        try:
            result = LoadClient(server.port, TOTAL, CONCURRENCY).run()
            logged, missing, ok, verify_s = check(url, result)
            print(
                f"{kind}: load: {result.sent} requests, {CONCURRENCY} clients, "
                f"{result.seconds:.1f} s, {result.throughput:.0f} consents/s, "
                f"statuses {dict(result.statuses)}, logged {logged}, missing {missing}, "
                f"chain {'verifies' if ok else 'BROKEN'} ({verify_s:.2f} s)"
            )

            client = LoadClient(server.port, TOTAL, CONCURRENCY, timeout=10)
            reached = client.when_acknowledged(KILL_AFTER)
            client.start()
            reached.wait(120)
            server.stop(signal.SIGKILL)
            cut = client.join()
            started = time.monotonic()
            server.start(upgrade=False)
            restart_s = time.monotonic() - started
            result.acknowledged.extend(cut.acknowledged)
            logged, missing, ok, _ = check(url, result)
            print(
                f"{kind}: kill -9 after {len(cut.acknowledged)} acknowledged "
                f"({cut.broken_connections} requests cut, statuses {dict(cut.statuses)}); "
                f"restart {restart_s:.1f} s; logged {logged}, acknowledged "
                f"{len(result.acknowledged)}, missing {missing}, "
                f"chain {'verifies' if ok else 'BROKEN'}"
            )
        finally:
            server.stop()


def main() -> None:
    print(f"machine: {os.cpu_count()} CPUs; gunicorn 2 workers x 8 threads; rate limits off")
    for kind in ["sqlite"] + (["postgresql"] if TEST_DATABASE_URL else []):
        run(kind)
    drop_postgres_schemas()


if __name__ == "__main__":
    main()
