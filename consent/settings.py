"""Environment → settings, read once at start, with every default in one place.

Nothing else in the service reads ``os.environ``: ``create_app`` calls :func:`load_settings`
and hands the result to the parts that need it. ``docs/configuration.md`` documents each
variable.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import click

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_INSTANCE_PATH = PROJECT_ROOT / "instance"
DEFAULT_SITES_FILE = PROJECT_ROOT / "sites.yaml"

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}


class ConfigurationError(click.ClickException):
    """A setting or configuration file the service cannot start with; the message says which.

    A ClickException, so that every command line (``consent``, ``flask --app consent``)
    prints it as one "Error: …" line instead of a traceback.
    """

    exit_code = 2


@dataclass(frozen=True)
class Settings:
    database_url: str
    sites_file: Path
    secret_key: str
    production: bool
    ratelimit_enabled: bool
    redis_url: str | None
    trusted_proxies: int
    instance_path: Path
    consent_rate_limit: str
    login_rate_limit: str
    public_url: str | None

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")


def load_settings(overrides: Mapping[str, object] | None = None) -> Settings:
    """Build the settings from the environment; ``overrides`` (tests, CLI) take precedence."""
    env: dict[str, object] = dict(os.environ)
    env.update(overrides or {})
    instance_path = Path(str(env.get("CONSENT_INSTANCE_PATH") or DEFAULT_INSTANCE_PATH))
    production = str(env.get("CONSENT_ENV", "development")).lower() == "production"
    database_url = str(env.get("DATABASE_URL") or f"sqlite:///{instance_path / 'consent.db'}")
    if database_url.startswith("postgres://"):
        database_url = "postgresql+psycopg://" + database_url.removeprefix("postgres://")
    elif database_url.startswith("postgresql://"):
        database_url = "postgresql+psycopg://" + database_url.removeprefix("postgresql://")
    return Settings(
        database_url=database_url,
        sites_file=Path(str(env.get("CONSENT_SITES_FILE") or DEFAULT_SITES_FILE)),
        secret_key=_secret_key(env.get("SECRET_KEY"), instance_path, production),
        production=production,
        ratelimit_enabled=_flag(env, "RATELIMIT_ENABLED", default=True),
        redis_url=str(env["REDIS_URL"]) if env.get("REDIS_URL") else None,
        trusted_proxies=_count(env, "TRUSTED_PROXIES", default=0),
        instance_path=instance_path,
        consent_rate_limit=str(env.get("CONSENT_RATE_LIMIT") or "120 per minute"),
        login_rate_limit=str(env.get("LOGIN_RATE_LIMIT") or "10 per minute"),
        public_url=str(env["CONSENT_PUBLIC_URL"]).rstrip("/")
        if env.get("CONSENT_PUBLIC_URL")
        else None,
    )


def _flag(env: Mapping[str, object], name: str, *, default: bool) -> bool:
    raw = env.get(name)
    if raw is None:
        return default
    if isinstance(raw, bool):
        return raw
    value = str(raw).strip().lower()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise ConfigurationError(f"{name}={raw!r} is not a boolean: use true or false")


def _count(env: Mapping[str, object], name: str, *, default: int) -> int:
    raw = env.get(name)
    if raw in (None, ""):
        return default
    try:
        value = int(str(raw))
    except ValueError:
        value = -1
    if value < 0:
        raise ConfigurationError(f"{name}={raw!r} is not a whole number of 0 or more")
    return value


def _secret_key(raw: object, instance_path: Path, production: bool) -> str:
    """Return SECRET_KEY; outside production, generate one once and keep it in ``instance/``.

    Receipts and sessions are signed with it, so it must survive restarts and be shared by
    every worker and machine; production therefore refuses to invent one.
    """
    if raw:
        return str(raw)
    if production:
        raise ConfigurationError(
            "SECRET_KEY is not set: production mode (CONSENT_ENV=production) needs a fixed "
            "secret shared by every worker, e.g. SECRET_KEY=$(python -c 'import secrets; "
            "print(secrets.token_hex(32))')"
        )
    key_file = instance_path / "secret_key"
    if key_file.exists():
        return key_file.read_text().strip()
    instance_path.mkdir(parents=True, exist_ok=True)
    # Written aside, then linked into place: when two workers race on a fresh machine, one
    # link wins and both read the same complete key.
    draft = instance_path / f".secret_key.{os.getpid()}"
    fd = os.open(draft, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(secrets.token_hex(32))
    try:
        os.link(draft, key_file)
    except FileExistsError:
        pass
    finally:
        draft.unlink()
    return key_file.read_text().strip()
