"""sites.yaml → validated, immutable configuration objects.

The file names the controller, the privacy policy, the consent categories, the partner
catalogue and the four sites. It is validated by pydantic models that forbid unknown keys;
cross-references (a site's partners, a partner's category, a site's default language) are
checked after the shape. Any problem becomes one :class:`SitesFileError` whose message names
the file and every offending field, so start-up stops with a sentence, not a traceback.
"""

from __future__ import annotations

import datetime as dt
import json
from functools import cached_property
from pathlib import Path
from typing import Annotated, Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from consent.settings import PROJECT_ROOT, ConfigurationError

Language = Literal["en", "fr", "de", "nl"]
LANGUAGES: tuple[str, ...] = ("en", "fr", "de", "nl")
CATALOGUE_DIR = PROJECT_ROOT / "widget" / "i18n"

Slug = Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9-]{0,62}$")]
SiteId = Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9.-]{0,62}$")]
Origin = Annotated[str, Field(pattern=r"^https?://[a-z0-9.-]+(:[0-9]{1,5})?$")]
HttpUrl = Annotated[str, Field(pattern=r"^https?://[^\s<>\"']+$", max_length=500)]
CookieName = Annotated[str, Field(pattern=r"^[A-Za-z0-9_.*-]{1,100}$")]
Host = Annotated[str, Field(pattern=r"^(\*\.)?[a-z0-9.-]+\.[a-z]{2,}$")]
Colour = Annotated[str, Field(pattern=r"^#[0-9a-fA-F]{6}$")]
ShortText = Annotated[str, Field(min_length=1, max_length=300)]


class SitesFileError(ConfigurationError):
    """sites.yaml cannot be used; the message names the file and the field."""


class _Frozen(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Controller(_Frozen):
    name: ShortText
    address: ShortText
    dpo_email: Annotated[str, Field(pattern=r"^[^@\s]+@[^@\s]+\.[a-z]{2,}$")]

    @property
    def label(self) -> str:
        """The controller as every log row and export names it."""
        return f"{self.name}, {self.address}"


class Policy(_Frozen):
    url: HttpUrl
    version: ShortText
    date: dt.date


class Durations(_Frozen):
    refusal_months: int = Field(default=6, ge=1, le=24)
    consent_months: int = Field(default=13, ge=1, le=24)


class Retention(_Frozen):
    """How long log records, and the personal fields inside them, are kept."""

    years: int = Field(default=5, ge=1, le=30)
    ip_months: int = Field(default=6, ge=1, le=120)


class CookieSpec(_Frozen):
    """One cookie in an inventory; ``name`` may end or contain ``*`` for variable names."""

    name: CookieName
    lifetime: ShortText | None = None
    purpose: ShortText | None = None
    third_party: bool = False

    @classmethod
    def coerce(cls, value: Any) -> Any:
        return {"name": value} if isinstance(value, str) else value


def _cookie_list(value: Any) -> Any:
    return [CookieSpec.coerce(item) for item in value] if isinstance(value, list) else value


class Category(_Frozen):
    id: Slug
    required: bool = False
    cookies: tuple[CookieSpec, ...] = ()

    _cookies = field_validator("cookies", mode="before")(_cookie_list)


class Partner(_Frozen):
    id: Slug
    name: ShortText
    category: Slug
    privacy_url: HttpUrl
    purpose: dict[Language, ShortText] = Field(default_factory=dict)
    cookies: tuple[CookieSpec, ...] = ()
    hosts: tuple[Host, ...] = ()

    _cookies = field_validator("cookies", mode="before")(_cookie_list)

    def purpose_in(self, language: str) -> str:
        return self.purpose.get(language) or self.purpose.get("en") or ""


class CookieSettings(_Frozen):
    name: Annotated[str, Field(pattern=r"^[A-Za-z0-9_-]{1,64}$")]
    domain: Annotated[str, Field(pattern=r"^[a-z0-9.-]+\.[a-z]{2,}$")] | None = None


class Theme(_Frozen):
    position: Literal["bottom", "top", "center"] = "bottom"
    accent: Colour = "#0b5cad"
    background: Colour = "#ffffff"
    text: Colour = "#1d2430"


class Site(_Frozen):
    id: SiteId
    name: ShortText
    origins: tuple[Origin, ...] = Field(min_length=1)
    languages: tuple[Language, ...] = Field(min_length=1)
    default_language: Language
    cookie: CookieSettings
    privacy_policy_url: HttpUrl
    partners: tuple[Slug, ...] = ()
    consent_mode: bool = False
    theme: Theme = Theme()
    texts: dict[Language, dict[str, Annotated[str, Field(max_length=2000)]]] = Field(
        default_factory=dict
    )
    retention: Retention = Retention()
    scan_urls: tuple[HttpUrl, ...] = ()


class SitesConfig(_Frozen):
    controller: Controller
    policy: Policy
    durations: Durations = Durations()
    categories: tuple[Category, ...] = Field(min_length=1)
    partners: tuple[Partner, ...] = ()
    sites: tuple[Site, ...] = Field(min_length=1)

    def site(self, site_id: str) -> Site | None:
        return self.sites_by_id.get(site_id)

    def partner(self, partner_id: str) -> Partner | None:
        return self.partners_by_id.get(partner_id)

    @cached_property
    def sites_by_id(self) -> dict[str, Site]:
        return {site.id: site for site in self.sites}

    @cached_property
    def origins(self) -> frozenset[str]:
        """Every origin of every site (where the consent API may be called from)."""
        return frozenset(origin for site in self.sites for origin in site.origins)

    @cached_property
    def partners_by_id(self) -> dict[str, Partner]:
        return {partner.id: partner for partner in self.partners}

    @property
    def optional_categories(self) -> tuple[str, ...]:
        return tuple(c.id for c in self.categories if not c.required)


def load_sites(path: Path | str) -> SitesConfig:
    """Read and validate a sites file, or raise :class:`SitesFileError` saying what is wrong."""
    path = Path(path)
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise SitesFileError(f"{path}: file not found (set CONSENT_SITES_FILE)") from None
    except (OSError, UnicodeDecodeError) as error:
        raise SitesFileError(f"{path}: cannot be read: {error}") from None
    except yaml.YAMLError as error:
        raise SitesFileError(f"{path}: not valid YAML: {_yaml_problem(error)}") from None
    if not isinstance(raw, dict):
        raise SitesFileError(f"{path}: expected a mapping with the keys controller, policy, sites")
    try:
        config = SitesConfig.model_validate(raw)
    except ValidationError as error:
        errors = error.errors()
        # A failing item also fails its list's length check; report only the item.
        locs = [e["loc"] for e in errors]
        problems = [
            _describe(raw, e)
            for e in errors
            if not any(len(o) > len(e["loc"]) and o[: len(e["loc"])] == e["loc"] for o in locs)
        ]
        raise SitesFileError(_message(path, problems)) from None
    problems = _cross_reference_problems(config)
    if problems:
        raise SitesFileError(_message(path, problems))
    return config


def catalogue_keys() -> frozenset[str]:
    """The string keys a site may override: those of the English catalogue."""
    return frozenset(json.loads((CATALOGUE_DIR / "en.json").read_text(encoding="utf-8")))


def _cross_reference_problems(config: SitesConfig) -> list[str]:
    problems: list[str] = []
    categories = {c.id: c for c in config.categories}
    problems += _duplicates("categories", [c.id for c in config.categories])
    problems += _duplicates("partners", [p.id for p in config.partners])
    problems += _duplicates("sites", [s.id for s in config.sites])
    if not any(c.required for c in config.categories):
        problems.append("categories: one category must be required (the technical cookies)")
    for index, partner in enumerate(config.partners):
        where = f"partners[{index}] ({partner.id}).category"
        if partner.category not in categories:
            problems.append(f"{where}: unknown category {partner.category!r}")
        elif categories[partner.category].required:
            problems.append(f"{where}: a partner cannot be in the always-on category")
    partner_ids = {p.id for p in config.partners}
    keys = catalogue_keys()
    for index, site in enumerate(config.sites):
        where = f"sites[{index}] ({site.id})"
        for position, partner_id in enumerate(site.partners):
            if partner_id not in partner_ids:
                problems.append(f"{where}.partners[{position}]: unknown partner {partner_id!r}")
        if site.default_language not in site.languages:
            problems.append(
                f"{where}.default_language: {site.default_language!r} is not one of its "
                f"languages {list(site.languages)}"
            )
        for language, strings in site.texts.items():
            for key in sorted(set(strings) - keys):
                problems.append(f"{where}.texts.{language}.{key}: unknown text key")
    return problems


def _duplicates(section: str, ids: list[str]) -> list[str]:
    seen: set[str] = set()
    problems = []
    for index, item in enumerate(ids):
        if item in seen:
            problems.append(f"{section}[{index}].id: {item!r} is defined twice")
        seen.add(item)
    return problems


def _describe(raw: Any, error: Any) -> str:
    """Render a pydantic error as ``sites[1] (mixvoip.org).origins: Field required``."""
    parts: list[str] = []
    node = raw
    for step in error["loc"]:
        if isinstance(step, int):
            label = f"[{step}]"
            node = node[step] if isinstance(node, list) and step < len(node) else None
            if isinstance(node, dict) and isinstance(node.get("id"), str):
                label += f" ({node['id']})"
            parts.append(label)
        else:
            parts.append(("." if parts else "") + str(step))
            node = node.get(step) if isinstance(node, dict) else None
    msg = error["msg"].replace("Extra inputs are not permitted", "unknown key")
    if error["type"] == "string_pattern_mismatch":
        msg = f"{error['input']!r} has an invalid format"
    return f"{''.join(parts) or '(top level)'}: {msg}"


def _message(path: Path, problems: list[str]) -> str:
    return f"{path}: invalid configuration:\n" + "\n".join(f"  - {p}" for p in problems)


def _yaml_problem(error: yaml.YAMLError) -> str:
    mark = getattr(error, "problem_mark", None)
    problem = getattr(error, "problem", None) or str(error)
    if mark is not None:
        return f"line {mark.line + 1}, column {mark.column + 1}: {problem}"
    return problem
