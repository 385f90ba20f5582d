"""Build each site's widget bundle once: script + styles + configuration + strings.

The sources in ``widget/`` are minified when the application starts (rjsmin and rcssmin: no
Node toolchain at run time). A site's bundle is the minified script with the site's
configuration, strings and styles inlined, so the banner needs one request. Each bundle is
compressed once (gzip and brotli) and named by an ETag; it is rebuilt only when the site's
revision or the partner catalogue changes (the catalogue snapshot's *generation*).
"""

from __future__ import annotations

import gzip
import hashlib
import threading
from dataclasses import dataclass
from typing import Any

import brotli
import orjson
import rcssmin
import rjsmin

from consent.catalogue import Catalogue, SiteView
from consent.settings import PROJECT_ROOT
from consent.sites import SitesConfig
from consent.texts import TextArchive, strings

WIDGET_DIR = PROJECT_ROOT / "widget"
CONFIG_PLACEHOLDER = "__CONSENT_CONFIG__"


@dataclass(frozen=True)
class Bundle:
    identity: bytes
    gzip: bytes
    brotli: bytes
    etag: str
    texts: dict[str, str]

    def encoded(self, accept_encoding: str) -> tuple[bytes, str | None, str]:
        """The body, its Content-Encoding and its ETag for this Accept-Encoding header."""
        accepted = {part.split(";")[0].strip() for part in accept_encoding.lower().split(",")}
        if "br" in accepted:
            return self.brotli, "br", f'"{self.etag}-br"'
        if "gzip" in accepted:
            return self.gzip, "gzip", f'"{self.etag}-gz"'
        return self.identity, None, f'"{self.etag}"'


class WidgetBuilder:
    def __init__(
        self,
        config: SitesConfig,
        catalogue: Catalogue,
        archive: TextArchive,
        public_api: str | None = None,
    ) -> None:
        self._config = config
        self._catalogue = catalogue
        self._archive = archive
        self._public_api = public_api
        self._script = rjsmin.jsmin((WIDGET_DIR / "consent.js").read_text(encoding="utf-8"))
        self._style = rcssmin.cssmin((WIDGET_DIR / "consent.css").read_text(encoding="utf-8"))
        if CONFIG_PLACEHOLDER not in self._script:
            raise RuntimeError(f"widget/consent.js must contain {CONFIG_PLACEHOLDER}")
        self._bundles: dict[str, tuple[str, Bundle]] = {}
        self._lock = threading.Lock()

    def bundle(self, site_id: str) -> Bundle | None:
        """The site's current bundle (``None`` for an unknown site)."""
        snapshot = self._catalogue.snapshot()
        view = snapshot.sites.get(site_id)
        if view is None:
            return None
        cached = self._bundles.get(site_id)
        if cached is not None and cached[0] == snapshot.generation:
            return cached[1]
        with self._lock:
            cached = self._bundles.get(site_id)
            if cached is None or cached[0] != snapshot.generation:
                cached = (snapshot.generation, self._build(view))
                self._bundles[site_id] = cached
        return cached[1]

    def texts_hashes(self, site_id: str) -> dict[str, str]:
        """``{language: hash}`` of the banner texts the site's current bundle shows."""
        bundle = self.bundle(site_id)
        return bundle.texts if bundle else {}

    def site_config(self, view: SiteView) -> dict[str, Any]:
        """The public configuration of a site, as ``GET /v1/sites/<site>/config`` returns it."""
        config, site = self._config, view.config
        return {
            "site": site.id,
            "name": site.name,
            "revision": view.revision,
            "languages": list(site.languages),
            "default_language": site.default_language,
            "categories": [
                {
                    "id": c.id,
                    "required": c.required,
                    "cookies": [k.model_dump(exclude_none=True) for k in c.cookies]
                    + (
                        [
                            {
                                "name": site.cookie.name,
                                "lifetime": _lifetime(config),
                                "purpose": "Remembers your cookie choice",
                            }
                        ]
                        if c.required
                        else []
                    ),
                }
                for c in config.categories
            ],
            "partners": [
                {
                    "id": p.id,
                    "name": p.name,
                    "category": p.category,
                    "privacy_url": p.privacy_url,
                    "purpose": {lang: p.purpose_in(lang) for lang in site.languages},
                    "cookies": [dict(c) for c in p.cookies],
                }
                for p in view.partners
            ],
            "cookie": {
                "name": site.cookie.name,
                "domain": site.cookie.domain,
                "refusal_months": config.durations.refusal_months,
                "consent_months": config.durations.consent_months,
            },
            "consent_mode": site.consent_mode,
            "theme": site.theme.model_dump(),
            "policy": {"url": site.privacy_policy_url, "version": config.policy.version},
            "controller": {
                "name": config.controller.name,
                "address": config.controller.address,
                "dpo": config.controller.dpo_email,
            },
        }

    def _build(self, view: SiteView) -> Bundle:
        texts = self._archive.archive(self._config, view)
        payload = self.site_config(view)
        payload["api"] = self._public_api
        payload["texts"] = texts
        payload["strings"] = {
            lang: strings(self._config, view, lang) for lang in view.config.languages
        }
        payload["css"] = self._style
        body = self._script.replace(CONFIG_PLACEHOLDER, script_safe_json(payload)).encode()
        return Bundle(
            identity=body,
            gzip=gzip.compress(body, compresslevel=9, mtime=0),
            brotli=brotli.compress(body, quality=11, mode=brotli.MODE_TEXT),
            etag=hashlib.sha256(body).hexdigest()[:20],
            texts=texts,
        )


def script_safe_json(value: object) -> str:
    """JSON that stays a string literal even if the widget is pasted inline into a page.

    ``<``, ``>`` and ``&`` become ``\\u`` escapes (the same string for JavaScript), so text
    from sites.yaml or the admin can never close a ``<script>`` element or open a comment;
    U+2028 and U+2029 likewise, for older JavaScript engines.
    """
    text = orjson.dumps(value).decode()
    for character, escape in _SCRIPT_ESCAPES:
        text = text.replace(character, escape)
    return text


_SCRIPT_ESCAPES = (
    ("<", "\\u003c"),
    (">", "\\u003e"),
    ("&", "\\u0026"),
    ("\u2028", "\\u2028"),
    ("\u2029", "\\u2029"),
)


def _lifetime(config: SitesConfig) -> str:
    durations = config.durations
    return (
        f"{durations.refusal_months} months after a refusal, "
        f"{durations.consent_months} after a consent"
    )
