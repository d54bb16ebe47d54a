"""Shared fixtures: a migrated, seeded database per engine, the app, signed-in clients.

Every test that takes ``app``/``db`` runs on SQLite and, when
``TEST_DATABASE_URL`` is set (CI points it at PostgreSQL), on PostgreSQL too.
The demo city is seeded once per engine (once per xdist worker); tests that change data
use their own usernames and addresses, so they do not disturb each other. Plain helpers
live in tests/helpers.py.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import text

from station_portal import create_app
from station_portal.db import Database
from station_portal.demo.city import build_demo_city
from station_portal.demo.orders import seed_history
from station_portal.i18n import set_locale
from tests.helpers import (
    ENGINES,
    HISTORY_ORDERS,
    LiveServer,
    app_config,
    fresh_database,
    run_schema_prefix,
    sign_in,
)


def pytest_configure(config) -> None:
    # One name per run, set in the main process before xdist starts its workers (they
    # inherit it): the run's PostgreSQL schemas carry it.
    os.environ.setdefault("PORTAL_TEST_RUN", uuid.uuid4().hex[:8])


def pytest_sessionfinish(session) -> None:
    # In the main process only, after every worker has finished: drop this run's schemas
    # (those of a concurrent run, or of a parallel worker still running, are not touched).
    if "postgresql" in ENGINES and not hasattr(session.config, "workerinput"):
        drop_run_schemas()


def drop_run_schemas() -> None:
    # One transaction per schema: dropping them all at once takes a lock per table of
    # every schema and runs out of PostgreSQL's lock table (max_locks_per_transaction).
    prefix = run_schema_prefix()
    db = Database(os.environ["TEST_DATABASE_URL"])
    with db.engine.connect() as conn:
        names = conn.execute(text(
            "SELECT nspname FROM pg_namespace WHERE left(nspname, :n) = :p"),
            {"n": len(prefix), "p": prefix}).scalars().all()
    for name in names:
        with db.engine.begin() as conn:
            conn.execute(text(f'DROP SCHEMA "{name}" CASCADE'))
    db.dispose()


@pytest.fixture(autouse=True)
def _english():
    """Messages in tests read in English, whatever ran before in this thread."""
    set_locale("en")


@pytest.fixture(scope="session", params=ENGINES)
def engine_name(request) -> str:
    return request.param


@pytest.fixture(scope="session")
def db(engine_name, tmp_path_factory) -> Iterator[Database]:
    """The demo city with a small year of work, seeded once per engine."""
    database = fresh_database(engine_name, tmp_path_factory.mktemp(engine_name))
    with database.write() as session:
        build_demo_city(session, seed=7)
        seed_history(session, n_orders=HISTORY_ORDERS, seed=7)
    yield database
    database.dispose()


@pytest.fixture(scope="session")
def app(db) -> Flask:
    flask_app = create_app(app_config(db))
    flask_app.config["TESTING"] = True
    return flask_app


@pytest.fixture
def client(app) -> FlaskClient:
    set_locale("en")
    return app.test_client()


@pytest.fixture
def as_user(app):
    """``as_user("head")`` → a test client signed in as that demo account."""

    def make(username: str, password: str = "portal-demo") -> FlaskClient:
        c = app.test_client()
        response = sign_in(c, username, password, ip=f"10.9.{uuid.uuid4().int % 250}.1")
        assert response.status_code == 302, response.text[:500]
        return c

    return make


@pytest.fixture(scope="session")
def live_app(app) -> Iterator[LiveServer]:
    """The session's app (SQLite, and PostgreSQL when configured) over real HTTP."""
    server = LiveServer(app)
    yield server
    server.stop()
