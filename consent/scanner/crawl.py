"""Scan a site: each page visited as a new visitor, after a refusal, and after acceptance.

For every page: a fresh browser context (no cookie) opens it and waits for the network to go
idle (``before``); the banner's "Refuse all" button is clicked, the page reloaded and recorded
again (``refused``); then, in another fresh context, "Accept all" is clicked and the reload
shows what consent unlocks (``accepted``). Same-site links found on the pages are followed,
breadth first, until ``pages`` pages were scanned. The buttons are found by their accessible
name in any of the widget's languages, inside the widget's shadow root.
"""

from __future__ import annotations

import contextlib
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urldefrag, urlsplit

from playwright.sync_api import Browser, BrowserContext, Page
from playwright.sync_api import Error as PlaywrightError
from playwright.sync_api import TimeoutError as PlaywrightTimeout

from consent.scanner.browser import launched
from consent.scanner.capture import COOKIE_WITNESS, Recorder, Visit, utc_now
from consent.scanner.classify import PHASES, Finding, Rules, classify
from consent.scanner.hosts import is_same_site
from consent.sites import CATALOGUE_DIR, LANGUAGES

PAGE_TIMEOUT_MS = 20_000
BANNER_TIMEOUT_MS = 5_000
# How long to wait for the network to go quiet; a page that keeps polling is recorded anyway.
IDLE_TIMEOUT_MS = 10_000


class ScanError(RuntimeError):
    """The scan could not be made (the page did not open); the message says why."""


def _button_names(key: str) -> re.Pattern[str]:
    names = []
    for language in LANGUAGES:
        texts = json.loads((CATALOGUE_DIR / f"{language}.json").read_text(encoding="utf-8"))
        names.append(re.escape(texts[key]))
    return re.compile(f"^({'|'.join(names)})$")


REFUSE = _button_names("refuse")
ACCEPT = _button_names("accept")


@dataclass
class PageResult:
    url: str
    banner: bool = True
    visits: dict[str, Visit] = field(default_factory=dict)
    findings: list[Finding] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {
            "url": self.url,
            "banner": self.banner,
            "visits": {phase: visit.as_dict() for phase, visit in self.visits.items()},
        }


def scan(
    site: str,
    start_url: str,
    rules: Rules,
    pages: int = 1,
    resolve: Mapping[str, str] | None = None,
) -> dict[str, Any]:
    """Scan ``start_url`` and up to ``pages - 1`` same-site pages it links to; the report."""
    started = utc_now()
    results: list[PageResult] = []
    queue, queued = [_clean(start_url)], {_clean(start_url)}
    with launched(resolve) as browser:
        while queue and len(results) < pages:
            url = queue.pop(0)
            try:
                result = scan_page(browser, url, rules)
            except ScanError:
                if not results:
                    raise
                continue  # a broken link deeper in the site does not end the scan
            results.append(result)
            for link in result.visits["before"].links:
                link = _clean(link)
                if link not in queued and _is_followable(link, start_url):
                    queued.add(link)
                    queue.append(link)
    findings = [f for r in results for f in r.findings]
    return {
        "site": site,
        "url": start_url,
        "started_at": started,
        "finished_at": utc_now(),
        "summary": {
            "pages": len(results),
            "violations": sum(f.verdict == "violation" for f in findings),
            "warnings": sum(f.verdict == "warning" for f in findings),
        },
        "findings": [f.as_dict() for f in findings],
        "pages": [r.as_dict() for r in results],
    }


def scan_page(browser: Browser, url: str, rules: Rules) -> PageResult:
    result = PageResult(url)
    with _visitor(browser) as (page, recorder):
        _open(page, url)
        result.visits["before"] = recorder.visit(url)
        result.banner = _choose(page, REFUSE)
        if result.banner:
            recorder.reset()
            _reload(page)
            result.visits["refused"] = recorder.visit(url)
    if result.banner:
        with _visitor(browser) as (page, recorder):
            _open(page, url)
            if _choose(page, ACCEPT):
                recorder.reset()
                _reload(page)
                result.visits["accepted"] = recorder.visit(url)
    before = result.visits["before"]
    for phase in PHASES:
        if phase in result.visits:
            seen = before if phase == "accepted" else None
            result.findings += classify(result.visits[phase], phase, rules, seen)
    if not result.banner:
        result.findings.append(
            Finding(
                "warning", "banner", "no consent banner with a 'Refuse all' button", "before", url
            )
        )
    return result


class _visitor:
    """A new visitor: a fresh context with the cookie witness, one page, its recorder."""

    def __init__(self, browser: Browser) -> None:
        self.browser = browser
        self.context: BrowserContext | None = None

    def __enter__(self) -> tuple[Page, Recorder]:
        self.context = self.browser.new_context(locale="en-GB")
        self.context.set_default_timeout(PAGE_TIMEOUT_MS)
        self.context.add_init_script(COOKIE_WITNESS)
        page = self.context.new_page()
        return page, Recorder(self.context, page)

    def __exit__(self, *exc: object) -> None:
        if self.context is not None:
            self.context.close()


def _open(page: Page, url: str) -> None:
    try:
        response = page.goto(url, wait_until="load")
    except PlaywrightError as error:
        reason = str(error).splitlines()[0].removeprefix("Page.goto: ")
        raise ScanError(f"cannot open {url}: {reason}") from None
    if response is not None and response.status >= 400:
        raise ScanError(f"cannot open {url}: the server answered HTTP {response.status}")
    _settle(page)


def _reload(page: Page) -> None:
    page.reload(wait_until="load")
    _settle(page)


def _settle(page: Page) -> None:
    """Wait until no request has been under way for 500 ms, or ``IDLE_TIMEOUT_MS``."""
    with contextlib.suppress(PlaywrightTimeout):
        page.wait_for_load_state("networkidle", timeout=IDLE_TIMEOUT_MS)


def _choose(page: Page, name: re.Pattern[str]) -> bool:
    """Click the banner button named ``name``; ``False`` when there is no such button."""
    button = page.get_by_role("button", name=name).first
    try:
        button.wait_for(state="visible", timeout=BANNER_TIMEOUT_MS)
    except PlaywrightError:
        return False
    button.click()
    button.wait_for(state="hidden")
    _settle(page)
    return True


def _clean(url: str) -> str:
    return urldefrag(url)[0]


def _is_followable(link: str, start_url: str) -> bool:
    parts, start = urlsplit(link), urlsplit(start_url)
    return (
        parts.scheme in ("http", "https")
        and bool(parts.hostname)
        and is_same_site(parts.hostname or "", start.hostname or "")
    )
