"""CPU per ``POST /v1/consents`` inside one process: the service's own cost, without HTTP.

    .venv/bin/python bench/post_cpu.py                        # SQLite, 4,000 requests, 32 threads
    .venv/bin/python bench/post_cpu.py --db postgresql --requests 8000
    .venv/bin/py-spy record --gil -r 500 -f raw -o /tmp/post.txt -- \\
        .venv/bin/python bench/post_cpu.py --requests 20000  # where that CPU goes

The application is built by ``create_app`` on a fresh, migrated database (a SQLite file, or a
new schema in ``--pg-url`` / ``TEST_DATABASE_URL``, dropped at the end) with rate limits off, as
``bench/server_bench.py`` serves it (``--rate-limit '1000000 per minute'``: on, so that every
post goes through Flask and Flask-Limiter, as with the production default). ``--threads``
threads (gunicorn's 32 per worker) call the WSGI application directly with prebuilt environs,
the bodies and headers of ``bench/consents.lua``: valid decisions for the four sites, a new
consent id each. The figure is the process's CPU time (user + system, every thread: request
threads and the ledger's writer, SQLite's own work included; PostgreSQL's server CPU is not)
divided by the requests answered 201. Machine load changes wall time far more than CPU time, so
this figure holds on a shared machine where the wrk ratios of ``server_bench.py`` swing.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import random
import resource
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from pathlib import Path
from typing import Any

from server_bench import AGENTS, consent_body

BENCH_DIR = Path(__file__).resolve().parent
PROJECT_ROOT = BENCH_DIR.parent
VENV_BIN = Path(sys.executable).parent
DEFAULT_PG = "postgresql+psycopg://postgres@127.0.0.1:5432/test"

PAGES = ("/", "/pricing", "/contact", "/en/telephony", "/fr/blog/voip-2026")


def environ_for(body: bytes, origin: str, language: str, agent: str) -> dict[str, Any]:
    """A WSGI environ like gunicorn's for the request (a fresh input stream per call)."""
    return {
        "REQUEST_METHOD": "POST",
        "SCRIPT_NAME": "",
        "PATH_INFO": "/v1/consents",
        "QUERY_STRING": "",
        "RAW_URI": "/v1/consents",
        "SERVER_NAME": "127.0.0.1",
        "SERVER_PORT": "5600",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "REMOTE_ADDR": "127.0.0.1",
        "REMOTE_PORT": "40000",
        "CONTENT_TYPE": "application/json",
        "CONTENT_LENGTH": str(len(body)),
        "HTTP_HOST": "127.0.0.1:5600",
        "HTTP_ORIGIN": origin,
        "HTTP_USER_AGENT": agent,
        "HTTP_ACCEPT_LANGUAGE": language,
        "wsgi.version": (1, 0),
        "wsgi.url_scheme": "http",
        "wsgi.input": io.BytesIO(body),
        "wsgi.errors": sys.stderr,
        "wsgi.multithread": True,
        "wsgi.multiprocess": True,
        "wsgi.run_once": False,
    }


def fresh_database(kind: str, workdir: Path, pg_url: str) -> tuple[str, Any]:
    """A migrated database URL, and how to drop it."""
    if kind == "sqlite":
        return f"sqlite:///{workdir / 'post-cpu.db'}", lambda: None
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    schema = f"post_cpu_{os.getpid()}"
    admin = create_engine(pg_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE SCHEMA "{schema}"'))

    def drop() -> None:
        with admin.connect() as connection:
            connection.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
        admin.dispose()

    url = make_url(pg_url).update_query_dict({"options": f"-csearch_path={schema}"})
    return url.render_as_string(hide_password=False), drop


def drive(app: Any, environs: list[dict[str, Any]], threads: int) -> Counter[str]:
    """Answer every environ through the WSGI app from ``threads`` threads; count the statuses."""
    statuses: Counter[str] = Counter()
    lock = threading.Lock()
    work = iter(environs)

    def start_response(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
        with lock:
            statuses[status] += 1
        return None

    def worker() -> None:
        while True:
            with lock:
                environ = next(work, None)
            if environ is None:
                return
            body = app(environ, start_response)
            b"".join(body)
            if hasattr(body, "close"):
                body.close()

    pool = [threading.Thread(target=worker) for _ in range(threads)]
    for thread in pool:
        thread.start()
    for thread in pool:
        thread.join()
    return statuses


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--db", default="sqlite", choices=("sqlite", "postgresql"))
    parser.add_argument("--requests", type=int, default=4000)
    parser.add_argument("--threads", type=int, default=32)
    parser.add_argument("--warmup", type=int, default=500)
    parser.add_argument(
        "--rate-limit",
        help="rate limits on, posts limited to this (e.g. '1000000 per minute'): the Flask path",
    )
    parser.add_argument(
        "--pg-url",
        default=(os.environ.get("TEST_DATABASE_URL") or DEFAULT_PG).replace(
            "postgresql://", "postgresql+psycopg://", 1
        ),
    )
    args = parser.parse_args(argv)
    sys.path.insert(0, str(PROJECT_ROOT))
    from consent import create_app

    rng = random.Random(6)
    with tempfile.TemporaryDirectory(prefix="post-cpu-") as tmp:
        workdir = Path(tmp)
        database_url, drop = fresh_database(args.db, workdir, args.pg_url)
        try:
            env = {
                **os.environ,
                "DATABASE_URL": database_url,
                "CONSENT_INSTANCE_PATH": str(workdir / "instance"),
                "CONSENT_SITES_FILE": str(PROJECT_ROOT / "sites.yaml"),
            }
            subprocess.run(
                [str(VENV_BIN / "consent"), "upgrade"], env=env, check=True, capture_output=True
            )
            app = create_app(
                {
                    "DATABASE_URL": database_url,
                    "CONSENT_INSTANCE_PATH": str(workdir / "instance"),
                    "CONSENT_SITES_FILE": str(PROJECT_ROOT / "sites.yaml"),
                    "SECRET_KEY": "post-cpu-secret",
                    "RATELIMIT_ENABLED": "true" if args.rate_limit else "false",
                    "CONSENT_RATE_LIMIT": args.rate_limit or "",
                }
            )
            environs = []
            for number in range(args.warmup + args.requests):
                body, origin, language = consent_body(rng, PAGES, f"&n={number}")
                environs.append(environ_for(body, origin, language, rng.choice(AGENTS)))
            drive(app, environs[: args.warmup], args.threads)
            ledger = app.extensions["consent"].ledger
            batches_before = ledger.stats.batches
            before = resource.getrusage(resource.RUSAGE_SELF)
            started = time.monotonic()
            statuses = drive(app, environs[args.warmup :], args.threads)
            elapsed = time.monotonic() - started
            after = resource.getrusage(resource.RUSAGE_SELF)
            batches = ledger.stats.batches - batches_before
            ledger.close()
        finally:
            drop()
    created = statuses.get("201 CREATED", 0)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    report = {
        "database": args.db,
        "requests": args.requests,
        "threads": args.threads,
        "rate_limit": args.rate_limit,
        "statuses": dict(statuses),
        "cpu_ms_per_post": round(cpu * 1000 / max(created, 1), 3),
        "user_ms_per_post": round((after.ru_utime - before.ru_utime) * 1000 / max(created, 1), 3),
        "system_ms_per_post": round((after.ru_stime - before.ru_stime) * 1000 / max(created, 1), 3),
        "records_per_batch": round(created / max(batches, 1), 1),
        "wall_s": round(elapsed, 2),
    }
    print(json.dumps(report))
    return 0 if created == args.requests else 1


if __name__ == "__main__":
    raise SystemExit(main())
