"""Consent log at scale: export and verification of N records on SQLite and PostgreSQL.

    .venv/bin/python bench/legal_bench.py                       # 1,000,000 records, both databases
    .venv/bin/python bench/legal_bench.py --records 100000 --database sqlite
    .venv/bin/python bench/legal_bench.py --keep /tmp/legal-bench  # generate once, then reuse

For each database: a fresh schema (``consent upgrade``), N records over the four sites written
with bulk inserts that compute the real chain (salted digests, hashes, links, heads), then the
real commands in subprocesses, each under a small wrapper that reports the child's wall time
CPU time (user + system) and peak resident memory (``getrusage(RUSAGE_CHILDREN)``). CPU time
is the figure to read on a shared machine: wall time grows with everyone else's load.

- ``consent export --format csv`` and ``--format jsonl`` of the whole log to a file, with 1
  worker and with the default (the CPUs, up to 8);
- a reference: the bare driver reading every row (the floor for any export or verification);
- ``consent verify`` with 1 worker and the default (records/s from the verification time it
  reports, and from the wall time including start-up);
- ``consent verify-export`` of the JSON Lines file.

Targets (issue 8): export ≤ 10 s with peak memory ≤ 150 MB; verify ≥ 200,000 records/s.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

SITES = ("mixvoip.com", "mixvoip.org", "voxbi.team", "voxbi.com")
CONTROLLER = "MIXVOIP Sa, 70, rue des Prés, L-7333 Steinsel, Luxembourg"
PG_BASE = os.environ.get(
    "TEST_DATABASE_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
).replace("postgresql://", "postgresql+psycopg://", 1)
BATCH = 10_000
WORKERS = min(os.cpu_count() or 1, 8)  # the commands' default --workers


def consent_cmd(*args: str) -> list[str]:
    return [sys.executable, "-m", "flask", "--app", "consent", *args]


def env_for(url: str, workdir: Path) -> dict[str, str]:
    return {
        **os.environ,
        "DATABASE_URL": url,
        "CONSENT_SITES_FILE": str(ROOT / "sites.yaml"),
        "CONSENT_INSTANCE_PATH": str(workdir / "instance"),
        "SECRET_KEY": "bench-secret-key",
        "RATELIMIT_ENABLED": "false",
    }


def measured(command: list[str], env: dict[str, str]) -> dict[str, float | str]:
    """Run ``command`` under this script's ``measure`` wrapper: wall time, peak RSS, stdout."""
    wrapper = [sys.executable, __file__, "measure", "--", *command]
    done = subprocess.run(wrapper, env=env, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(command)} failed:\n{done.stdout}\n{done.stderr}")
    lines = done.stdout.strip().splitlines()
    figures = json.loads(lines[-1])
    figures["stdout"] = "\n".join(lines[:-1])
    return figures


def measure_child(command: list[str]) -> int:
    started = time.perf_counter()
    done = subprocess.run(command, check=False)
    seconds = time.perf_counter() - started
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = usage.ru_utime + usage.ru_stime
    print(
        json.dumps(
            {
                "seconds": seconds,
                "cpu_s": cpu,
                "peak_mb": usage.ru_maxrss / 1024,
                "rc": done.returncode,
            }
        )
    )
    return 0 if done.returncode == 0 else done.returncode


def prepare(kind: str, workdir: Path, keep: bool) -> str:
    """The bench database: a SQLite file in ``workdir`` or the ``legal_bench`` schema, migrated;
    with ``keep`` an existing one is reused as it is."""
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    if kind == "sqlite":
        path = workdir / "bench.db"
        if path.exists() and not keep:
            path.unlink()
        url = f"sqlite:///{path}"
    else:
        schema = "legal_bench"
        engine = create_engine(PG_BASE, isolation_level="AUTOCOMMIT")
        with engine.connect() as connection:
            if not keep:
                connection.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
            connection.execute(text(f'CREATE SCHEMA IF NOT EXISTS "{schema}"'))
        engine.dispose()
        url = (
            make_url(PG_BASE)
            .update_query_dict({"options": f"-csearch_path={schema}"})
            .render_as_string(hide_password=False)
        )
    env = env_for(url, workdir)
    subprocess.run(consent_cmd("upgrade"), env=env, check=True, capture_output=True)
    return url


def existing(url: str) -> int:
    from sqlalchemy import create_engine, text

    engine = create_engine(url)
    with engine.connect() as connection:
        count = connection.execute(text("SELECT count(*) FROM consent_log")).scalar_one()
    engine.dispose()
    return int(count)


REFERENCE = """
import sys, time
from sqlalchemy import create_engine
engine = create_engine(sys.argv[1])
with engine.connect() as connection:
    result = connection.exec_driver_sql(
        "SELECT * FROM consent_log ORDER BY site_id, seq",
        execution_options={"stream_results": True, "yield_per": 5000},
    )
    count = sum(1 for _ in result)
print(count)
"""


def generate(url: str, count: int) -> float:
    """Write ``count`` records round-robin over the sites, chained as the ledger chains them."""
    from sqlalchemy import create_engine

    from consent.ledger import Entry, build_row
    from consent.models import ChainHead, ConsentRecord

    engine = create_engine(url)
    log, heads = ConsentRecord.__table__, ChainHead.__table__
    state = {site: (0, "0" * 64) for site in SITES}
    start = dt.datetime.now(dt.UTC) - dt.timedelta(days=365)
    step = dt.timedelta(days=365) / max(count, 1)
    browsers = ("Firefox 120", "Chrome 119", "Safari 17", "Edge 119")
    started = time.perf_counter()
    written = 0
    while written < count:
        rows = []
        for index in range(written, min(written + BATCH, count)):
            site = SITES[index % len(SITES)]
            accepted = index % 3 == 0
            entry = Entry(
                site_id=site,
                consent_id=f"{index:08x}-0000-4000-8000-{index * 7919 % 10**12:012d}",
                action="accept_all" if accepted else "refuse_all",
                categories={"technical": True, "advertising": accepted},
                partners={"google-ads": accepted, "meta-pixel": accepted, "linkedin": accepted},
                revision=1 + index % 3,
                policy_version="2021-09-13",
                texts_hash=f"{index % 8:064x}",
                language=("en", "fr", "de")[index % 3],
                controller=CONTROLLER,
                gpc=index % 11 == 0,
                lifetime_months=13 if accepted else 6,
                user_agent={
                    "browser": browsers[index % 4],
                    "os": "Linux",
                    "device": "pc",
                    "bot": False,
                },
                ip_prefix=f"203.0.{index % 256}.0/24",
                page_url=f"https://www.{site}/page/{index % 50}",
            )
            seq, prev = state[site]
            row = build_row(entry, seq + 1, prev, start + step * index)
            state[site] = (seq + 1, row["hash"])
            rows.append(row)
        with engine.begin() as connection:
            connection.execute(log.insert(), rows)
        written += len(rows)
    with engine.begin() as connection:
        connection.execute(heads.delete())
        connection.execute(
            heads.insert(),
            [
                {"site_id": s, "seq": q, "hash": h, "updated_at": dt.datetime.now(dt.UTC)}
                for s, (q, h) in state.items()
            ],
        )
    engine.dispose()
    return time.perf_counter() - started


def _figures(figures: dict[str, float | str], count: int | None = None) -> dict[str, float]:
    out = {
        "seconds": round(float(figures["seconds"]), 2),
        "cpu_s": round(float(figures["cpu_s"]), 2),
        "peak_mb": round(float(figures["peak_mb"]), 1),
    }
    if count:
        out["records_per_s"] = round(count / float(figures["seconds"]))
        out["records_per_cpu_s"] = round(count / float(figures["cpu_s"]))
    return out


STEPS = ("reference", "export", "verify", "verify-export")


def run(
    kind: str, count: int, keep: Path | None, steps: tuple[str, ...] = STEPS
) -> dict[str, object]:
    with tempfile.TemporaryDirectory(prefix=f"legal-bench-{kind}-") as tmp:
        workdir = keep or Path(tmp)
        workdir.mkdir(parents=True, exist_ok=True)
        url = prepare(kind, workdir, keep is not None)
        env = env_for(url, workdir)
        results: dict[str, object] = {"database": kind, "records": count}
        have = existing(url)
        if have != count:
            if have:
                raise SystemExit(f"{kind}: the kept database holds {have:,} records, not {count:,}")
            results["generate_s"] = round(generate(url, count), 1)
            print(f"[{kind}] generated {count:,} records in {results['generate_s']} s", flush=True)
        if "reference" in steps:
            reference = measured([sys.executable, "-c", REFERENCE, url], env)
            results["reference_read"] = _figures(reference, count)
            print(f"[{kind}] reference (driver reads every row): {results['reference_read']}")
        exports = [(fmt, w) for fmt in ("csv", "jsonl") for w in (1, WORKERS)]
        for fmt, workers in exports if "export" in steps or "verify-export" in steps else ():
            out = workdir / f"log.{fmt}"
            command = ("export", "--format", fmt, "--output", str(out), "--workers", str(workers))
            figures = measured(consent_cmd(*command), env)
            name = f"export_{fmt}_{workers}"
            results[name] = {
                **_figures(figures, count),
                "file_mb": round(out.stat().st_size / 2**20, 1),
            }
            print(f"[{kind}] export {fmt} ({workers} worker(s)): {results[name]}", flush=True)
        for workers in (1, WORKERS) if "verify" in steps else ():
            figures = measured(consent_cmd("verify", "--json", "--workers", str(workers)), env)
            report = json.loads(str(figures["stdout"]))
            assert report["ok"] and sum(report["records"].values()) == count, report
            results[f"verify_{workers}"] = {
                **_figures(figures, count),
                "verify_s": report["seconds"],
                "verify_records_per_s": round(count / report["seconds"]),
            }
            print(f"[{kind}] verify ({workers} worker(s)): {results[f'verify_{workers}']}")
        if "verify-export" in steps:
            figures = measured(
                consent_cmd("verify-export", "--complete", str(workdir / "log.jsonl")), env
            )
            results["verify_export"] = _figures(figures, count)
            print(f"[{kind}] verify-export: {results['verify_export']}", flush=True)
        for fmt in ("csv", "jsonl"):
            (workdir / f"log.{fmt}").unlink(missing_ok=True)
        if kind == "postgresql" and keep is None:
            from sqlalchemy import create_engine, text

            engine = create_engine(PG_BASE, isolation_level="AUTOCOMMIT")
            with engine.connect() as connection:
                connection.execute(text('DROP SCHEMA IF EXISTS "legal_bench" CASCADE'))
            engine.dispose()
        return results


def main() -> int:
    if len(sys.argv) > 2 and sys.argv[1] == "measure" and sys.argv[2] == "--":
        return measure_child(sys.argv[3:])
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--records", type=int, default=1_000_000)
    parser.add_argument("--database", choices=("sqlite", "postgresql", "both"), default="both")
    parser.add_argument("--json", type=Path, help="Also write the figures to this file.")
    parser.add_argument(
        "--keep",
        type=Path,
        help="Keep the generated databases (SQLite file in this folder, PostgreSQL schema "
        "legal_bench) and reuse them on the next run instead of generating again.",
    )
    parser.add_argument(
        "--steps",
        default=",".join(STEPS),
        help=f"Which measurements, comma-separated (default: all of {','.join(STEPS)}).",
    )
    args = parser.parse_args()
    steps = tuple(step.strip() for step in args.steps.split(","))
    kinds = ("sqlite", "postgresql") if args.database == "both" else (args.database,)
    figures = [run(kind, args.records, args.keep, steps) for kind in kinds]
    print(json.dumps(figures, indent=2))
    if args.json:
        args.json.write_text(json.dumps(figures, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
