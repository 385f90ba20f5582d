"""What a banner says, per site and language, and the immutable archive of every version.

Strings come from ``widget/i18n/<lang>.json``, overridden per site by ``sites.yaml``
(``sites[].texts``), with ``{site}``, ``{controller}`` and ``{dpo}`` filled in. The texts a
visitor reads are the strings plus the list of partners with their purposes, so both form the
*banner texts*: their canonical JSON is hashed, stored once in ``banner_texts`` under that
hash, and each log record names the hash of the version its visitor was shown.
"""

from __future__ import annotations

import hashlib
import json
import re
import threading
from functools import cache
from typing import Any

from sqlalchemy import Engine, select
from sqlalchemy.dialects import postgresql, sqlite

from consent.catalogue import SiteView
from consent.ledger import canonical
from consent.models import BannerText
from consent.sites import CATALOGUE_DIR, SitesConfig


@cache
def catalogue(language: str) -> dict[str, str]:
    """The shipped strings of one language (English fills any gap)."""
    english = json.loads((CATALOGUE_DIR / "en.json").read_text(encoding="utf-8"))
    if language == "en":
        return english
    own = json.loads((CATALOGUE_DIR / f"{language}.json").read_text(encoding="utf-8"))
    return {**english, **own}


def strings(config: SitesConfig, view: SiteView, language: str) -> dict[str, str]:
    site = view.config
    merged = {**catalogue(language), **site.texts.get(language, {})}
    values = {
        "site": site.name,
        "controller": config.controller.name,
        "dpo": config.controller.dpo_email,
    }
    return {key: _fill(text, values) for key, text in merged.items()}


_LIFETIME = re.compile(r"(\d+) (minute|hour|day|week|month|year)s?")


def lifetime_in(texts: dict[str, str], lifetime: str | None) -> str:
    """A cookie lifetime from sites.yaml (``90 days``, ``1 year``, ``session``) in the language of
    ``texts`` (its ``lifetime.*`` strings); any other wording is shown as written."""
    if not lifetime:
        return ""
    if lifetime == "session":
        return texts["lifetime.session"]
    match = _LIFETIME.fullmatch(lifetime)
    if match is None:
        return lifetime
    count, unit = int(match[1]), match[2]
    one, _, many = texts[f"lifetime.{unit}"].partition("|")
    return (one if count == 1 else many or one).replace("{n}", str(count))


def choice_lifetime(config: SitesConfig, texts: dict[str, str]) -> str:
    """The consent cookie's own lifetime: the refusal's and the consent's, in words."""
    months = config.durations
    return (
        texts["lifetime.choice"]
        .replace("{refusal}", lifetime_in(texts, f"{months.refusal_months} months"))
        .replace("{consent}", lifetime_in(texts, f"{months.consent_months} months"))
    )


def cookie_list(texts: dict[str, str], cookies: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Cookies as the banner lists them: lifetimes in the banner's language."""
    return [{**c, "lifetime": lifetime_in(texts, c.get("lifetime"))} for c in cookies]


def content(config: SitesConfig, view: SiteView, language: str) -> dict[str, Any]:
    """Everything the banner shows in ``language``: the strings and the partners' details."""
    site = view.config
    texts = strings(config, view, language)
    return {
        "site": site.id,
        "language": language,
        "revision": view.revision,
        "controller": config.controller.label,
        "dpo": config.controller.dpo_email,
        "policy": {"url": site.privacy_policy_url, "version": config.policy.version},
        "strings": texts,
        "categories": [
            {
                "id": c.id,
                "required": c.required,
                "cookies": cookie_list(texts, [k.model_dump(exclude_none=True) for k in c.cookies])
                + (
                    [{"name": site.cookie.name, "lifetime": choice_lifetime(config, texts)}]
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
                "purpose": p.purpose_in(language),
                "privacy_url": p.privacy_url,
                "cookies": cookie_list(texts, [dict(c) for c in p.cookies]),
            }
            for p in view.partners
        ],
    }


def digest(body: bytes) -> str:
    return hashlib.sha256(body).hexdigest()


class TextArchive:
    """Stores banner texts once by hash and remembers which hashes exist."""

    def __init__(self, engine: Engine) -> None:
        self._engine = engine
        self._known: set[tuple[str, str, str]] = set()
        self._lock = threading.Lock()

    def archive(self, config: SitesConfig, view: SiteView) -> dict[str, str]:
        """Archive the site's texts in each of its languages; return ``{language: hash}``."""
        hashes: dict[str, str] = {}
        rows = []
        for language in view.config.languages:
            body = canonical(content(config, view, language))
            text_hash = digest(body)
            hashes[language] = text_hash
            if (text_hash, view.id, language) not in self._known:
                rows.append(
                    {
                        "hash": text_hash,
                        "site_id": view.id,
                        "language": language,
                        "content": body.decode("utf-8"),
                    }
                )
        if rows:
            with self._engine.begin() as connection:
                dialect = postgresql if connection.dialect.name == "postgresql" else sqlite
                connection.execute(dialect.insert(BannerText).on_conflict_do_nothing(), rows)
            with self._lock:
                self._known.update((r["hash"], r["site_id"], r["language"]) for r in rows)
        return hashes

    def is_known(self, text_hash: str, site_id: str, language: str) -> bool:
        """Whether ``text_hash`` is a version of this site's texts in ``language``."""
        key = (text_hash, site_id, language)
        if key in self._known:
            return True
        with self._engine.connect() as connection:
            found = connection.execute(
                select(BannerText.hash).where(
                    BannerText.hash == text_hash,
                    BannerText.site_id == site_id,
                    BannerText.language == language,
                )
            ).first()
        if found:
            with self._lock:
                self._known.add(key)
        return found is not None


def _fill(text: str, values: dict[str, str]) -> str:
    for name, value in values.items():
        text = text.replace("{" + name + "}", value)
    return text
