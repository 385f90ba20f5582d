"""Build each site's widget bundle once: script + styles + configuration + strings.

The sources in ``widget/`` are minified when the application starts (rjsmin and rcssmin: no
Node toolchain at run time) and the script's local names are shortened
(:mod:`consent.jsnames`). A bundle is that script with one site's configuration, the styles
and the strings of one language inlined, so the banner needs one request and a visitor
downloads one language, not four. Each bundle is compressed once (gzip and brotli) and named
by an ETag; it is rebuilt only when the site's revision or the partner catalogue changes (the
catalogue snapshot's *generation*).
"""

from __future__ import annotations

import hashlib
import threading
from dataclasses import dataclass
from typing import Any

import brotli
import orjson
import rcssmin
import rjsmin
import zopfli.gzip

from consent import jsnames
from consent.catalogue import Catalogue, SiteView
from consent.settings import PROJECT_ROOT
from consent.sites import Site, SitesConfig
from consent.texts import TextArchive, catalogue, choice_lifetime, content

WIDGET_DIR = PROJECT_ROOT / "widget"
CONFIG_PLACEHOLDER = "__CONSENT_CONFIG__"


@dataclass(frozen=True)
class Bundle:
    identity: bytes
    gzip: bytes
    brotli: bytes
    etag: str
    texts: dict[str, str]
    language: str

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
        self._script = jsnames.drop_redundant_punctuation(
            jsnames.shorten(rjsmin.jsmin((WIDGET_DIR / "consent.js").read_text(encoding="utf-8")))
        )
        self._style = rcssmin.cssmin((WIDGET_DIR / "consent.css").read_text(encoding="utf-8"))
        if CONFIG_PLACEHOLDER not in self._script:
            raise RuntimeError(f"widget/consent.js must contain {CONFIG_PLACEHOLDER}")
        self._bundles: dict[tuple[str, str], tuple[str, Bundle]] = {}
        self._texts: dict[str, tuple[str, dict[str, str]]] = {}
        self._lock = threading.Lock()

    def bundle(
        self, site_id: str, language: str | None = None, accept_language: str = ""
    ) -> Bundle | None:
        """The site's current bundle in one language (``None`` for an unknown site).

        The language is ``language`` when the site speaks it, else the first of the site's
        languages in ``accept_language`` (an Accept-Language header), else the site's default.
        """
        snapshot = self._catalogue.snapshot()
        view = snapshot.sites.get(site_id)
        if view is None:
            return None
        chosen = choose_language(view.config, language, accept_language)
        key = (site_id, chosen)
        cached = self._bundles.get(key)
        if cached is not None and cached[0] == snapshot.generation:
            return cached[1]
        with self._lock:
            cached = self._bundles.get(key)
            if cached is None or cached[0] != snapshot.generation:
                texts = self._texts_of(view, snapshot.generation)
                cached = (snapshot.generation, self._build(view, chosen, texts))
                self._bundles[key] = cached
        return cached[1]

    def texts_hashes(self, site_id: str) -> dict[str, str]:
        """``{language: hash}`` of the banner texts the site's current bundles show."""
        snapshot = self._catalogue.snapshot()
        view = snapshot.sites.get(site_id)
        if view is None:
            return {}
        with self._lock:
            return self._texts_of(view, snapshot.generation)

    def _texts_of(self, view: SiteView, generation: str) -> dict[str, str]:
        cached = self._texts.get(view.id)
        if cached is None or cached[0] != generation:
            cached = (generation, self._archive.archive(self._config, view))
            self._texts[view.id] = cached
        return cached[1]

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
                                "lifetime": choice_lifetime(config, catalogue("en")),
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

    def widget_config(self, view: SiteView, language: str, texts_version: str) -> dict[str, Any]:
        """What the script itself needs, in one language: the public configuration, trimmed.

        Cookies become ``[name, lifetime, read by a third party]``, lifetimes in words of
        ``language``; the strings, the partners' purposes and the texts version are those of
        ``language`` only, and the same as the archived banner texts (``texts.content``). Each
        category carries its own title and description (``category.<id>.title``/``.description``
        in the strings), and ``api`` is left out when the script finds the service from its own URL.
        """
        public = self.site_config(view)
        shown = content(self._config, view, language)
        texts = {k: v for k, v in shown["strings"].items() if not k.startswith("lifetime.")}
        categories = [
            {
                "id": c["id"],
                "required": c["required"],
                "title": texts.pop(f"category.{c['id']}.title", c["id"]),
                "description": texts.pop(f"category.{c['id']}.description", ""),
                "cookies": _cookies(c["cookies"]),
            }
            for c in shown["categories"]
        ]
        return {
            "site": public["site"],
            "revision": public["revision"],
            "lang": language,
            "languages": public["languages"],
            "default_language": public["default_language"],
            "categories": categories,
            "partners": [
                {
                    "id": p["id"],
                    "name": p["name"],
                    "category": p["category"],
                    "privacy_url": p["privacy_url"],
                    "purpose": p["purpose"],
                    "cookies": _cookies(p["cookies"]),
                }
                for p in shown["partners"]
            ],
            "cookie": public["cookie"],
            "consent_mode": public["consent_mode"],
            "theme": public["theme"],
            "policy": public["policy"]["url"],
            **({"api": self._public_api} if self._public_api else {}),
            "texts_version": texts_version,
            "strings": texts,
            "css": self._style,
        }

    def _build(self, view: SiteView, language: str, texts: dict[str, str]) -> Bundle:
        payload = self.widget_config(view, language, texts[language])
        body = self._script.replace(CONFIG_PLACEHOLDER, script_safe_json(payload)).encode()
        return Bundle(
            identity=body,
            # Zopfli writes ordinary gzip, a few per cent smaller than zlib's best.
            gzip=zopfli.gzip.compress(body, numiterations=15),
            brotli=brotli.compress(body, quality=11, mode=brotli.MODE_TEXT),
            etag=hashlib.sha256(body).hexdigest()[:20],
            texts=texts,
            language=language,
        )


def choose_language(site: Site, requested: str | None, accept_language: str) -> str:
    """``requested`` if the site speaks it, else the best of Accept-Language, else the default."""
    if requested in site.languages:
        return requested
    ranked = []
    for position, part in enumerate(accept_language.split(",")):
        tag, _, params = part.strip().partition(";")
        quality = 1.0
        if params.strip().startswith("q="):
            try:
                quality = float(params.strip()[2:])
            except ValueError:
                continue
        if quality <= 0:
            continue
        ranked.append((-quality, position, tag.strip()[:2].lower()))
    for _, _, code in sorted(ranked):
        if code in site.languages:
            return code
    return site.default_language


def _cookies(cookies: list[dict[str, Any]]) -> list[list[Any]]:
    return [[c["name"], c.get("lifetime") or "", 1 if c.get("third_party") else 0] for c in cookies]


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
