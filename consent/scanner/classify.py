"""Judge each cookie and host a visit found against the partner catalogue.

``technical``: a cookie of a required category (sites.yaml's inventory, the site's consent
cookie) or a host of the site or the consent service; allowed at any time. A cookie or host of
a partner in an opt-in category is ``violation`` when it appears before consent or after a
refusal, and ``unlocked`` when it appears only once the visitor accepted. Anything the
catalogue does not know is a ``warning``: someone should look at it and add it to the
catalogue or remove it from the site.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import asdict, dataclass
from typing import Any
from urllib.parse import urlsplit

from consent.scanner.capture import Visit
from consent.scanner.hosts import matches_cookie, matches_host
from consent.sites import Site, SitesConfig

PHASES = ("before", "refused", "accepted")
PHASE_LABELS = {
    "before": "before consent",
    "refused": "after refusal",
    "accepted": "after acceptance",
}
VERDICTS = ("violation", "warning", "unlocked", "technical")


@dataclass(frozen=True)
class Known:
    """What the catalogue says about a cookie or host."""

    category: str
    required: bool
    partner: str | None = None  # partner id; None for the technical inventory


@dataclass(frozen=True)
class Entry:
    pattern: str
    known: Known


@dataclass(frozen=True)
class Rules:
    cookies: tuple[Entry, ...]
    hosts: tuple[Entry, ...]

    def cookie(self, name: str) -> Known | None:
        return next((e.known for e in self.cookies if matches_cookie(name, e.pattern)), None)

    def host(self, host: str) -> Known | None:
        return next((e.known for e in self.hosts if matches_host(host, e.pattern)), None)


def rules_for(
    config: SitesConfig, site: Site, partners: Iterable[Any], service_url: str | None = None
) -> Rules:
    """The rules for ``site``: sites.yaml's technical inventory plus every catalogue partner.

    ``partners`` are the catalogue's partners (sites.yaml's and those added in the admin),
    each with ``id``, ``category``, ``cookies`` (``name`` may hold ``*``) and ``hosts``.
    """
    required = {c.id: c.required for c in config.categories}
    technical = Known("technical", True)
    cookies = [Entry(site.cookie.name, technical)]
    for category in config.categories:
        if category.required:
            cookies += [Entry(c.name, Known(category.id, True)) for c in category.cookies]
    hosts = [Entry(urlsplit(origin).hostname or "", technical) for origin in site.origins]
    if service_url:
        hosts.append(Entry(urlsplit(service_url).hostname or "", technical))
    for partner in partners:
        known = Known(partner.category, required.get(partner.category, False), partner.id)
        for cookie in partner.cookies:
            name = cookie["name"] if isinstance(cookie, dict) else cookie.name
            cookies.append(Entry(name, known))
        hosts += [Entry(host, known) for host in partner.hosts]
    return Rules(tuple(cookies), tuple(hosts))


@dataclass
class Finding:
    verdict: str  # violation, warning, unlocked, technical
    kind: str  # cookie, host or banner
    name: str
    phase: str
    page: str
    category: str | None = None
    partner: str | None = None
    domain: str | None = None
    party: str | None = None
    lifetime: str | None = None
    source: str | None = None  # who set the cookie, or the first URL requested on the host

    @property
    def key(self) -> tuple[str, str, str, str]:
        """What stays the same for this finding from one scan to the next."""
        return (self.kind, self.name, self.phase, self.page)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def verdict_for(known: Known | None, phase: str) -> str:
    if known is None:
        return "warning"
    if known.required:
        return "technical"
    return "unlocked" if phase == "accepted" else "violation"


def classify(visit: Visit, phase: str, rules: Rules, seen: Visit | None = None) -> list[Finding]:
    """The findings of one visit; with ``seen`` (the first visit), only what is new."""
    old_cookies = {(c.name, c.domain) for c in seen.cookies} if seen else set()
    old_hosts = set(seen.hosts) if seen else set()
    findings = []
    for cookie in visit.cookies:
        if (cookie.name, cookie.domain) in old_cookies:
            continue
        known = rules.cookie(cookie.name)
        findings.append(
            Finding(
                verdict=verdict_for(known, phase),
                kind="cookie",
                name=cookie.name,
                phase=phase,
                page=visit.url,
                category=known.category if known else None,
                partner=known.partner if known else None,
                domain=cookie.domain,
                party=cookie.party,
                lifetime=cookie.lifetime,
                source=cookie.set_by,
            )
        )
    for host, first_request in sorted(visit.hosts.items()):
        if host in old_hosts:
            continue
        known = rules.host(host)
        findings.append(
            Finding(
                verdict=verdict_for(known, phase),
                kind="host",
                name=host,
                phase=phase,
                page=visit.url,
                category=known.category if known else None,
                partner=known.partner if known else None,
                party="third",
                source=first_request,
            )
        )
    return findings
