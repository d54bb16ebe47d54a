"""Assembling the web application: Flask server, guard, sign-in pages, Dash portal."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from datetime import timedelta

from flask import Flask
from werkzeug.middleware.proxy_fix import ProxyFix

from station_portal import migrate
from station_portal.config import Config, ConfigError
from station_portal.datafiles import check_all as check_data_files
from station_portal.db import Database
from station_portal.services.users import demo_accounts_present
from station_portal.web import (
    customer,
    errors,
    guard,
    health,
    kiosk,
    metrics,
    observe,
    signin,
)
from station_portal.web import outages as public_outages
from station_portal.web.context import EXTENSION, Portal

log = logging.getLogger(__name__)


def check_production_ready(config: Config, db: Database) -> None:
    """Production refuses to start while demo passwords can still sign in."""
    if config.is_demo:
        return
    with db.read() as session:
        demo = demo_accounts_present(session)
    if demo:
        raise ConfigError(
            "Production mode refuses to start: these accounts still have the demo password: "
            + ", ".join(demo)
            + ". Disable them or set new passwords (station-portal reset-password USER)."
        )


def build_app(config: Config | Mapping[str, object] | None = None) -> Flask:
    if not isinstance(config, Config):
        config = Config.from_env(config)
    server = Flask("station_portal", static_folder=None)
    server.config.update(
        SECRET_KEY=config.effective_secret_key(),
        SESSION_COOKIE_NAME="portal_session",
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=config.cookies_secure,
        REMEMBER_COOKIE_HTTPONLY=True,
        REMEMBER_COOKIE_SAMESITE="Lax",
        REMEMBER_COOKIE_SECURE=config.cookies_secure,
        PERMANENT_SESSION_LIFETIME=timedelta(hours=config.session_max_hours),
        MAX_CONTENT_LENGTH=32 * 1024 * 1024,
        JSON_AS_ASCII=False,
    )
    if config.trusted_proxies:
        hops = config.trusted_proxies
        server.wsgi_app = ProxyFix(server.wsgi_app, x_for=hops, x_proto=hops, x_host=hops)

    db = Database(config.database_url, **config.database_options())
    try:
        migrate.check_current(db)  # behind, or newer by a revision not declared compatible
    except migrate.SchemaNotCurrent as exc:
        log.error("Station Portal refuses to start: %s", exc)
        raise
    check_production_ready(config, db)
    check_data_files()  # a broken data file (or a rule set that overruns its path) stops the start
    server.extensions[EXTENSION] = Portal(config=config, db=db)

    observe.init_app(server)  # first: the request id exists before anything logs
    guard.init_app(server)
    errors.init_app(server)
    metrics.init_app(server)
    health.init_app(server, db, config, migrate.code_revisions())
    server.register_blueprint(signin.bp)
    server.register_blueprint(customer.bp)
    server.register_blueprint(kiosk.bp)
    server.register_blueprint(public_outages.bp)

    from station_portal.api import init_api

    init_api(server)  # before Dash, whose catch-all page route must not answer /api/ paths

    from station_portal.dash_app import build_dash  # Dash is the heaviest import; keep it here

    build_dash(server, config)
    log.info("Station Portal ready (%s, %s)", config.env, db.backend)
    return server
