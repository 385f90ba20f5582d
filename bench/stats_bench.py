"""Opt-in statistics on one million log records: the page's query, with and without rollup.

    .venv/bin/python bench/stats_bench.py                       # SQLite, 1,000,000 records
    TEST_DATABASE_URL=postgresql+psycopg://postgres@127.0.0.1:5432/test \
        .venv/bin/python bench/stats_bench.py --database postgresql

Per database: write the records (chained, spread over 365 days), count them straight from the
log as a reference (what a page would cost without the rollup), build the rollup once, then
time the stats page's query (one site and all sites, per day and per week, median of 5) and
an incremental rollup of 10,000 newer records. Figures go to docs/BENCHMARKS.md.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import platform
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

from sqlalchemy import create_engine, text

from consent import create_app, sample, stats
from consent.extensions import db
from consent.sites import load_sites

ROOT = Path(__file__).resolve().parent.parent


def timed(action, repeat: int = 1) -> tuple[float, object]:
    runs, result = [], None
    for _ in range(repeat):
        start = time.perf_counter()
        result = action()
        runs.append(time.perf_counter() - start)
    return statistics.median(runs), result


def signed_in(app):
    """A test client signed in as marketing (the page as a browser gets it, minus the network)."""
    from consent.users import create_user

    app.config["WTF_CSRF_ENABLED"] = False
    create_user(db.session, "bench@mixvoip.test", "marketing", "bench password 123")
    client = app.test_client()
    response = client.post(
        "/admin/login", data={"email": "bench@mixvoip.test", "password": "bench password 123"}
    )
    assert response.status_code == 302, response.status_code
    return client


def fetch(client, url: str) -> int:
    response = client.get(url)
    assert response.status_code == 200, (url, response.status_code)
    return len(response.data)


def database(kind: str, workdir: Path, drop: bool = False) -> str:
    if kind == "sqlite":
        return f"sqlite:///{workdir / 'bench.db'}"
    base = os.environ["TEST_DATABASE_URL"].replace("postgresql://", "postgresql+psycopg://", 1)
    engine = create_engine(base, isolation_level="AUTOCOMMIT")
    with engine.connect() as connection:
        connection.execute(text("DROP SCHEMA IF EXISTS stats_bench CASCADE"))
        if not drop:
            connection.execute(text("CREATE SCHEMA stats_bench"))
    engine.dispose()
    return base + ("&" if "?" in base else "?") + "options=-csearch_path%3Dstats_bench"


def run(kind: str, records: int) -> None:
    workdir = Path(tempfile.mkdtemp(prefix="stats-bench-"))
    url = database(kind, workdir)
    app = create_app(
        {
            "DATABASE_URL": url,
            "CONSENT_INSTANCE_PATH": str(workdir),
            "SECRET_KEY": "bench",
            "RATELIMIT_ENABLED": "false",
        }
    )
    assert app.test_cli_runner().invoke(args=["upgrade"]).exit_code == 0
    config = load_sites(ROOT / "sites.yaml")
    sites = {site.id: list(site.partners) for site in config.sites}
    ledger = app.extensions["consent"].ledger
    now = dt.datetime.now(dt.UTC)
    made = sample.decisions(sites, records, days=365, seed=1, now=now - dt.timedelta(hours=1))
    write_s, _ = timed(lambda: sample.write(ledger, made))
    with app.app_context():
        engine = db.engine
        with engine.connect() as connection:
            raw_d, _ = timed(lambda: stats._decision_counts(connection, "1 = 1", {}))
            raw_p, _ = timed(lambda: stats._partner_counts(connection, "1 = 1", {}))
        build_s, rolled = timed(lambda: stats.roll_up(engine))
        assert rolled == records, rolled
        all_sites = list(sites)
        page = {
            ("one site", "day"): lambda: stats.opt_in_stats(engine, ["mixvoip.com"], days=90),
            ("one site", "week"): lambda: stats.opt_in_stats(
                engine, ["mixvoip.com"], days=365, by="week"
            ),
            ("all sites", "day"): lambda: stats.opt_in_stats(engine, all_sites, days=90),
            ("all sites", "week"): lambda: stats.opt_in_stats(
                engine, all_sites, days=365, by="week"
            ),
        }
        page_times = {key: timed(query, repeat=5)[0] for key, query in page.items()}
        client = signed_in(app)
        pages = {
            "one site, 90 days by day": "/admin/sites/mixvoip.com/stats?days=90&by=day",
            "all sites, 365 days by week": "/admin/stats?days=365&by=week",
        }
        page_http = {
            name: timed(lambda u=url: fetch(client, u), repeat=5)[0] for name, url in pages.items()
        }
        total = stats.opt_in_stats(engine, all_sites, days=400).decisions
        assert total == records, total
        newer = sample.decisions(sites, 10_000, days=1, seed=2, now=now)
        sample.write(ledger, newer)
        incremental_s, added = timed(lambda: stats.roll_up(engine, now=now + dt.timedelta(days=1)))
        assert added == 10_000, added
    ledger.close()
    with app.app_context():
        db.engine.dispose()
    shutil.rmtree(workdir, ignore_errors=True)
    if kind == "postgresql":
        database(kind, workdir, drop=True)
    print(
        f"\n{kind}: {records:,} records ({platform.machine()}, {os.cpu_count()} CPUs, "
        f"Python {platform.python_version()})"
    )
    print(
        f"  write sample records          {write_s:8.2f} s (setup, not measured against the goal)"
    )
    print(
        f"  reference: count from the log {raw_d + raw_p:8.3f} s "
        f"(decisions {raw_d:.3f} s + partners {raw_p:.3f} s)"
    )
    print(f"  build the rollup once         {build_s:8.3f} s")
    for (scope, by), seconds in page_times.items():
        print(f"  stats page query, {scope:9} by {by:4} {seconds * 1000:8.1f} ms (median of 5)")
    speedup = (raw_d + raw_p) / page_times[("all sites", "day")]
    for name, seconds in page_http.items():
        print(f"  whole page (HTTP), {name:28} {seconds * 1000:8.1f} ms (median of 5)")
    print(f"  incremental rollup of 10,000  {incremental_s * 1000:8.1f} ms")
    print(f"  page query vs reference       {speedup:8.0f}x faster")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=1_000_000)
    parser.add_argument("--database", choices=("sqlite", "postgresql", "both"), default="sqlite")
    args = parser.parse_args()
    kinds = ["sqlite", "postgresql"] if args.database == "both" else [args.database]
    for kind in kinds:
        run(kind, args.records)
    sys.stdout.flush()


if __name__ == "__main__":
    main()
