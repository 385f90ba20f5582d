"""Host pages for the banner tests: any HTML, served on a site's own host name.

A test describes the page a site would serve (its head, its gated tags, its Content-Security-
Policy); Playwright answers that one URL, and everything else (the widget, the API) comes from
the real service on loopback. The stand-in tags record that they ran in ``window.ran`` and set
the first-party cookie names of the partner they stand for.
"""

from __future__ import annotations

import datetime as dt
import json
import urllib.request
from itertools import count
from typing import Any

from playwright.sync_api import Page

_pages = count(1)

RECORDED = "() => { const s = window.MixvoipConsent.get(); return s && s.receipt; }"


def tag(partner: str, label: str | None = None, cookie: str | None = None) -> str:
    """An inline advertising stand-in for ``partner``."""
    body = f"(window.ran = window.ran || []).push({json.dumps(label or partner)});"
    if cookie:
        body += f"document.cookie = {json.dumps(cookie + '=1; Path=/; Max-Age=3600')};"
    return (
        f'<script type="text/plain" data-consent="advertising" data-partner="{partner}">'
        f"{body}</script>"
    )


def serve(
    page: Page,
    site_url: Any,
    site: str,
    body: str = "",
    head: str = "",
    lang: str | None = "en",
    csp: str | None = None,
    nonce: str | None = None,
    widget: str | None = None,
    scripts: dict[str, str] | None = None,
) -> str:
    """Serve a page embedding the site's widget first in <head>; return its URL."""
    url = site_url(site, f"/host/{next(_pages)}")
    src = widget or f"/v1/sites/{site}/widget.js"
    nonce_attr = f' nonce="{nonce}"' if nonce else ""
    lang_attr = f' lang="{lang}"' if lang else ""
    html = (
        f"<!doctype html><html{lang_attr}><head><meta charset='utf-8'>"
        f'<script src="{src}"{nonce_attr}></script><title>Host page</title>{head}</head>'
        f"<body><main><h1>Host page</h1>{body}"
        '<p><a href="#" data-consent-open>Cookie settings</a></p></main></body></html>'
    )
    headers = {"Content-Security-Policy": csp} if csp else {}
    _answer(page, url, html, "text/html", headers)
    for path, source in (scripts or {}).items():
        _answer(page, site_url(site, path), source, "application/javascript")
    return url


def _answer(page: Page, url: str, body: str, kind: str, headers: dict | None = None) -> None:
    def fulfil(route: Any) -> None:
        route.fulfill(body=body, content_type=kind, headers=headers or {})

    page.route(url, fulfil)


def history(server: Any, state: dict) -> list[dict]:
    """The log's records for the visitor's consent id, read with their receipt."""
    url = f"{server.url}/v1/consents/{state['consent_id']}?receipt={state['receipt']}"
    with urllib.request.urlopen(url) as response:
        return json.loads(response.read())["records"]


def consent_cookie(page: Page, name: str) -> dict:
    [cookie] = [c for c in page.context.cookies() if c["name"] == name]
    return cookie


def months_left(cookie: dict) -> float:
    left = dt.datetime.fromtimestamp(cookie["expires"], dt.UTC) - dt.datetime.now(dt.UTC)
    return left.days / 30.44
