"""The README's screenshots of the banner, taken from the real service and widget in Chromium.

    make screenshots   (= python bench/screenshots.py [--out docs/screenshots] [--url URL])

Starts the service on loopback (or uses ``--url``), opens the demo page of mixvoip.com and
saves: the first layer (desktop), the preferences, the first layer on a 320 px wide phone and
the first layer in French. Buttons are found by their accessible names, taken from the
widget's string catalogues, so the script keeps working when the widget's markup changes.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from live_service import ROOT, running_service
from widget_peers import launch

SITE = "mixvoip.com"
DESKTOP = {"width": 1280, "height": 800}
PHONE = {"width": 320, "height": 640}


@dataclass(frozen=True)
class Shot:
    file: str
    lang: str
    viewport: dict[str, int]
    scale: int = 1
    preferences: bool = False


SHOTS = [
    Shot("first-layer.png", "en", DESKTOP),
    Shot("preferences.png", "en", DESKTOP, preferences=True),
    Shot("first-layer-mobile.png", "en", PHONE, scale=2),
    Shot("first-layer-fr.png", "fr", DESKTOP),
]


def button_name(lang: str, key: str) -> re.Pattern[str]:
    """The accessible name of one of the widget's buttons, from its string catalogue."""
    strings = json.loads((ROOT / "widget" / "i18n" / f"{lang}.json").read_text(encoding="utf-8"))
    return re.compile(f"^{re.escape(strings[key])}$", re.I)


def take(browser: Any, base_url: str, shot: Shot, out: Path) -> Path:
    context = browser.new_context(
        viewport=shot.viewport, device_scale_factor=shot.scale, locale=f"{shot.lang}-LU"
    )
    try:
        page = context.new_page()
        page.goto(f"{base_url}/demo/{SITE}?lang={shot.lang}")
        accept = page.get_by_role("button", name=button_name(shot.lang, "accept"))
        accept.wait_for(state="visible")
        if shot.preferences:
            page.get_by_role("button", name=button_name(shot.lang, "customise")).click()
            save = page.get_by_role("button", name=button_name(shot.lang, "save"))
            save.wait_for(state="visible")
        target = out / shot.file
        page.screenshot(path=str(target), animations="disabled")
        return target
    finally:
        context.close()


def take_all(
    base_url: str, out: Path, shots: Sequence[Shot] = SHOTS, browser: Any = None
) -> list[Path]:
    """Save every shot into ``out``, in a Chromium of its own unless ``browser`` is given."""
    out.mkdir(parents=True, exist_ok=True)
    if browser is not None:
        return [take(browser, base_url, shot, out) for shot in shots]
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = launch(playwright)
        try:
            return [take(browser, base_url, shot, out) for shot in shots]
        finally:
            browser.close()


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "screenshots")
    parser.add_argument("--url", help="a running service to use instead of starting one")
    parser.add_argument("--port", type=int, default=5220, help="loopback port for the service")
    args = parser.parse_args(argv)
    if args.url:
        saved = take_all(args.url.rstrip("/"), args.out)
    else:
        with running_service(args.port) as url:
            saved = take_all(url, args.out)
    for path in saved:
        print(path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
