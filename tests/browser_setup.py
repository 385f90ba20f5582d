"""Find Chromium for the browser tests, installing it when it is missing.

Order: $CHROMIUM_PATH; a system Chromium (Debian's `chromium` package); on a machine with apt,
install that package; otherwise Playwright's own build (`python -m playwright install
chromium`). Run by `make test` before pytest, and imported by the tests to find the binary.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

from consent.scanner.browser import LAUNCH_ARGS, system_chromium

__all__ = ["LAUNCH_ARGS", "ensure", "system_chromium"]


def playwright_chromium() -> str | None:
    """The Chromium that `playwright install` placed, if any (``None`` means: use its default)."""
    try:
        from playwright.sync_api import sync_playwright

        with sync_playwright() as playwright:
            path = playwright.chromium.executable_path
        return path if Path(path).exists() else None
    except Exception:  # noqa: BLE001 - any failure means "not installed"
        return None


def _apt_install() -> bool:
    if not shutil.which("apt-get"):
        return False
    prefix: list[str] = []
    if os.geteuid() != 0:
        if not shutil.which("sudo"):
            return False
        prefix = ["sudo", "-n"]
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    install = [*prefix, "apt-get", "install", "-y", "-q", "chromium"]
    if subprocess.run(install, env=env, check=False).returncode == 0:
        return True
    subprocess.run([*prefix, "apt-get", "update", "-q"], env=env, check=False)
    return subprocess.run(install, env=env, check=False).returncode == 0


def ensure() -> str:
    """A usable Chromium executable path, installing one if needed."""
    found = system_chromium()
    if found:
        return found
    if _apt_install():
        found = system_chromium()
        if found:
            return found
    found = playwright_chromium()
    if found:
        return found
    subprocess.run([sys.executable, "-m", "playwright", "install", "chromium"], check=True)
    found = playwright_chromium()
    if not found:
        raise SystemExit("No Chromium could be found or installed for the browser tests.")
    return found


if __name__ == "__main__":
    print(f"Chromium for the browser tests: {ensure()}")
