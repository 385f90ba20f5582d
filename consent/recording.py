"""Record one decision: check it against the site, minimise the request, append, sign.

The API route parses and validates the body's shape; everything about what a decision means
happens here, on plain values, so that tests, benchmarks and the CLI can record decisions
without HTTP.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

from consent.decisions import Decision, DecisionError, resolve
from consent.ledger import Entry, timestamp
from consent.minimisation import reduce_user_agent, strip_page_url, truncate_ip
from consent.services import Services


class UnknownSite(LookupError):
    pass


@dataclass(frozen=True)
class Request:
    """A decision as the visitor's browser sent it, plus what the connection says."""

    site: str
    action: str
    categories: dict[str, bool]
    partners: dict[str, bool] | None = None
    consent_id: str | None = None
    revision: int | None = None
    language: str | None = None
    page_url: str | None = None
    gpc: bool = False
    texts_version: str | None = None
    user_agent: str | None = None
    remote_addr: str | None = None


@dataclass(frozen=True)
class Prepared:
    """A decision checked and minimised, ready to append: nothing is written yet."""

    entry: Entry
    decision: Decision
    revision: int


def record(services: Services, request: Request) -> dict[str, Any]:
    """Append the decision to the log and return what the visitor keeps (id, receipt, expiry)."""
    return write(services, prepare(services, request))


def prepare(services: Services, request: Request) -> Prepared:
    """Check the decision against the site and minimise the request, without writing anything.

    Raises :class:`DecisionError` or :class:`UnknownSite`; a caller may therefore try again
    (or hand the request to another path) after any error raised here.
    """
    view = services.catalogue.site(request.site)
    if view is None:
        raise UnknownSite(request.site)
    site = view.config
    revision = request.revision if request.revision is not None else view.revision
    if revision == view.revision:
        offered = view.partners
    else:
        partner_ids = services.catalogue.partners_at(site.id, revision)
        if partner_ids is None:
            raise DecisionError("revision", f"{site.id} has no revision {revision}")
        catalogue = services.catalogue.snapshot().partners
        offered = tuple(catalogue[p] for p in partner_ids if p in catalogue)
    language = request.language or site.default_language
    if language not in site.languages:
        raise DecisionError(
            "language", f"{site.id} speaks {', '.join(site.languages)}, not {language!r}"
        )
    decision = resolve(
        services.config, site.id, offered, request.action, request.categories, request.partners
    )
    page_url = None
    if request.page_url:
        try:
            page_url = strip_page_url(request.page_url)
        except ValueError as error:
            raise DecisionError("page_url", str(error)) from None
    if request.texts_version is not None:
        if not services.texts.is_known(request.texts_version, site.id, language):
            raise DecisionError("texts_version", "is not a version of this site's banner texts")
        texts_hash = request.texts_version
    else:
        texts_hash = services.widgets.texts_hashes(site.id)[language]
    entry = Entry(
        site_id=site.id,
        consent_id=request.consent_id or str(uuid.uuid4()),
        action=decision.action,
        categories=decision.categories,
        partners=decision.partners,
        revision=revision,
        policy_version=services.config.policy.version,
        texts_hash=texts_hash,
        language=language,
        controller=services.config.controller.label,
        gpc=request.gpc,
        lifetime_months=decision.lifetime_months,
        user_agent=reduce_user_agent(request.user_agent),
        ip_prefix=truncate_ip(request.remote_addr),
        page_url=page_url,
    )
    return Prepared(entry, decision, revision)


def write(services: Services, prepared: Prepared) -> dict[str, Any]:
    """Append a prepared decision (once committed) and sign its receipt; raises
    :class:`~consent.ledger.LedgerUnavailable` when nothing could be written."""
    decision, revision = prepared.decision, prepared.revision
    appended = services.ledger.append(prepared.entry)
    receipt = services.receipts.issue(
        appended,
        action=decision.action,
        categories=decision.categories,
        partners=decision.partners,
        revision=revision,
    )
    return {
        "consent_id": appended.consent_id,
        "receipt": receipt,
        "expires_at": timestamp(appended.expires_at),
        "recorded_at": timestamp(appended.created_at),
        "site": appended.site_id,
        "action": decision.action,
        "categories": decision.categories,
        "partners": decision.partners,
        "revision": revision,
    }
