"""One visit of one page: the cookies it leaves, who set them, and the hosts it calls.

A cookie is taken from the browser's own cookie jar once the network is idle, so only cookies
that really stuck are reported. Who set it comes from two witnesses: the ``Set-Cookie`` headers
of every response (the request URL), and an init script that wraps ``document.cookie``'s
setter and notes the URL of the script on top of the stack at each write. Requests are
recorded as they leave, so a call to a host that does not answer still counts.
"""

from __future__ import annotations

import datetime as dt
import time
from dataclasses import asdict, dataclass, field
from typing import Any
from urllib.parse import urlsplit

from playwright.sync_api import BrowserContext, Page, Response
from playwright.sync_api import Error as PlaywrightError

from consent.scanner.hosts import is_same_site

# Runs before any script of the page: every document.cookie write is noted with the URL of the
# script that made it (the first http(s) frame of the stack; the wrapper itself has no URL).
COOKIE_WITNESS = """
(() => {
  const native = Object.getOwnPropertyDescriptor(Document.prototype, "cookie");
  if (!native || window.__consentScanWrites) return;
  const writes = [];
  Object.defineProperty(window, "__consentScanWrites", { value: writes });
  Object.defineProperty(Document.prototype, "cookie", {
    configurable: true,
    enumerable: native.enumerable,
    get() { return native.get.call(this); },
    set(value) {
      const text = String(value);
      const frames = (new Error().stack || "").match(/https?:\\/\\/[^\\s()]+/g) || [];
      const script = frames.length ? frames[0].replace(/:\\d+:\\d+$/, "") : location.href;
      writes.push({ name: text.split(";")[0].split("=")[0].trim(), script });
      native.set.call(this, value);
    },
  });
})();
"""


@dataclass
class Cookie:
    name: str
    domain: str
    party: str  # "first" or "third"
    lifetime: str  # "session" or e.g. "90 days"
    set_by: str | None  # "script <url>" or "response <url>", None when no witness saw it

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class Visit:
    """What one load of a page left behind (cookies) and reached out to (hosts)."""

    url: str
    cookies: list[Cookie] = field(default_factory=list)
    hosts: dict[str, str] = field(default_factory=dict)  # other host → first URL requested
    links: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {
            "url": self.url,
            "cookies": [c.as_dict() for c in self.cookies],
            "hosts": [{"host": h, "first_request": u} for h, u in sorted(self.hosts.items())],
        }


class Recorder:
    """Listens to a page; ``visit()`` returns what happened since the last ``reset()``."""

    def __init__(self, context: BrowserContext, page: Page) -> None:
        self.context, self.page = context, page
        self._requests: list[str] = []
        self._responses: list[Response] = []
        self._setters: dict[str, str] = {}
        page.on("request", lambda request: self._requests.append(request.url))
        page.on("response", lambda response: self._responses.append(response))

    def reset(self) -> None:
        """Forget the requests so far (before a reload); who set which cookie is kept."""
        self._witness()
        self._requests.clear()

    def visit(self, url: str) -> Visit:
        page_host = urlsplit(url).hostname or ""
        self._witness()
        result = Visit(url=url, links=self._links())
        for request_url in self._requests:
            parts = urlsplit(request_url)
            host = parts.hostname
            if parts.scheme in ("http", "https") and host and not is_same_site(host, page_host):
                result.hosts.setdefault(host, request_url)
        now = time.time()
        for raw in self.context.cookies():
            domain = raw["domain"].lstrip(".")
            result.cookies.append(
                Cookie(
                    name=raw["name"],
                    domain=domain,
                    party="first" if is_same_site(domain, page_host) else "third",
                    lifetime=lifetime(raw.get("expires", -1), now),
                    set_by=self._setters.get(raw["name"]),
                )
            )
        result.cookies.sort(key=lambda c: (c.party, c.domain, c.name))
        return result

    def _witness(self) -> None:
        """Collect who set which cookie from the responses and the page's cookie writes."""
        for name, setter in [*self._response_setters(), *self._script_setters()]:
            self._setters.setdefault(name, setter)
        self._responses.clear()

    def _response_setters(self) -> list[tuple[str, str]]:
        setters = []
        for response in self._responses:
            try:
                headers = response.all_headers()
            except PlaywrightError:  # the response of a page already gone
                continue
            for line in headers.get("set-cookie", "").split("\n"):
                name = line.split(";")[0].split("=")[0].strip()
                if name:
                    setters.append((name, f"response {response.url}"))
        return setters

    def _script_setters(self) -> list[tuple[str, str]]:
        writes = self.page.evaluate("() => window.__consentScanWrites || []")
        return [(w["name"], f"script {w['script']}") for w in writes if w.get("name")]

    def _links(self) -> list[str]:
        return self.page.evaluate(
            "() => Array.from(document.querySelectorAll('a[href]'), a => a.href)"
        )


def lifetime(expires: float, now: float) -> str:
    """A cookie's remaining life in words: ``session``, ``15 minutes``, ``90 days``."""
    if expires is None or expires < 0:
        return "session"
    seconds = max(0.0, expires - now)
    if seconds < 3600:
        return f"{round(seconds / 60)} minutes"
    if seconds < 2 * 86400:
        return f"{round(seconds / 3600)} hours"
    return f"{round(seconds / 86400)} days"


def utc_now() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
