"""Mixvoip Consent: the cookie consent manager and consent log of Mixvoip's public sites."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from flask import Flask
from werkzeug.middleware.proxy_fix import ProxyFix

from consent.settings import PROJECT_ROOT, load_settings


def create_app(config: Mapping[str, object] | None = None) -> Flask:
    """Build the application from the environment, with ``config`` overriding it (tests)."""
    from consent import admin, api, cli, demo, demo_leaks, errors, request_limits, security
    from consent.catalogue import Catalogue
    from consent.consent_serving import ConsentFastPath
    from consent.database import configure_engine, engine_options
    from consent.extensions import csrf, db, limiter, login_manager, migrate
    from consent.ledger import Ledger
    from consent.receipts import Receipts
    from consent.services import Services
    from consent.sessions import AdminSessionInterface
    from consent.sites import load_sites
    from consent.texts import TextArchive
    from consent.widget import WidgetBuilder
    from consent.widget_serving import WidgetFastPath

    settings = load_settings(config)
    sites = load_sites(settings.sites_file)
    settings.instance_path.mkdir(parents=True, exist_ok=True)
    app = Flask(
        __name__,
        instance_path=str(settings.instance_path),
        template_folder=str(PROJECT_ROOT / "templates"),
    )
    app.config.update(
        SECRET_KEY=settings.secret_key,
        SQLALCHEMY_DATABASE_URI=settings.database_url,
        SQLALCHEMY_ENGINE_OPTIONS=engine_options(settings.database_url),
        MAX_CONTENT_LENGTH=1024 * 1024,
        RATELIMIT_ENABLED=settings.ratelimit_enabled,
        RATELIMIT_STORAGE_URI=settings.redis_url or "memory://",
        RATELIMIT_SWALLOW_ERRORS=True,
        RATELIMIT_IN_MEMORY_FALLBACK_ENABLED=True,
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=settings.production,
        SESSION_COOKIE_NAME="consent_admin",
        REMEMBER_COOKIE_HTTPONLY=True,
        WTF_CSRF_TIME_LIMIT=None,
    )
    app.session_interface = AdminSessionInterface()
    db.init_app(app)
    migrate.init_app(
        app, db, directory=str(Path(__file__).parent / "migrations"), render_as_batch=True
    )
    with app.app_context():
        configure_engine(db.engine)
        engine = db.engine
    csrf.init_app(app)
    login_manager.init_app(app)
    limiter.init_app(app)

    ledger = Ledger(settings.database_url)
    catalogue = Catalogue(sites, engine, ledger)
    archive = TextArchive(engine)
    app.extensions["consent"] = Services(
        settings=settings,
        config=sites,
        ledger=ledger,
        catalogue=catalogue,
        texts=archive,
        widgets=WidgetBuilder(sites, catalogue, archive, settings.public_url),
        receipts=Receipts(settings.secret_key),
    )

    # With rate limits off, ordinary consent posts are answered before Flask (consent_serving.py),
    # behind ProxyFix so that they see the visitor's address as Flask does.
    if not settings.ratelimit_enabled:
        app.wsgi_app = ConsentFastPath(app.wsgi_app, app.extensions["consent"])  # type: ignore[method-assign]
    if settings.trusted_proxies:
        hops = settings.trusted_proxies
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops)  # type: ignore[method-assign]
    # The widget is answered before Flask, from its precomputed bytes (consent/widget_serving.py).
    app.wsgi_app = WidgetFastPath(app.wsgi_app, app.extensions["consent"].widgets)  # type: ignore[method-assign]
    csrf.exempt(api.bp)
    api.register(app, rate_limited=settings.ratelimit_enabled)
    app.register_blueprint(demo.bp)
    if not settings.production:
        app.register_blueprint(demo_leaks.bp)
    app.register_blueprint(admin.bp)
    request_limits.register(app)
    errors.register(app)
    security.register(app)
    cli.register(app)
    return app
