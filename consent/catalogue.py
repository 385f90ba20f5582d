"""The partner catalogue and each site's live state: which partners are on, at which revision.

sites.yaml seeds the database (``sync``): its partners are loaded into the catalogue and a site
seen for the first time starts at revision 1 with the partners the file lists. From then on
the database is the source of truth: marketing switches partners (``switch_partners``), each
switch creates a new revision archived in ``site_revisions``, and every worker sees it within
``ttl`` seconds, because each keeps an immutable snapshot that it reloads when it is older than
that. If the database cannot be read, the last snapshot keeps serving the banner.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import threading
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Connection, Engine, select
from sqlalchemy.dialects import postgresql, sqlite

from consent.ledger import Ledger, canonical
from consent.models import AuditEvent, Partner, SiteRevision, SiteState
from consent.sites import Partner as PartnerSpec
from consent.sites import Site, SitesConfig

SYNC_ACTOR = "sites.yaml"


class CatalogueError(ValueError):
    """A change to the catalogue or to a site's partners that cannot be made; says why."""

    def __init__(self, field_name: str, message: str) -> None:
        super().__init__(message)
        self.field = field_name


@dataclass(frozen=True)
class PartnerInfo:
    id: str
    name: str
    category: str
    privacy_url: str
    purpose: Mapping[str, str]
    cookies: tuple[Mapping[str, Any], ...]
    hosts: tuple[str, ...]
    source: str

    def purpose_in(self, language: str) -> str:
        return self.purpose.get(language) or self.purpose.get("en") or ""

    def describe(self) -> dict[str, Any]:
        """Everything a visitor is told about this partner, as archived in each revision."""
        return {
            "id": self.id,
            "name": self.name,
            "category": self.category,
            "privacy_url": self.privacy_url,
            "purpose": dict(self.purpose),
            "cookies": [dict(c) for c in self.cookies],
            "hosts": list(self.hosts),
        }


@dataclass(frozen=True)
class SiteView:
    """One site as visitors see it now: its configuration, revision and enabled partners."""

    config: Site
    revision: int
    partners: tuple[PartnerInfo, ...]
    updated_at: dt.datetime | None = None

    @property
    def id(self) -> str:
        return self.config.id

    @property
    def partner_ids(self) -> tuple[str, ...]:
        return tuple(p.id for p in self.partners)


@dataclass(frozen=True)
class Snapshot:
    sites: Mapping[str, SiteView]
    partners: Mapping[str, PartnerInfo]
    generation: str
    loaded_at: float = field(default_factory=time.monotonic)


class Catalogue:
    """Reads (cached) and changes the partner catalogue and the sites' partner switches."""

    def __init__(self, config: SitesConfig, engine: Engine, ledger: Ledger, ttl: float = 1.0):
        self.config = config
        self._engine = engine
        self._ledger = ledger
        self._ttl = ttl
        self._snapshot: Snapshot | None = None
        self._reload_lock = threading.Lock()
        self._synced = False
        self._revisions: dict[tuple[str, int], tuple[str, ...]] = {}

    # -- reading ---------------------------------------------------------------------------

    def snapshot(self) -> Snapshot:
        """The current snapshot, reloaded when older than ``ttl`` seconds.

        One thread reloads while the others keep using the previous snapshot; if the database
        cannot be read, the previous snapshot stays in service.
        """
        current = self._snapshot
        if current is not None and time.monotonic() - current.loaded_at < self._ttl:
            return current
        if current is not None and not self._reload_lock.acquire(blocking=False):
            return current
        if current is None:
            self._reload_lock.acquire()
        try:
            if self._snapshot is current:
                try:
                    self._snapshot = self._load()
                except Exception:
                    if current is None:
                        raise
                    self._snapshot = Snapshot(current.sites, current.partners, current.generation)
            return self._snapshot
        finally:
            self._reload_lock.release()

    def site(self, site_id: str) -> SiteView | None:
        return self.snapshot().sites.get(site_id)

    def refresh(self) -> Snapshot:
        """Reload now (after a change made by this process)."""
        with self._reload_lock:
            self._snapshot = self._load()
            return self._snapshot

    def partners_at(self, site_id: str, revision: int) -> tuple[str, ...] | None:
        """The partners a site had at ``revision`` (``None`` if it never had that revision)."""
        key = (site_id, revision)
        if key not in self._revisions:
            with self._engine.connect() as connection:
                row = connection.execute(
                    select(SiteRevision.partners).where(
                        SiteRevision.site_id == site_id, SiteRevision.revision == revision
                    )
                ).first()
            if row is None:
                return None
            self._revisions[key] = tuple(row[0])
        return self._revisions[key]

    def _load(self) -> Snapshot:
        if not self._synced:
            self.sync()
        partners, states = self._read_state()
        if any(site.id not in states for site in self.config.sites):
            self.sync()  # a site new to this database starts from sites.yaml
            partners, states = self._read_state()
        sites: dict[str, SiteView] = {}
        for site in self.config.sites:
            state = states.get(site.id)
            if state is None:
                continue
            enabled = tuple(partners[p] for p in state["partners"] if p in partners)
            sites[site.id] = SiteView(site, state["revision"], enabled, state["updated_at"])
        fingerprint = canonical(
            {
                # The partners too, not only the revision: a revision number alone may come
                # back (a restored or reset database) with other partners behind it.
                "sites": {s: [v.revision, v.partner_ids] for s, v in sites.items()},
                "partners": [p.describe() for p in partners.values()],
            }
        )
        return Snapshot(sites, partners, hashlib.sha256(fingerprint).hexdigest()[:16])

    def _read_state(self) -> tuple[dict[str, PartnerInfo], dict[str, Mapping[str, Any]]]:
        with self._engine.connect() as connection:
            partners = _load_partners(connection)
            states = {
                state["site_id"]: state
                for state in connection.execute(select(SiteState.__table__)).mappings()
            }
        return partners, states

    # -- seeding from sites.yaml ------------------------------------------------------------

    def sync(self) -> None:
        """Load sites.yaml's partners into the catalogue; start new sites at revision 1."""
        now = dt.datetime.now(dt.UTC)
        with self._ledger.exclusive() as connection:
            existing = _load_partners(connection)
            for partner in self.config.partners:
                values = {
                    "name": partner.name,
                    "category": partner.category,
                    "privacy_url": partner.privacy_url,
                    "purpose": dict(partner.purpose),
                    "cookies": [c.model_dump(exclude_none=True) for c in partner.cookies],
                    "hosts": list(partner.hosts),
                }
                current = existing.get(partner.id)
                if current is None:
                    connection.execute(
                        _insert(connection, Partner.__table__).on_conflict_do_nothing(),
                        dict(
                            values,
                            id=partner.id,
                            source=SYNC_ACTOR,
                            created_by=SYNC_ACTOR,
                            created_at=now,
                            updated_at=now,
                        ),
                    )
                elif {k: v for k, v in current.describe().items() if k in values} != values:
                    connection.execute(
                        Partner.__table__.update()
                        .where(Partner.id == partner.id)
                        .values(**values, source=SYNC_ACTOR, updated_at=now)
                    )
            partners = _load_partners(connection)
            known = set(connection.execute(select(SiteState.site_id)).scalars())
            for site in self.config.sites:
                if site.id in known:
                    continue
                enabled = [p for p in site.partners if p in partners]
                _write_revision(connection, site, 1, enabled, partners, SYNC_ACTOR, now)
                connection.execute(
                    _insert(connection, SiteState.__table__).on_conflict_do_nothing(),
                    {
                        "site_id": site.id,
                        "revision": 1,
                        "partners": enabled,
                        "updated_by": SYNC_ACTOR,
                        "updated_at": now,
                    },
                )
        self._synced = True

    # -- changing ---------------------------------------------------------------------------

    def switch_partners(self, site_id: str, enabled: Iterable[str], actor: str) -> SiteView:
        """Turn on exactly ``enabled`` on a site: a new revision, archived and audited.

        Returns the site as it now is; when nothing changes, no revision is made.
        """
        site = self.config.site(site_id)
        if site is None:
            raise CatalogueError("site", f"unknown site {site_id!r}")
        wanted = list(dict.fromkeys(enabled))
        now = dt.datetime.now(dt.UTC)
        with self._ledger.exclusive() as connection:
            partners = _load_partners(connection)
            for partner_id in wanted:
                if partner_id not in partners:
                    raise CatalogueError("partners", f"unknown partner {partner_id!r}")
            state = (
                connection.execute(select(SiteState.__table__).where(SiteState.site_id == site_id))
                .mappings()
                .first()
            )
            if state is None:
                raise CatalogueError("site", f"site {site_id!r} has no state yet")
            before = list(state["partners"])
            if set(before) != set(wanted):  # else no revision; reload once the lock is free
                ordered = [p for p in partners if p in wanted]
                revision = state["revision"] + 1
                _write_revision(connection, site, revision, ordered, partners, actor, now)
                connection.execute(
                    SiteState.__table__.update()
                    .where(SiteState.site_id == site_id)
                    .values(revision=revision, partners=ordered, updated_by=actor, updated_at=now)
                )
                connection.execute(
                    AuditEvent.__table__.insert(),
                    {
                        "created_at": now,
                        "actor": actor,
                        "action": "partners.switch",
                        "site_id": site_id,
                        "subject": f"revision {revision}",
                        "before": before,
                        "after": ordered,
                        "detail": None,
                    },
                )
        return self.refresh().sites[site_id]

    def add_partner(self, partner: PartnerSpec, actor: str) -> PartnerInfo:
        """Add a partner to the catalogue (switched on nowhere yet), audited.

        ``partner`` is already shape-checked (sites.yaml's pydantic model); here the
        catalogue's own rules: a new id, a new name, an optional category.
        """
        if not self._synced:
            self.sync()  # sites.yaml's partners first, so that their ids and names are taken
        category = next((c for c in self.config.categories if c.id == partner.category), None)
        if category is None or category.required:
            optional = ", ".join(c.id for c in self.config.categories if not c.required)
            raise CatalogueError("category", f"the category must be one of: {optional}")
        now = dt.datetime.now(dt.UTC)
        values = {
            "id": partner.id,
            "name": partner.name,
            "category": partner.category,
            "privacy_url": partner.privacy_url,
            "purpose": dict(partner.purpose),
            "cookies": [c.model_dump(exclude_none=True) for c in partner.cookies],
            "hosts": list(partner.hosts),
        }
        with self._ledger.exclusive() as connection:
            existing = _load_partners(connection)
            if partner.id in existing:
                raise CatalogueError("id", f"a partner with the id {partner.id!r} already exists")
            if any(p.name.lower() == partner.name.lower() for p in existing.values()):
                raise CatalogueError("name", f"a partner called {partner.name!r} already exists")
            connection.execute(
                Partner.__table__.insert(),
                dict(values, source="admin", created_by=actor, created_at=now, updated_at=now),
            )
            connection.execute(
                AuditEvent.__table__.insert(),
                {
                    "created_at": now,
                    "actor": actor,
                    "action": "partners.add",
                    "site_id": None,
                    "subject": partner.name,
                    "before": None,
                    "after": values,
                    "detail": None,
                },
            )
        return self.refresh().partners[partner.id]


def _load_partners(connection: Connection) -> dict[str, PartnerInfo]:
    rows = connection.execute(select(Partner.__table__).order_by(Partner.name)).mappings()
    return {row["id"]: _partner_info(row) for row in rows}


def _partner_info(row: Mapping[str, Any]) -> PartnerInfo:
    return PartnerInfo(
        id=row["id"],
        name=row["name"],
        category=row["category"],
        privacy_url=row["privacy_url"],
        purpose=dict(row["purpose"] or {}),
        cookies=tuple(row["cookies"] or ()),
        hosts=tuple(row["hosts"] or ()),
        source=row["source"],
    )


def _write_revision(
    connection: Connection,
    site: Site,
    revision: int,
    enabled: list[str],
    partners: Mapping[str, PartnerInfo],
    actor: str,
    now: dt.datetime,
) -> None:
    snapshot = {
        "site": site.id,
        "revision": revision,
        "partners": [partners[p].describe() for p in enabled],
    }
    connection.execute(
        _insert(connection, SiteRevision.__table__).on_conflict_do_nothing(),
        {
            "site_id": site.id,
            "revision": revision,
            "partners": enabled,
            "snapshot": snapshot,
            "snapshot_hash": hashlib.sha256(canonical(snapshot)).hexdigest(),
            "created_by": actor,
            "created_at": now,
        },
    )


def _insert(connection: Connection, table: Any) -> Any:
    dialect = postgresql if connection.dialect.name == "postgresql" else sqlite
    return dialect.insert(table)
