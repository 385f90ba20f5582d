"""The real consent service on a loopback port, started as `make run` starts it, for a bench.

A fresh SQLite database in a scratch folder, `consent upgrade`, then gunicorn with the
project's gunicorn configuration. Used by ``widget_peers.py`` and ``screenshots.py``.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
VENV_BIN = Path(sys.executable).parent


@contextlib.contextmanager
def running_service(port: int, **extra_env: str) -> Iterator[str]:
    """Serve the service on ``127.0.0.1:<port>`` for the ``with`` block; yields its base URL."""
    with tempfile.TemporaryDirectory(prefix="consent-bench-") as scratch:
        workdir = Path(scratch)
        env = {
            **os.environ,
            "DATABASE_URL": f"sqlite:///{workdir / 'consent.db'}",
            "CONSENT_INSTANCE_PATH": str(workdir / "instance"),
            "CONSENT_SITES_FILE": str(ROOT / "sites.yaml"),
            "SECRET_KEY": "bench-secret-key",
            "RATELIMIT_ENABLED": "false",
            "HOST": "127.0.0.1",
            "PORT": str(port),
            "WEB_CONCURRENCY": "2",
            **extra_env,
        }
        subprocess.run(
            [str(VENV_BIN / "consent"), "upgrade"], env=env, check=True, capture_output=True
        )
        log = workdir / "server.log"
        with open(log, "wb") as out:
            process = subprocess.Popen(
                [str(VENV_BIN / "gunicorn"), "-c", "python:consent.gunicorn_config"],
                env=env,
                cwd=ROOT,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        url = f"http://127.0.0.1:{port}"
        try:
            _wait_until_up(url, process, log)
            yield url
        finally:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGTERM)
            process.wait(timeout=30)


def _wait_until_up(url: str, process: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"gunicorn exited: {log.read_text()[-2000:]}")
        try:
            with urllib.request.urlopen(f"{url}/v1/openapi.json", timeout=2):
                return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"the service did not answer on {url}: {log.read_text()[-2000:]}")
