"""The test harness: a fresh database of each kind, and the service served as `make run` does.

Every database test runs on SQLite and, when ``TEST_DATABASE_URL`` is set, on PostgreSQL too.
Each PostgreSQL user of the database gets its own schema, so that tests never see each
other's rows. Fixtures live in ``conftest.py``; test modules import what they need from here.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from typing import Any

import yaml
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from consent import create_app
from consent.extensions import db
from consent.settings import PROJECT_ROOT

TEST_DATABASE_URL = os.environ.get("TEST_DATABASE_URL")
DATABASES = ["sqlite"] + (["postgresql"] if TEST_DATABASE_URL else [])
VENV_BIN = Path(sys.executable).parent


def postgres_schema_url(schema: str) -> str:
    """A fresh, empty schema in the test PostgreSQL database, as a URL that uses it.

    The name gets the test process's id, so that two runs on one server never meet.
    """
    assert TEST_DATABASE_URL
    schema = f"{schema}_{os.getpid()}"
    base = TEST_DATABASE_URL.replace("postgresql://", "postgresql+psycopg://", 1)
    engine = create_engine(base, isolation_level="AUTOCOMMIT")
    with engine.connect() as connection:
        connection.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
        connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    engine.dispose()
    url = make_url(base).update_query_dict({"options": f"-csearch_path={schema}"})
    return url.render_as_string(hide_password=False)


def drop_postgres_schemas() -> None:
    """Drop the schemas this test process made (see ``postgres_schema_url``)."""
    if not TEST_DATABASE_URL:
        return
    base = TEST_DATABASE_URL.replace("postgresql://", "postgresql+psycopg://", 1)
    engine = create_engine(base, isolation_level="AUTOCOMMIT")
    suffix = f"\\_{os.getpid()}"
    with engine.connect() as connection:
        names = connection.execute(
            text("SELECT nspname FROM pg_namespace WHERE nspname LIKE :pattern"),
            {"pattern": f"%{suffix}"},
        ).scalars()
        for name in list(names):
            connection.execute(text(f'DROP SCHEMA IF EXISTS "{name}" CASCADE'))
    engine.dispose()


def migrate(database_url: str, instance: Path) -> None:
    """Run the real migrations and catalogue load, as ``consent upgrade`` does."""
    app = create_app(app_settings(database_url, instance))
    runner = app.test_cli_runner()
    result = runner.invoke(args=["upgrade"])
    app.extensions["consent"].ledger.close()
    with app.app_context():
        db.engine.dispose()
    assert result.exit_code == 0, result.output


def app_settings(database_url: str, instance: Path, **extra: Any) -> dict[str, Any]:
    return {
        "DATABASE_URL": database_url,
        "CONSENT_INSTANCE_PATH": str(instance),
        "SECRET_KEY": "test-secret-key",
        "RATELIMIT_ENABLED": "false",
        "CONSENT_SITES_FILE": str(PROJECT_ROOT / "sites.yaml"),
        **extra,
    }


_TABLES = (
    "consent_log",
    "chain_heads",
    "chain_checkpoints",
    "partners",
    "site_states",
    "site_revisions",
    "banner_texts",
    "users",
    "audit_events",
    "scans",
    "stats_daily",
    "stats_partner_daily",
    "stats_rollup",
)


def fresh_database(kind: str, migrated: dict[str, str], tmp_path: Path) -> str:
    if kind == "sqlite":
        target = tmp_path / "consent.db"
        shutil.copyfile(migrated["sqlite"], target)
        return f"sqlite:///{target}"
    url = migrated["postgresql"]
    engine = create_engine(url)
    with engine.begin() as connection:
        connection.execute(text(f"TRUNCATE {', '.join(_TABLES)} RESTART IDENTITY CASCADE"))
    engine.dispose()
    return url


REFUSAL = {
    "site": "mixvoip.com",
    "action": "refuse_all",
    "categories": {"technical": True, "advertising": False},
}


def log_rows(app: Any) -> list[dict[str, Any]]:
    """Everything in the consent log, oldest first, as plain dicts."""
    with app.app_context():
        result = db.session.execute(text("SELECT * FROM consent_log ORDER BY site_id, seq"))
        return [dict(row) for row in result.mappings()]


# --- a real server, as `make run` starts it ----------------------------------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def sites_file_for_hosts(path: Path, port: int) -> Path:
    """sites.yaml with each site also reachable as http(s)://www.<id>:<port> (browser tests)."""
    config = yaml.safe_load((PROJECT_ROOT / "sites.yaml").read_text(encoding="utf-8"))
    for site in config["sites"]:
        site["origins"] += [
            f"{scheme}://{host}{site['id']}:{port}"
            for scheme in ("http", "https")
            for host in ("www.", "")
        ]
    path.write_text(yaml.safe_dump(config, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return path


class LiveServer:
    """gunicorn serving the app on a loopback port, started like `make run` starts it."""

    def __init__(self, workdir: Path, env: dict[str, str], port: int) -> None:
        self.workdir, self.env, self.port = workdir, env, port
        self.url = f"http://127.0.0.1:{port}"
        self.process: subprocess.Popen[bytes] | None = None
        self.log = workdir / "server.log"

    def start(self, upgrade: bool = True, wait: bool = True) -> None:
        if upgrade:
            result = subprocess.run(
                [str(VENV_BIN / "consent"), "upgrade"],
                env=self.env,
                capture_output=True,
                text=True,
                check=False,
            )
            assert result.returncode == 0, result.stderr
        with open(self.log, "ab") as log:
            self.process = subprocess.Popen(
                [str(VENV_BIN / "gunicorn"), "-c", "python:consent.gunicorn_config"],
                env=self.env,
                stdout=log,
                stderr=subprocess.STDOUT,
                cwd=PROJECT_ROOT,
                start_new_session=True,
            )
        if wait:
            self.wait_until_up()

    def wait_until_up(self, timeout: float = 30) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process is not None and self.process.poll() is not None:
                raise RuntimeError(f"gunicorn exited: {self.log.read_text()[-2000:]}")
            try:
                with urllib.request.urlopen(f"{self.url}/v1/openapi.json", timeout=2):
                    return
            except OSError:
                time.sleep(0.05)
        raise RuntimeError(f"gunicorn did not answer: {self.log.read_text()[-2000:]}")

    def stop(self, sig: int = signal.SIGTERM) -> None:
        if self.process is None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, sig)
        self.process.wait(timeout=30)
        self.process = None


def live_server_env(
    database_url: str, workdir: Path, port: int, sites_file: Path | None = None, **extra: str
) -> dict[str, str]:
    return {
        **os.environ,
        "DATABASE_URL": database_url,
        "CONSENT_INSTANCE_PATH": str(workdir / "instance"),
        "CONSENT_SITES_FILE": str(sites_file or PROJECT_ROOT / "sites.yaml"),
        "SECRET_KEY": "live-test-secret",
        "RATELIMIT_ENABLED": "false",
        "PORT": str(port),
        "WEB_CONCURRENCY": "2",
        **extra,
    }
