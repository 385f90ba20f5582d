"""A throwaway PostgreSQL cluster (initdb in a temporary directory) that a test may stop.

Outage tests stop and start their own cluster, never the shared test server. PostgreSQL will
not run as root, so under root the cluster belongs to the ``postgres`` system user.
"""

from __future__ import annotations

import os
import pwd
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from load import loopback_port


def is_available() -> bool:
    return shutil.which("initdb") is not None and shutil.which("pg_ctl") is not None


class TemporaryCluster:
    def __init__(self, port: int) -> None:
        self.port = port
        self.directory = Path(tempfile.mkdtemp(prefix="consent-pg-"))
        self.data = self.directory / "data"
        self._as_user: list[str] = []
        if os.geteuid() == 0:
            owner = pwd.getpwnam("postgres")
            os.chown(self.directory, owner.pw_uid, owner.pw_gid)
            self._as_user = ["runuser", "-u", "postgres", "--"]
        self._run("initdb", "-D", str(self.data), "-A", "trust", "-U", "postgres", "--no-sync")

    @property
    def url(self) -> str:
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/postgres"

    def start(self) -> None:
        options = f"-p {self.port} -c listen_addresses=127.0.0.1 -k {self.directory} -c fsync=off"
        self._run(
            "pg_ctl",
            "-D",
            str(self.data),
            "-o",
            options,
            "-l",
            str(self.directory / "log"),
            "-w",
            "start",
        )

    def stop(self) -> None:
        self._run("pg_ctl", "-D", str(self.data), "-m", "fast", "-w", "stop")

    def remove(self) -> None:
        if (self.data / "postmaster.pid").exists():
            self.stop()
        shutil.rmtree(self.directory, ignore_errors=True)

    def _run(self, *command: str) -> None:
        result = subprocess.run(
            [*self._as_user, *command], capture_output=True, text=True, check=False, timeout=120
        )
        assert result.returncode == 0, f"{command[0]} failed: {result.stdout}{result.stderr}"


@pytest.fixture
def cluster() -> Iterator[TemporaryCluster]:
    """A throwaway PostgreSQL cluster on a free loopback port, started (tests may stop it)."""
    if not is_available():
        pytest.skip("initdb and pg_ctl are needed for a throwaway PostgreSQL cluster")
    cluster = TemporaryCluster(loopback_port())
    cluster.start()
    yield cluster
    cluster.remove()
