"""A visitor's decision, checked against what the site offered and resolved in full.

The log must show every category and every partner explicitly granted or denied (legal
checklist, item 9), so a decision is completed here: a partner the visitor did not mention
follows its category. A decision that contradicts itself (``accept_all`` with advertising
refused, a partner granted while its category is refused, technical cookies refused) is
rejected with the field at fault rather than silently corrected.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from consent.catalogue import PartnerInfo
from consent.sites import Durations, SitesConfig

ACTIONS = ("accept_all", "refuse_all", "custom", "withdraw")


class DecisionError(ValueError):
    """The decision cannot be recorded as given; ``field`` names the culprit."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message


@dataclass(frozen=True)
class Decision:
    action: str
    categories: dict[str, bool]
    partners: dict[str, bool]
    lifetime_months: int


def resolve(
    config: SitesConfig,
    site_id: str,
    offered: tuple[PartnerInfo, ...],
    action: str,
    categories: Mapping[str, bool],
    partners: Mapping[str, bool] | None,
    durations: Durations | None = None,
) -> Decision:
    """Check ``categories``/``partners`` against the site's offer and complete them."""
    if action not in ACTIONS:
        raise DecisionError("action", f"must be one of {', '.join(ACTIONS)}")
    known = {c.id: c for c in config.categories}
    for name in categories:
        if name not in known:
            raise DecisionError(
                f"categories.{name}",
                f"unknown category (this site has: {', '.join(known)})",
            )
    resolved: dict[str, bool] = {}
    for category in config.categories:
        if category.id not in categories:
            raise DecisionError(
                f"categories.{category.id}", "is required: every category must be decided"
            )
        granted = categories[category.id]
        if category.required and not granted:
            raise DecisionError(f"categories.{category.id}", "is always on and cannot be refused")
        resolved[category.id] = granted
    optional = [c.id for c in config.categories if not c.required]
    if action == "accept_all" and not all(resolved[c] for c in optional):
        raise DecisionError("categories", "accept_all must grant every category")
    if action in ("refuse_all", "withdraw") and any(resolved[c] for c in optional):
        raise DecisionError("categories", f"{action} must refuse every optional category")

    by_id = {p.id: p for p in offered}
    given = dict(partners or {})
    for partner_id in given:
        if partner_id not in by_id:
            raise DecisionError(
                f"partners.{partner_id}", "is not a partner of this site at this revision"
            )
    decided: dict[str, bool] = {}
    for partner in offered:
        category_granted = resolved.get(partner.category, False)
        granted = given.get(partner.id, category_granted)
        if granted and not category_granted:
            raise DecisionError(
                f"partners.{partner.id}",
                f"cannot be granted while its category {partner.category!r} is refused",
            )
        if action == "accept_all" and not granted:
            raise DecisionError(f"partners.{partner.id}", "accept_all must grant every partner")
        decided[partner.id] = granted
    # A category granted with every one of its partners refused grants nothing in effect.
    durations = durations or config.durations
    grants = any(decided.values()) or any(
        resolved[c] and not any(p.category == c for p in offered) for c in optional
    )
    lifetime = durations.consent_months if grants else durations.refusal_months
    return Decision(action, resolved, decided, lifetime)
