"""The database tables, as SQLAlchemy 2 typed models.

``consent_log`` is the evidence: append-only, one row per decision, chained per site (see
``ledger.py`` for the hash chain and ``docs/architecture.md`` for why the personal fields are
covered by salted digests rather than by their values). Everything else is configuration
state (partners, site revisions, banner texts), people (users, audit trail) and scans.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from consent.extensions import db

JsonType = JSON().with_variant(JSONB(), "postgresql")
BigId = BigInteger().with_variant(Integer(), "sqlite")
Timestamp = DateTime(timezone=True)
Digest = String(64)


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


class ConsentRecord(db.Model):
    """One decision of one visitor on one site: the consent log."""

    __tablename__ = "consent_log"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    site_id: Mapped[str] = mapped_column(String(64))
    seq: Mapped[int] = mapped_column(BigInteger)
    consent_id: Mapped[str] = mapped_column(String(36), index=True)
    action: Mapped[str] = mapped_column(String(16))
    categories: Mapped[dict[str, bool]] = mapped_column(JsonType)
    partners: Mapped[dict[str, bool]] = mapped_column(JsonType)
    revision: Mapped[int] = mapped_column(Integer)
    policy_version: Mapped[str] = mapped_column(String(64))
    texts_hash: Mapped[str] = mapped_column(Digest)
    language: Mapped[str] = mapped_column(String(8))
    created_at: Mapped[dt.datetime] = mapped_column(Timestamp)
    expires_at: Mapped[dt.datetime] = mapped_column(Timestamp)
    controller: Mapped[str] = mapped_column(String(300))
    gpc: Mapped[bool] = mapped_column(Boolean)
    # Personal fields: each erasable on its own, each committed to by a salted digest.
    user_agent: Mapped[dict[str, Any] | None] = mapped_column(JsonType)
    user_agent_salt: Mapped[str | None] = mapped_column(String(32))
    user_agent_digest: Mapped[str] = mapped_column(Digest)
    ip_prefix: Mapped[str | None] = mapped_column(String(64))
    ip_salt: Mapped[str | None] = mapped_column(String(32))
    ip_digest: Mapped[str] = mapped_column(Digest)
    page_url: Mapped[str | None] = mapped_column(String(2048))
    page_url_salt: Mapped[str | None] = mapped_column(String(32))
    page_url_digest: Mapped[str] = mapped_column(Digest)
    redacted_at: Mapped[dt.datetime | None] = mapped_column(Timestamp)
    prev_hash: Mapped[str] = mapped_column(Digest)
    hash: Mapped[str] = mapped_column(Digest)

    __table_args__ = (
        UniqueConstraint("site_id", "seq", name="uq_consent_log_site_seq"),
        Index("ix_consent_log_site_created", "site_id", "created_at"),
        Index("ix_consent_log_created", "created_at"),
    )


class ChainHead(db.Model):
    """The newest link of each site's chain: where the next record attaches."""

    __tablename__ = "chain_heads"

    site_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    seq: Mapped[int] = mapped_column(BigInteger, default=0)
    hash: Mapped[str] = mapped_column(Digest)
    updated_at: Mapped[dt.datetime] = mapped_column(Timestamp, default=utcnow)


class ChainCheckpoint(db.Model):
    """What a purge removed from the start of a site's chain, and the hash it ended at."""

    __tablename__ = "chain_checkpoints"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    site_id: Mapped[str] = mapped_column(String(64), index=True)
    through_seq: Mapped[int] = mapped_column(BigInteger)
    hash: Mapped[str] = mapped_column(Digest)
    purged_count: Mapped[int] = mapped_column(BigInteger)
    reason: Mapped[str] = mapped_column(String(200))
    actor: Mapped[str] = mapped_column(String(254))
    created_at: Mapped[dt.datetime] = mapped_column(Timestamp, default=utcnow)


class Partner(db.Model):
    """The partner catalogue: loaded from sites.yaml, extended by marketing in the admin."""

    __tablename__ = "partners"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str] = mapped_column(String(300))
    category: Mapped[str] = mapped_column(String(64))
    privacy_url: Mapped[str] = mapped_column(String(500))
    purpose: Mapped[dict[str, str]] = mapped_column(JsonType, default=dict)
    cookies: Mapped[list[dict[str, Any]]] = mapped_column(JsonType, default=list)
    hosts: Mapped[list[str]] = mapped_column(JsonType, default=list)
    source: Mapped[str] = mapped_column(String(16))  # "sites.yaml" or "admin"
    created_by: Mapped[str] = mapped_column(String(254))
    created_at: Mapped[dt.datetime] = mapped_column(Timestamp, default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(Timestamp, default=utcnow)


class SiteState(db.Model):
    """A site's live state: which partners are on, and the revision that names this state."""

    __tablename__ = "site_states"

    site_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    revision: Mapped[int] = mapped_column(Integer)
    partners: Mapped[list[str]] = mapped_column(JsonType)
    updated_by: Mapped[str] = mapped_column(String(254))
    updated_at: Mapped[dt.datetime] = mapped_column(Timestamp, default=utcnow)


class SiteRevision(db.Model):
    """Every configuration a site has shown visitors, archived immutably (checklist item 11)."""

    __tablename__ = "site_revisions"

    site_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    revision: Mapped[int] = mapped_column(Integer, primary_key=True)
    partners: Mapped[list[str]] = mapped_column(JsonType)
    snapshot: Mapped[dict[str, Any]] = mapped_column(JsonType)
    snapshot_hash: Mapped[str] = mapped_column(Digest)
    created_by: Mapped[str] = mapped_column(String(254))
    created_at: Mapped[dt.datetime] = mapped_column(Timestamp, default=utcnow)


class BannerText(db.Model):
    """The exact texts a banner showed in one language, stored once by their SHA-256."""

    __tablename__ = "banner_texts"

    hash: Mapped[str] = mapped_column(Digest, primary_key=True)
    site_id: Mapped[str] = mapped_column(String(64), index=True)
    language: Mapped[str] = mapped_column(String(8))
    content: Mapped[str] = mapped_column(Text)  # canonical JSON, the bytes that were hashed
    created_at: Mapped[dt.datetime] = mapped_column(Timestamp, default=utcnow)


class User(db.Model):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    password_hash: Mapped[str] = mapped_column(String(300))
    role: Mapped[str] = mapped_column(String(16))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[dt.datetime] = mapped_column(Timestamp, default=utcnow)
    last_login_at: Mapped[dt.datetime | None] = mapped_column(Timestamp)

    # Flask-Login's user protocol.
    @property
    def is_active(self) -> bool:
        return self.active

    @property
    def is_authenticated(self) -> bool:
        return True

    @property
    def is_anonymous(self) -> bool:
        return False

    def get_id(self) -> str:
        return str(self.id)


class AuditEvent(db.Model):
    """Who changed what, when: partner switches, catalogue additions, exports, erasures, purges."""

    __tablename__ = "audit_events"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    created_at: Mapped[dt.datetime] = mapped_column(Timestamp, default=utcnow, index=True)
    actor: Mapped[str] = mapped_column(String(254))
    action: Mapped[str] = mapped_column(String(64))
    site_id: Mapped[str | None] = mapped_column(String(64))
    subject: Mapped[str | None] = mapped_column(String(300))
    before: Mapped[Any | None] = mapped_column(JsonType)
    after: Mapped[Any | None] = mapped_column(JsonType)
    detail: Mapped[Any | None] = mapped_column(JsonType)


class Scan(db.Model):
    """One run of the cookie scanner over a site's pages, with its findings."""

    __tablename__ = "scans"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    site_id: Mapped[str] = mapped_column(String(64), index=True)
    status: Mapped[str] = mapped_column(String(16))  # queued, running, done, failed
    requested_by: Mapped[str] = mapped_column(String(254))
    urls: Mapped[list[str]] = mapped_column(JsonType)
    report: Mapped[dict[str, Any] | None] = mapped_column(JsonType)
    violations: Mapped[int] = mapped_column(Integer, default=0)
    warnings: Mapped[int] = mapped_column(Integer, default=0)
    error: Mapped[str | None] = mapped_column(Text)
    previous_id: Mapped[int | None] = mapped_column(ForeignKey("scans.id"))
    created_at: Mapped[dt.datetime] = mapped_column(Timestamp, default=utcnow)
    started_at: Mapped[dt.datetime | None] = mapped_column(Timestamp)
    finished_at: Mapped[dt.datetime | None] = mapped_column(Timestamp)


# --- opt-in statistics (consent/stats.py) ---------------------------------------------------


class StatsDaily(db.Model):
    """Decisions per site, day (UTC) and action, with how many granted advertising."""

    __tablename__ = "stats_daily"

    site_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    day: Mapped[dt.date] = mapped_column(Date, primary_key=True)
    action: Mapped[str] = mapped_column(String(16), primary_key=True)
    decisions: Mapped[int] = mapped_column(BigInteger, default=0)
    advertising_granted: Mapped[int] = mapped_column(BigInteger, default=0)


class StatsPartnerDaily(db.Model):
    """Per site, day and partner: how often the partner was offered, and granted."""

    __tablename__ = "stats_partner_daily"

    site_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    day: Mapped[dt.date] = mapped_column(Date, primary_key=True)
    partner_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    offered: Mapped[int] = mapped_column(BigInteger, default=0)
    granted: Mapped[int] = mapped_column(BigInteger, default=0)


class StatsRollup(db.Model):
    """The one watermark: every log record with an id up to ``last_id`` is counted above."""

    __tablename__ = "stats_rollup"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    last_id: Mapped[int] = mapped_column(BigInteger, default=0)
    updated_at: Mapped[dt.datetime] = mapped_column(Timestamp, default=utcnow)
