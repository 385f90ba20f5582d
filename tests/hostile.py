"""Hostile values for the tests: markup and formulas planted wherever text reaches a page.

``hostile_sites_file`` writes the shipped sites.yaml with a script-carrying payload in the
controller's name, a partner's name and purpose, a site's name and its banner texts, so that
every page, script and export built from them can be checked for escaping.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from consent.settings import PROJECT_ROOT

# Runs as soon as a browser parses it as markup; harmless when shown as text.
MARKUP = '<img src=x onerror="window.__xss=1">'
SCRIPT = "</script><script>window.__xss=2</script>"
# Read as a formula by a spreadsheet when a CSV cell starts with it.
FORMULA = '=HYPERLINK("https://evil.example","x")'


def hostile_config(origins: list[str] | None = None) -> dict[str, Any]:
    config = yaml.safe_load((PROJECT_ROOT / "sites.yaml").read_text(encoding="utf-8"))
    config["controller"]["name"] = f"{FORMULA} {MARKUP}"[:300]
    partner = next(p for p in config["partners"] if p["id"] == "google-ads")
    partner["name"] = f"Ads {MARKUP}"
    partner["purpose"] = {language: f"{SCRIPT} {MARKUP}" for language in ("en", "fr", "de", "nl")}
    site = next(s for s in config["sites"] if s["id"] == "mixvoip.com")
    site["name"] = f"Mixvoip {MARKUP}"
    site["texts"] = {"en": {"title": f"Cookies {MARKUP}", "intro": f"{SCRIPT} {MARKUP}"}}
    site["origins"] = site["origins"] + (origins or [])
    return config


def hostile_sites_file(path: Path, origins: list[str] | None = None) -> Path:
    path.write_text(
        yaml.safe_dump(hostile_config(origins), allow_unicode=True, sort_keys=False),
        encoding="utf-8",
    )
    return path
