"""Chromium for the scanner (and the browser tests): where it is and how it is launched.

The scanner drives the Debian ``chromium`` package through Playwright; ``$CHROMIUM_PATH``
points at another build. ``resolve`` maps host names to addresses the way ``curl --resolve``
does (Chromium's ``--host-resolver-rules``), so that a staging copy or the test pages can be
scanned under their real host names.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path

from playwright.sync_api import Browser, sync_playwright

SYSTEM_NAMES = ("chromium", "chromium-browser")
LAUNCH_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]


class BrowserMissing(RuntimeError):
    """No Chromium could be found; the message says how to provide one."""


def system_chromium() -> str | None:
    """``$CHROMIUM_PATH`` if it exists, else a Chromium on ``PATH`` (``None`` if neither)."""
    explicit = os.environ.get("CHROMIUM_PATH")
    if explicit and Path(explicit).exists():
        return explicit
    for name in SYSTEM_NAMES:
        found = shutil.which(name)
        if found:
            return found
    return None


def resolver_rules(resolve: Mapping[str, str]) -> list[str]:
    """Chromium arguments that send each host name in ``resolve`` to its address."""
    if not resolve:
        return []
    rules = ", ".join(f"MAP {host} {address}" for host, address in sorted(resolve.items()))
    return [f"--host-resolver-rules={rules}"]


@contextmanager
def launched(
    resolve: Mapping[str, str] | None = None, executable: str | None = None
) -> Iterator[Browser]:
    """A headless Chromium for the duration of the ``with`` block."""
    path = executable or system_chromium()
    if path is None:
        raise BrowserMissing(
            "No Chromium found: install the 'chromium' package or set CHROMIUM_PATH."
        )
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=path, args=[*LAUNCH_ARGS, *resolver_rules(resolve or {})]
        )
        try:
            yield browser
        finally:
            browser.close()
