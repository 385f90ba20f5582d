"""Banner weight and speed: our widget against four open-source banners, in one Chromium run.

    make bench-widget   (= python bench/widget_peers.py [--rounds 15] [--peers-dir DIR])

The peers (pinned versions below) are installed from npm into a scratch folder outside the
repository (``$CONSENT_PEERS_DIR``, default ``/tmp/consent-peers``; ``npm install --no-save
--ignore-scripts``). Each gets a minimal realistic configuration (``bench/peers/<name>/``): the
same two categories, two advertising partners and English strings as ours, embedded the way its
documentation shows. Ours is the real service (gunicorn on loopback) serving
``/v1/sites/mixvoip.com/widget.js``.

Every banner sits on the same page (``bench/peers/page.html``), served by a small HTTP server;
the banners' files come from a second origin (peers: a static server; ours: the service), all
gzip-compressed at level 9 (the peers' files once, up front, as a CDN would). The browser asks
for gzip only, so that the figures are comparable. Each round loads every banner once, in a
rotating order, in a fresh browser context (empty cache); one warm-up round is not counted.

Per banner: the bytes on the wire (response bodies as transferred, every request but the page
itself) and the time from navigation start to the first frame with a visible Accept button
(found by its accessible name, in the document or an open shadow root; see accept_button.js).
"""

from __future__ import annotations

import argparse
import gzip
import json
import mimetypes
import os
import re
import shutil
import statistics
import subprocess
import sys
import threading
import urllib.request
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from string import Template
from typing import Any

from live_service import ROOT, running_service

BENCH_DIR = Path(__file__).resolve().parent
PEERS_DIR = BENCH_DIR / "peers"
sys.path.insert(0, str(ROOT / "tests"))
import browser_setup  # noqa: E402 - the test harness's Chromium and launch flags

OURS = "ours"


@dataclass(frozen=True)
class Banner:
    name: str  # folder under bench/peers/
    label: str  # as printed in the table
    accept: str  # regular expression for the Accept button's accessible name
    package: str | None = None  # npm package, None for ours
    version: str | None = None  # pinned


BANNERS = [
    Banner(OURS, "Mixvoip Consent (ours)", r"^accept all$"),
    Banner("vanilla-cookieconsent", "vanilla-cookieconsent", r"^accept all$",
           "vanilla-cookieconsent", "3.1.0"),
    Banner("klaro", "Klaro", r"^accept all$", "klaro", "0.7.22"),
    Banner("tarteaucitronjs", "tarteaucitron", r"accept all", "tarteaucitronjs", "1.34.0"),
    # Osano's button always carries aria-label="allow cookies", whatever its text says.
    Banner("cookieconsent", "cookieconsent (Osano)", r"^allow cookies$", "cookieconsent", "3.1.1"),
]  # fmt: skip


# --- installing the peers ------------------------------------------------------------------


def installed_version(peers_dir: Path, package: str) -> str | None:
    manifest = peers_dir / "node_modules" / package / "package.json"
    if not manifest.exists():
        return None
    return json.loads(manifest.read_text(encoding="utf-8"))["version"]


def install_peers(peers_dir: Path, banners: Sequence[Banner]) -> dict[str, str]:
    """``npm install`` the pinned peers into ``peers_dir`` if missing; ``{package: version}``."""
    wanted = [b for b in banners if b.package]
    missing = [b for b in wanted if installed_version(peers_dir, b.package) != b.version]
    if missing:
        peers_dir.mkdir(parents=True, exist_ok=True)
        manifest = peers_dir / "package.json"
        if not manifest.exists():
            manifest.write_text('{"name": "consent-peers", "private": true}\n', encoding="utf-8")
        specs = [f"{b.package}@{b.version}" for b in missing]
        print(f"npm install {' '.join(specs)} in {peers_dir}", file=sys.stderr)
        if shutil.which("npm") is None:
            raise SystemExit("The peers come from npm, which is missing (apt-get install npm).")
        subprocess.run(
            ["npm", "install", "--no-save", "--no-audit", "--no-fund", "--ignore-scripts", *specs],
            cwd=peers_dir,
            check=True,
            stdout=sys.stderr,
        )
    return {b.package: installed_version(peers_dir, b.package) or "?" for b in wanted}


# --- serving the page and the peers' files --------------------------------------------------


class _Files:
    """Files by URL path, each gzip-compressed once (level 9) on first use."""

    def __init__(self, roots: dict[str, Path], pages: dict[str, str] | None = None) -> None:
        self.roots, self.pages = roots, pages or {}
        self._cache: dict[str, tuple[bytes, bytes, str] | None] = {}
        self._lock = threading.Lock()

    def get(self, path: str) -> tuple[bytes, bytes, str] | None:
        with self._lock:
            if path not in self._cache:
                self._cache[path] = self._load(path)
            return self._cache[path]

    def _load(self, path: str) -> tuple[bytes, bytes, str] | None:
        if path in self.pages:
            body, kind = self.pages[path].encode(), "text/html; charset=utf-8"
        else:
            prefix, _, rest = path.lstrip("/").partition("/")
            root = self.roots.get(prefix)
            if root is None:
                return None
            file = (root / rest).resolve()
            if not file.is_relative_to(root.resolve()) or not file.is_file():
                return None
            body = file.read_bytes()
            kind = mimetypes.guess_type(file.name)[0] or "application/octet-stream"
            if kind.startswith("text/") or kind.endswith("javascript"):
                kind += "; charset=utf-8"
        return body, gzip.compress(body, compresslevel=9, mtime=0), kind


def _handler(files: _Files) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        # Headers and body go out as two writes: without this, Nagle's algorithm and the
        # client's delayed ACK would add ~40 ms to every response of the static servers.
        disable_nagle_algorithm = True

        def do_GET(self) -> None:  # noqa: N802 - http.server's naming
            found = files.get(self.path.split("?")[0])
            if found is None:
                self.send_response(404)
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            body, zipped, kind = found
            use_gzip = "gzip" in self.headers.get("Accept-Encoding", "")
            payload = zipped if use_gzip else body
            self.send_response(200)
            self.send_header("Content-Type", kind)
            self.send_header("Content-Length", str(len(payload)))
            self.send_header("Cache-Control", "no-store")
            self.send_header("Access-Control-Allow-Origin", "*")
            if use_gzip:
                self.send_header("Content-Encoding", "gzip")
            self.end_headers()
            self.wfile.write(payload)

        def log_message(self, *args: Any) -> None:
            pass

    return Handler


@contextmanager
def serving(files: _Files, port: int) -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", port), _handler(files))
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.shutdown()
        server.server_close()


def render_page(banner: Banner, assets: str, service: str) -> str:
    """The bench page with the banner's own ``<head>`` lines."""
    head = Template((PEERS_DIR / banner.name / "head.html").read_text(encoding="utf-8"))
    page = Template((PEERS_DIR / "page.html").read_text(encoding="utf-8"))
    lines = head.substitute(assets=assets, service=service).rstrip("\n")
    return page.substitute(head=lines, title=banner.label)


# --- measuring ------------------------------------------------------------------------------


@dataclass
class Sample:
    ms: float
    transferred: int
    decoded: int
    requests: int
    accept_name: str
    files_ms: float = 0.0  # when the last file the page had fetched before that arrived
    ready_ms: float = 0.0  # DOMContentLoaded (end of its handlers), 0 if not yet by then


@dataclass
class Result:
    banner: Banner
    version: str
    samples: list[Sample] = field(default_factory=list)

    @property
    def times(self) -> list[float]:
        return sorted(s.ms for s in self.samples)

    @property
    def median_ms(self) -> float:
        return statistics.median(self.times)

    @property
    def p90_ms(self) -> float:
        times = self.times
        return times[max(0, -(-9 * len(times) // 10) - 1)]  # nearest rank

    @property
    def files_ms(self) -> float:
        return statistics.median(s.files_ms for s in self.samples)

    @property
    def ready_ms(self) -> float:
        return statistics.median(s.ready_ms for s in self.samples)

    def paired_ratio(self, other: Result) -> float:
        """Median over the rounds of this banner's time ÷ the other's in the same round."""
        return statistics.median(
            a.ms / b.ms for a, b in zip(self.samples, other.samples, strict=True)
        )

    @property
    def transferred(self) -> int:
        return int(statistics.median(s.transferred for s in self.samples))

    @property
    def decoded(self) -> int:
        return int(statistics.median(s.decoded for s in self.samples))

    @property
    def requests(self) -> int:
        return int(statistics.median(s.requests for s in self.samples))


def this_version() -> str:
    """Our version in the table: the commit the widget was built from."""
    found = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True
    )
    dirty = subprocess.run(
        ["git", "status", "--porcelain", "--", "widget", "consent/widget.py", "sites.yaml"],
        cwd=ROOT,
        capture_output=True,
        text=True,
    ).stdout.strip()
    return (found.stdout.strip() or "?") + ("+changes" if dirty else "")


def detector_script(accept: str) -> str:
    source = (BENCH_DIR / "accept_button.js").read_text(encoding="utf-8")
    return source.replace("__ACCEPT_PATTERN__", json.dumps(accept))


def launch(playwright: Any) -> Any:
    """Chromium as the browser tests launch it (the harness's executable and flags)."""
    return playwright.chromium.launch(
        executable_path=browser_setup.ensure(), args=browser_setup.LAUNCH_ARGS
    )


def measure(browser: Any, url: str, accept: str, timeout_ms: float = 15_000) -> Sample:
    """Load ``url`` in a fresh context and measure its banner once."""
    from playwright.sync_api import TimeoutError as PlaywrightTimeout

    context = browser.new_context(
        viewport={"width": 1280, "height": 800},
        locale="en-GB",
        extra_http_headers={"Accept-Encoding": "gzip"},
    )
    try:
        context.add_init_script(detector_script(accept))
        page = context.new_page()
        requests: list[Any] = []
        page.on("requestfinished", lambda request: requests.append(request))
        page.goto(url, wait_until="commit")
        try:
            page.wait_for_function("window.__acceptVisible", polling=50, timeout=timeout_ms)
        except PlaywrightTimeout:
            raise RuntimeError(
                f"{url}: no visible button named /{accept}/i within {timeout_ms / 1000:.0f} s"
            ) from None
        page.wait_for_load_state("networkidle")
        seen = page.evaluate("window.__acceptVisible")
        files_ms, ready_ms = page.evaluate(
            """(ms) => [
                 Math.max(0, ...performance.getEntriesByType("resource")
                   .map((e) => e.responseEnd).filter((end) => end <= ms)),
                 performance.getEntriesByType("navigation")[0].domContentLoadedEventEnd,
               ]""",
            seen["ms"],
        )
        button = page.get_by_role("button", name=re.compile(accept, re.I)).first
        if not button.is_visible():
            raise RuntimeError(f"{url}: the Accept button the detector saw is not visible")
        transferred = decoded = count = 0
        for request in requests:
            if request.url.split("?")[0] == url or request.url.endswith("/favicon.ico"):
                continue
            response = request.response()
            if response is None or response.status >= 400:
                raise RuntimeError(f"{url}: {request.url} failed")
            transferred += request.sizes()["responseBodySize"]
            decoded += len(response.body())
            count += 1
        return Sample(seen["ms"], transferred, decoded, count, seen["name"], files_ms, ready_ms)
    finally:
        context.close()


def run(
    browser: Any,
    pages: dict[str, str],
    banners: Sequence[Banner],
    versions: dict[str, str],
    rounds: int,
    warmup: bool = True,
) -> list[Result]:
    """Round-robin: each round measures every banner once, the order rotating by one."""
    results = [Result(b, versions.get(b.package or "", "") or this_version()) for b in banners]
    for number in range(-1 if warmup else 0, rounds):
        shift = number % len(results)
        for result in results[shift:] + results[:shift]:
            sample = measure(browser, pages[result.banner.name], result.banner.accept)
            if number >= 0:
                result.samples.append(sample)
        if number >= 0:
            print(f"round {number + 1}/{rounds} done", file=sys.stderr)
    return results


def encoded_size(url: str, encoding: str) -> int:
    """The body size of ``url`` when asked for one content encoding."""
    request = urllib.request.Request(url, headers={"Accept-Encoding": encoding})
    with urllib.request.urlopen(request, timeout=10) as response:
        if response.headers.get("Content-Encoding") != encoding:
            raise RuntimeError(f"{url} was not served with {encoding}")
        return len(response.read())


# --- reporting ------------------------------------------------------------------------------


def kb(size: float) -> str:
    return f"{size / 1024:.1f} KB"


def table(results: Sequence[Result]) -> str:
    ours = next((r for r in results if r.banner.name == OURS), None)
    lines = [
        "| Banner | Version | Requests | On the wire (gzip) | Uncompressed "
        "| Files in | DOMContentLoaded | Accept visible | p90 | Ours ÷ this, per round |",
        "|---|---|--:|--:|--:|--:|--:|--:|--:|--:|",
    ]
    for r in results:
        paired = f"{ours.paired_ratio(r):.2f}" if ours and r is not ours else "–"
        lines.append(
            f"| {r.banner.label} | {r.version} | {r.requests} | {kb(r.transferred)} "
            f"| {kb(r.decoded)} | {r.files_ms:.0f} ms | {r.ready_ms:.0f} ms | {r.median_ms:.1f} ms "
            f"| {r.p90_ms:.1f} ms | {paired} |"
        )
    rounds = len(results[0].samples) if results else 0
    lines += ["", f"Times: medians of {rounds} rounds, from navigation start; p90: nearest rank."]
    peers = [r for r in results if r.banner.name != OURS]
    if ours and peers:
        fastest = min(peers, key=lambda r: r.median_ms)
        lightest = min(peers, key=lambda r: r.transferred)
        lines += [
            f"Ours / fastest peer ({fastest.banner.label}), median time: "
            f"{ours.median_ms / fastest.median_ms:.2f}",
            f"Ours / lightest peer ({lightest.banner.label}), bytes on the wire: "
            f"{ours.transferred / lightest.transferred:.2f}",
            f"Ours on the wire: {ours.transferred} bytes "
            f"({'within' if ours.transferred <= 6 * 1024 else 'over'} the 6 KB goal)",
        ]
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rounds", type=int, default=15)
    parser.add_argument(
        "--peers-dir",
        type=Path,
        default=Path(os.environ.get("CONSENT_PEERS_DIR", "/tmp/consent-peers")),
    )
    parser.add_argument("--port", type=int, default=5200, help="first of three loopback ports")
    parser.add_argument("--only", nargs="*", help="banner folders to run (default: all)")
    parser.add_argument("--json", type=Path, help="also write every sample to this file")
    args = parser.parse_args(argv)

    banners = [b for b in BANNERS if not args.only or b.name in args.only]
    versions = install_peers(args.peers_dir, banners)
    load_before = os.getloadavg()[0]
    from playwright.sync_api import sync_playwright

    files = _Files({"npm": args.peers_dir / "node_modules", "peers": PEERS_DIR})
    with (
        running_service(args.port + 2) as service,
        serving(files, args.port + 1) as assets,
        sync_playwright() as playwright,
    ):
        rendered = {f"/{b.name}.html": render_page(b, assets, service) for b in banners}
        widget_url = f"{service}/v1/sites/mixvoip.com/widget.js"
        # Each gunicorn worker builds the bundle on its first request and keeps it: warm them
        # all (one connection per request), as a service that has been up for a while is.
        for _ in range(20):
            encoded_size(widget_url, "gzip")
        with serving(_Files({}, rendered), args.port) as site:
            browser = launch(playwright)
            pages = {b.name: f"{site}/{b.name}.html" for b in banners}
            results = run(browser, pages, banners, versions, args.rounds)
            brotli_size = encoded_size(widget_url, "br")
            chromium = browser.version
            browser.close()
    load = os.getloadavg()[0]
    print(
        f"Chromium {chromium}, {os.cpu_count()} CPUs, load average {load_before:.1f} before "
        f"and {load:.1f} after, {args.rounds} rounds (+1 warm-up)\n"
    )
    print(table(results))
    if any(b.name == OURS for b in banners):
        print(f"Ours with brotli (what Chromium gets when it may ask for it): {brotli_size} bytes")
    if args.json:
        args.json.write_text(
            json.dumps(
                {
                    "chromium": chromium,
                    "rounds": args.rounds,
                    "results": [
                        {"banner": r.banner.name, "version": r.version,
                         "samples": [vars(s) for s in r.samples]}
                        for r in results
                    ],
                },
                indent=1,
            ),
            encoding="utf-8",
        )  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(main())
