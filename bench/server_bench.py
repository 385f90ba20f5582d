"""Server benchmark: the consent service against a no-op Flask app, side by side, on loopback.

    .venv/bin/python bench/server_bench.py                  # SQLite and PostgreSQL, all phases
    .venv/bin/python bench/server_bench.py --db sqlite --rounds 3 --duration 8
    make bench-server

Both servers are started by this script exactly as ``make run`` starts the service (``gunicorn
-c python:consent.gunicorn_config``, same ``WEB_CONCURRENCY`` × ``WEB_THREADS``, rate limits
off unless ``--rate-limits memory|redis`` turns the service's own limiting on, as its default
is); the reference is ``bench/noop_app.py`` under that same configuration. The service gets a
fresh database: a new SQLite file, or a new schema in the PostgreSQL database of
``--pg-url`` / ``TEST_DATABASE_URL`` (dropped at the end).

Phases, each reported as a ratio to the reference measured in the same run:

1. **Throughput.** wrk (Debian's package) drives ``POST /v1/consents`` with ``consents.lua``
   (varied, valid decisions for the four sites, a new consent id per request, an Origin and a
   User-Agent like a browser's) against the service and the no-op, alternating A/B and B/A
   for ``--rounds`` rounds; the ratio is the median of the per-round ratios.
2. **Latency.** wrk is closed-loop, so it cannot hold a constant rate. A small open-loop
   client (``open_loop`` below, asyncio, keep-alive connections) sends requests on a fixed
   schedule at half of the service's measured maximum, and measures each latency from the
   moment the request was *due* (so a stalled server is charged for the queue it causes,
   the "coordinated omission" correction of wrk2).
3. **Widget.** wrk drives ``GET /v1/sites/<site>/widget.js`` with ``Accept-Encoding: gzip,
   br`` (200 with the precompressed bundle) and with ``If-None-Match`` (304), against the
   no-op GET of a fixed small script.
4. **Scale-out** (``--scale 1,2,4``, PostgreSQL): POST throughput of the service and of the
   no-op per gunicorn worker count, with the CPU used by gunicorn, PostgreSQL and wrk during
   each run, which shows what the bound is.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import random
import re
import resource
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
import uuid
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

BENCH_DIR = Path(__file__).resolve().parent
PROJECT_ROOT = BENCH_DIR.parent
VENV_BIN = Path(sys.executable).parent
LUA_SCRIPT = BENCH_DIR / "consents.lua"
DEFAULT_PG = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")
WIDGET_SITE = "mixvoip.com"


# --- servers -----------------------------------------------------------------------------


@dataclass
class Server:
    """A gunicorn master with its workers, in its own process group."""

    name: str
    port: int
    env: dict[str, str]
    app: str | None = None  # None: the service (wsgi_app of consent.gunicorn_config)
    log: Path = field(default_factory=lambda: Path(tempfile.mkstemp(suffix=".log")[1]))
    process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        command = [str(VENV_BIN / "gunicorn"), "-c", "python:consent.gunicorn_config"]
        if self.app:
            command += ["--chdir", str(BENCH_DIR), self.app]
        with open(self.log, "ab") as log:
            self.process = subprocess.Popen(
                command,
                env={**self.env, "PORT": str(self.port), "HOST": "127.0.0.1"},
                stdout=log,
                stderr=subprocess.STDOUT,
                cwd=PROJECT_ROOT,
                start_new_session=True,
            )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"{self.name} exited: {self.log.read_text()[-3000:]}")
            try:
                with urllib.request.urlopen(f"{self.url}/v1/sites/{WIDGET_SITE}/widget.js"):
                    return
            except OSError:
                time.sleep(0.1)
        raise RuntimeError(f"{self.name} did not answer: {self.log.read_text()[-3000:]}")

    def stop(self) -> None:
        if self.process is None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGTERM)
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait()
        self.process = None

    def pids(self) -> list[int]:
        """The master and its workers (everything in the process group)."""
        if self.process is None:
            return []
        return [pid for pid in _all_pids() if _stat(pid) and _stat(pid)[2] == self.process.pid]


def cpu_pressure() -> float | None:
    """Share of the last 60 s in which some runnable task waited for a CPU (Linux PSI), in %."""
    try:
        line = Path("/proc/pressure/cpu").read_text().splitlines()[0]
    except (OSError, IndexError):
        return None
    return float(re.search(r"avg60=([\d.]+)", line).group(1))


def _all_pids() -> list[int]:
    return [int(name) for name in os.listdir("/proc") if name.isdigit()]


def _stat(pid: int) -> tuple[str, float, int] | None:
    """(command name, CPU seconds, process group) of a process, ``None`` once it is gone."""
    try:
        raw = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    name = raw[raw.index("(") + 1 : raw.rindex(")")]
    fields = raw[raw.rindex(")") + 2 :].split()
    ticks = int(fields[11]) + int(fields[12])  # utime + stime
    return name, ticks / CLOCK_TICKS, int(fields[2])


def _cpu_by_group(server_pids: list[int]) -> dict[str, float]:
    """CPU seconds used so far by the server and by PostgreSQL."""
    totals = {"server": 0.0, "postgres": 0.0}
    wanted = set(server_pids)
    for pid in _all_pids():
        stat = _stat(pid)
        if stat is None:
            continue
        name, seconds, _ = stat
        if pid in wanted:
            totals["server"] += seconds
        elif name == "postgres":
            totals["postgres"] += seconds
    return totals


# --- databases ---------------------------------------------------------------------------


class Database:
    """A fresh database for one service run: a SQLite file or a PostgreSQL schema."""

    def __init__(self, kind: str, workdir: Path, pg_url: str, tag: str) -> None:
        self.kind = kind
        self._schema = None
        self._pg_url = pg_url
        if kind == "sqlite":
            self.url = f"sqlite:///{workdir / f'{tag}.db'}"
        else:
            from sqlalchemy import create_engine, text
            from sqlalchemy.engine import make_url

            self._schema = f"bench_{tag}_{os.getpid()}"
            engine = create_engine(pg_url, isolation_level="AUTOCOMMIT")
            with engine.connect() as connection:
                connection.execute(text(f'DROP SCHEMA IF EXISTS "{self._schema}" CASCADE'))
                connection.execute(text(f'CREATE SCHEMA "{self._schema}"'))
            engine.dispose()
            url = make_url(pg_url).update_query_dict({"options": f"-csearch_path={self._schema}"})
            self.url = url.render_as_string(hide_password=False)

    def drop(self) -> None:
        if self._schema is None:
            return
        from sqlalchemy import create_engine, text

        engine = create_engine(self._pg_url, isolation_level="AUTOCOMMIT")
        with engine.connect() as connection:
            connection.execute(text(f'DROP SCHEMA IF EXISTS "{self._schema}" CASCADE'))
        engine.dispose()

    def count_and_verify(self) -> tuple[int, bool]:
        """Records in the log, and whether every chain verifies."""
        from sqlalchemy import create_engine

        from consent.database import engine_options
        from consent.legal import verify

        engine = create_engine(self.url, **engine_options(self.url))
        try:
            report = verify(engine)
        finally:
            engine.dispose()
        return report.checked, report.ok


def service_env(
    database: Database,
    workdir: Path,
    workers: int,
    threads: int | None,
    rate_limits: str = "off",
) -> dict[str, str]:
    env = {
        **os.environ,
        "DATABASE_URL": database.url,
        "CONSENT_INSTANCE_PATH": str(workdir / "instance"),
        "CONSENT_SITES_FILE": str(PROJECT_ROOT / "sites.yaml"),
        "SECRET_KEY": "server-bench-secret",
        "RATELIMIT_ENABLED": "false",
        "WEB_CONCURRENCY": str(workers),
    }
    if threads is not None:
        env["WEB_THREADS"] = str(threads)
    env.pop("ACCESS_LOG", None)
    env.pop("REDIS_URL", None)
    if rate_limits != "off":
        # The production default: Flask-Limiter counts every post (in Redis when REDIS_URL is
        # set), with a limit no run reaches, so that the counting is measured and not the 429s.
        env["RATELIMIT_ENABLED"] = "true"
        env["CONSENT_RATE_LIMIT"] = "100000000 per minute"
        if rate_limits == "redis":
            env["REDIS_URL"] = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/15")
    subprocess.run([str(VENV_BIN / "consent"), "upgrade"], env=env, check=True, capture_output=True)
    return env


# --- wrk ---------------------------------------------------------------------------------


@dataclass
class WrkResult:
    rate: float
    requests: int
    bad: int
    p50_ms: float
    p99_ms: float
    cpu: dict[str, float] = field(default_factory=dict)


_UNITS = {"us": 0.001, "ms": 1.0, "s": 1000.0}


def _latency_ms(text: str, percentile: str) -> float:
    match = re.search(rf"^\s*{percentile}%\s+([\d.]+)(us|ms|s)\s*$", text, re.M)
    return float(match.group(1)) * _UNITS[match.group(2)] if match else float("nan")


def wrk(
    url: str,
    *,
    duration: float,
    connections: int,
    script: Path | None = None,
    headers: tuple[str, ...] = (),
    watch: Server | None = None,
) -> WrkResult:
    command = ["wrk", "-t1", f"-c{connections}", f"-d{round(duration)}s", "--latency"]
    for header in headers:
        command += ["-H", header]
    if script is not None:
        command += ["-s", str(script)]
    before = _cpu_by_group(watch.pids()) if watch else {}
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.monotonic()
    result = subprocess.run(command + [url], capture_output=True, text=True, check=True)
    elapsed = time.monotonic() - started
    cpu = {}
    if watch:
        after = _cpu_by_group(watch.pids())
        finished = resource.getrusage(resource.RUSAGE_CHILDREN)
        after["wrk"] = (finished.ru_utime + finished.ru_stime) - (
            children.ru_utime + children.ru_stime
        )
        cpu = {k: round((after[k] - before.get(k, 0.0)) / elapsed, 2) for k in after}
    out = result.stdout
    rate = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    requests = int(re.search(r"(\d+) requests in", out).group(1))
    bad = 0
    if match := re.search(r"Non-2xx or 3xx responses: (\d+)", out):
        bad += int(match.group(1))
    if match := re.search(
        r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out
    ):
        bad += sum(int(g) for g in match.groups())
    if result.stderr.strip():
        print(result.stderr.strip()[:500], file=sys.stderr)
    return WrkResult(rate, requests, bad, _latency_ms(out, "50"), _latency_ms(out, "99"), cpu)


# --- the open-loop client ----------------------------------------------------------------

AGENTS = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/131.0.0.0 Safari/537.36",
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) "
    "Version/18.1 Safari/605.1.15",
    "Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0",
    "Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like "
    "Gecko) Version/18.1 Mobile/15E148 Safari/604.1",
    "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/131.0.0.0 Mobile Safari/537.36",
)
SITES = (
    ("mixvoip.com", ("en", "fr", "de", "nl"), ("google-ads", "meta-pixel", "linkedin-insight")),
    ("mixvoip.org", ("en", "fr", "de"), ("google-ads", "linkedin-insight")),
    ("voxbi.team", ("en", "fr", "de"), ("linkedin-insight", "meta-pixel")),
    ("voxbi.com", ("en", "fr", "de", "nl"), ("google-ads", "meta-pixel", "microsoft-ads")),
)


def consent_body(
    rng: random.Random, pages: tuple[str, ...] = ("/", "/pricing", "/contact"), query: str = ""
) -> tuple[bytes, str, str]:
    """(body, origin, language) of one valid decision like the wrk script's, a new consent id."""
    site, languages, partners = rng.choice(SITES)
    kind = rng.random()
    body: dict[str, Any] = {"site": site}
    if kind < 0.5:
        body.update(action="refuse_all", categories={"technical": True, "advertising": False})
    elif kind < 0.8:
        body.update(action="accept_all", categories={"technical": True, "advertising": True})
    else:
        body.update(
            action="custom",
            categories={"technical": True, "advertising": True},
            partners={p: i % 2 == 0 for i, p in enumerate(partners)},
        )
    origin = f"https://www.{site}"
    language = rng.choice(languages)
    body.update(
        consent_id=str(uuid.UUID(int=rng.getrandbits(128), version=4)),
        revision=1,
        language=language,
        page_url=f"{origin}{rng.choice(pages)}?utm_source=bench{query}",
        gpc=rng.random() < 0.05,
    )
    return json.dumps(body, separators=(",", ":")).encode(), origin, language


def consent_request(rng: random.Random, port: int) -> bytes:
    """One POST /v1/consents like the wrk script's: a valid decision, a new consent id."""
    data, origin, _ = consent_body(rng)
    head = (
        f"POST /v1/consents HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n"
        f"Content-Type: application/json\r\nContent-Length: {len(data)}\r\n"
        f"Origin: {origin}\r\nUser-Agent: {rng.choice(AGENTS)}\r\n\r\n"
    )
    return head.encode() + data


async def _read_response(reader: asyncio.StreamReader) -> int:
    head = await reader.readuntil(b"\r\n\r\n")
    status = int(head.split(b" ", 2)[1])
    match = re.search(rb"(?i)\r\ncontent-length:\s*(\d+)", head)
    if match:
        await reader.readexactly(int(match.group(1)))
    return status


async def _open_loop(
    port: int, requests: list[bytes], rate: float, connections: int
) -> tuple[list[float], Counter[int], float]:
    loop = asyncio.get_running_loop()
    queue: asyncio.Queue[tuple[float, bytes] | None] = asyncio.Queue()
    latencies: list[float] = []
    statuses: Counter[int] = Counter()

    async def connection() -> None:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        while (item := await queue.get()) is not None:
            due, data = item
            for attempt in (1, 2):
                try:
                    writer.write(data)
                    status = await _read_response(reader)
                    break
                except (asyncio.IncompleteReadError, ConnectionError):
                    writer.close()
                    reader, writer = await asyncio.open_connection("127.0.0.1", port)
                    status = 599
                    if attempt == 2:
                        break
            latencies.append(loop.time() - due)
            statuses[status] += 1
        writer.close()

    tasks = [asyncio.create_task(connection()) for _ in range(connections)]
    await asyncio.sleep(0.2)
    start = loop.time()
    for index, data in enumerate(requests):
        due = start + index / rate
        delay = due - loop.time()
        if delay > 0:
            await asyncio.sleep(delay)
        queue.put_nowait((due, data))
    for _ in tasks:
        queue.put_nowait(None)
    await asyncio.gather(*tasks)
    return latencies, statuses, loop.time() - start


@dataclass
class LatencyResult:
    rate: float
    achieved: float
    requests: int
    bad: int
    p50_ms: float
    p90_ms: float
    p99_ms: float
    max_ms: float


def open_loop(port: int, rate: float, seconds: float, connections: int = 64) -> LatencyResult:
    """Send POST /v1/consents at a constant ``rate``; latencies from each request's due time."""
    rng = random.Random(port)
    requests = [consent_request(rng, port) for _ in range(int(rate * seconds))]
    latencies, statuses, elapsed = asyncio.run(_open_loop(port, requests, rate, connections))
    ordered = sorted(latencies)

    def pct(p: float) -> float:
        return round(ordered[min(len(ordered) - 1, int(p * len(ordered)))] * 1000, 2)

    bad = sum(n for status, n in statuses.items() if not 200 <= status < 400)
    return LatencyResult(
        rate=round(rate, 1),
        achieved=round(len(latencies) / elapsed, 1),
        requests=len(latencies),
        bad=bad,
        p50_ms=pct(0.50),
        p90_ms=pct(0.90),
        p99_ms=pct(0.99),
        max_ms=round(ordered[-1] * 1000, 2),
    )


# --- the phases --------------------------------------------------------------------------


def _ab(rounds: int, run_ref: Any, run_svc: Any) -> tuple[list[Any], list[Any]]:
    """Alternate reference and service (A/B, then B/A, ...) and collect both series."""
    refs, svcs = [], []
    for round_no in range(rounds):
        if round_no % 2 == 0:
            refs.append(run_ref())
            svcs.append(run_svc())
        else:
            svcs.append(run_svc())
            refs.append(run_ref())
    return refs, svcs


def _ratio(refs: list[WrkResult], svcs: list[WrkResult]) -> float:
    return round(statistics.median(s.rate / r.rate for r, s in zip(refs, svcs, strict=True)), 3)


def _cpu_ms(result: WrkResult) -> float | None:
    """Server CPU per request during a run (gunicorn's processes, not PostgreSQL's)."""
    if "server" not in result.cpu or not result.rate:
        return None
    return round(result.cpu["server"] * 1000 / result.rate, 3)


def _series(results: list[Any]) -> list[float]:
    return [round(r.rate) for r in results]


def bench_database(args: argparse.Namespace, kind: str, workdir: Path) -> dict[str, Any]:
    """Throughput, latency and widget phases for one database, at the default worker count."""
    database = Database(kind, workdir, args.pg_url, f"{kind}_main")
    report: dict[str, Any] = {"database": kind}
    service = reference = None
    try:
        env = service_env(database, workdir, args.workers, args.threads, args.rate_limits)
        service = Server(f"service-{kind}", args.port, env)
        reference = Server("noop", args.port + 1, env, app="noop_app:app")
        service.start()
        reference.start()
        post_url = "/v1/consents"

        def post(server: Server, duration: float) -> WrkResult:
            return wrk(
                server.url + post_url,
                duration=duration,
                connections=args.connections,
                script=LUA_SCRIPT,
                watch=server,
            )

        post(service, 2)
        post(reference, 2)  # warm-up: imports, connection pools, caches
        refs, svcs = _ab(
            args.rounds,
            lambda: post(reference, args.duration),
            lambda: post(service, args.duration),
        )
        records, chain_ok = database.count_and_verify()
        report["post"] = {
            "cpu_pressure_avg60": cpu_pressure(),
            "noop_rps": _series(refs),
            "service_rps": _series(svcs),
            "ratio": _ratio(refs, svcs),
            "service_p99_ms_saturated": round(statistics.median(s.p99_ms for s in svcs), 1),
            "errors": sum(s.bad for s in svcs) + sum(r.bad for r in refs),
            "cpu_cores_service": svcs[-1].cpu,
            "server_cpu_ms_per_request": {
                "service": _cpu_ms(svcs[-1]),
                "noop": _cpu_ms(refs[-1]),
            },
            "records": records,
            "chain_verifies": chain_ok,
        }
        print(json.dumps({kind: {"post": report["post"]}}), flush=True)

        if "latency" in args.phases:
            half = statistics.median(s.rate for s in svcs) / 2
            report["latency_half_rate"] = {
                "service": open_loop(service.port, half, args.latency_seconds).__dict__,
                "noop": open_loop(reference.port, half, args.latency_seconds).__dict__,
            }
            print(json.dumps({kind: {"latency": report["latency_half_rate"]}}), flush=True)

        if "widget" not in args.phases:
            return report
        widget = f"/v1/sites/{WIDGET_SITE}/widget.js"
        with urllib.request.urlopen(
            urllib.request.Request(service.url + widget, headers={"Accept-Encoding": "gzip, br"})
        ) as response:
            etag = response.headers["ETag"]
            encoding = response.headers.get("Content-Encoding")
            size = len(response.read())

        def get(server: Server, *headers: str) -> WrkResult:
            return wrk(
                server.url + widget,
                duration=args.duration,
                connections=args.connections,
                headers=headers,
            )

        gzip_header = "Accept-Encoding: gzip, br"
        refs, svcs = _ab(
            args.rounds, lambda: get(reference, gzip_header), lambda: get(service, gzip_header)
        )
        refs304, svcs304 = _ab(
            args.rounds,
            lambda: get(reference, gzip_header),
            lambda: get(service, gzip_header, f"If-None-Match: {etag}"),
        )
        report["widget"] = {
            "body": f"{size} bytes {encoding}",
            "noop_rps": _series(refs),
            "service_rps": _series(svcs),
            "ratio": _ratio(refs, svcs),
            "noop_rps_304_run": _series(refs304),
            "service_304_rps": _series(svcs304),
            "ratio_304": _ratio(refs304, svcs304),
            "errors": sum(s.bad for s in svcs + svcs304),
        }
        print(json.dumps({kind: {"widget": report["widget"]}}), flush=True)
    finally:
        for server in (service, reference):
            if server is not None:
                server.stop()
        database.drop()
    return report


def bench_scale(args: argparse.Namespace, workdir: Path) -> list[dict[str, Any]]:
    """POST throughput per worker count on PostgreSQL, and who uses the CPU."""
    rows = []
    for workers in args.scale:
        database = Database("postgresql", workdir, args.pg_url, f"scale{workers}")
        service = reference = None
        try:
            env = service_env(database, workdir, workers, args.threads, args.rate_limits)
            service = Server(f"service-w{workers}", args.port + 2, env)
            reference = Server(f"noop-w{workers}", args.port + 3, env, app="noop_app:app")
            service.start()
            reference.start()

            def post(server: Server, duration: float, workers: int = workers) -> WrkResult:
                return wrk(
                    server.url + "/v1/consents",
                    duration=duration,
                    connections=max(args.connections, 8 * workers),
                    script=LUA_SCRIPT,
                    watch=server,
                )

            post(service, 2)
            post(reference, 2)
            refs, svcs = _ab(
                args.rounds,
                lambda: post(reference, args.duration),  # noqa: B023 - called in this loop
                lambda: post(service, args.duration),  # noqa: B023
            )
            records, chain_ok = database.count_and_verify()
            best = max(svcs, key=lambda r: r.rate)
            row = {
                "workers": workers,
                "cpu_pressure_avg60": cpu_pressure(),
                "service_rps": round(statistics.median(s.rate for s in svcs)),
                "noop_rps": round(statistics.median(r.rate for r in refs)),
                "ratio": _ratio(refs, svcs),
                "cpu_cores": best.cpu,
                "errors": sum(s.bad for s in svcs),
                "chain_verifies": chain_ok,
                "records": records,
            }
            rows.append(row)
            print(json.dumps({"scale": row}), flush=True)
        finally:
            for server in (service, reference):
                if server is not None:
                    server.stop()
            database.drop()
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--db", default="sqlite,postgresql", help="comma-separated: sqlite,postgresql"
    )
    parser.add_argument("--workers", type=int, default=int(os.environ.get("WEB_CONCURRENCY", "2")))
    parser.add_argument(
        "--threads", type=int, default=None, help="WEB_THREADS (default: gunicorn_config's)"
    )
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--duration", type=float, default=8.0, help="seconds per wrk run")
    parser.add_argument("--rounds", type=int, default=3, help="A/B rounds per comparison")
    parser.add_argument("--latency-seconds", type=float, default=20.0)
    parser.add_argument("--scale", default="1,2,4", help="worker counts on PostgreSQL ('' = skip)")
    parser.add_argument("--port", type=int, default=int(os.environ.get("BENCH_PORT", "5600")))
    parser.add_argument(
        "--pg-url",
        default=(os.environ.get("TEST_DATABASE_URL") or DEFAULT_PG).replace(
            "postgresql://", "postgresql+psycopg://", 1
        ),
    )
    parser.add_argument(
        "--phases", default="post,latency,widget", help="of post,latency,widget (post always runs)"
    )
    parser.add_argument(
        "--rate-limits",
        choices=("off", "memory", "redis"),
        default="off",
        help="the service's own rate limiting: off (default), or on with per-worker memory or "
        "Redis ($BENCH_REDIS_URL, default redis://127.0.0.1:6379/15) as storage",
    )
    parser.add_argument("--json", type=Path, help="also write the report here")
    args = parser.parse_args(argv)
    args.scale = [int(n) for n in args.scale.split(",") if n.strip()]
    if args.threads is None and os.environ.get("WEB_THREADS"):
        args.threads = int(os.environ["WEB_THREADS"])
    # A SIGTERM (timeout, Ctrl-C's cousin) unwinds like Ctrl-C: the servers and schemas go.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    if shutil.which("wrk") is None:
        parser.error("wrk is not installed (Debian: apt-get install wrk)")
    sys.path.insert(0, str(PROJECT_ROOT))

    report: dict[str, Any] = {
        "machine": {
            "cpus": os.cpu_count(),
            "python": sys.version.split()[0],
            "workers": args.workers,
            "threads": args.threads or "gunicorn_config default",
            "connections": args.connections,
            "duration_s": args.duration,
            "rounds": args.rounds,
            "cpu_pressure_avg60_at_start": cpu_pressure(),
        },
        "databases": [],
    }
    with tempfile.TemporaryDirectory(prefix="server-bench-") as tmp:
        workdir = Path(tmp)
        for kind in [k.strip() for k in args.db.split(",") if k.strip()]:
            report["databases"].append(bench_database(args, kind, workdir))
        if args.scale and "postgresql" in args.db:
            report["scale"] = bench_scale(args, workdir)
    print(json.dumps(report, indent=2))
    if args.json:
        args.json.write_text(json.dumps(report, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
