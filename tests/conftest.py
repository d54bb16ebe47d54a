"""Shared fixtures: a migrated, seeded database per engine, the app, signed-in clients.

Every test that takes ``app``/``db`` runs on SQLite and, when
``TEST_DATABASE_URL`` is set (CI points it at PostgreSQL), on PostgreSQL too.
The demo city is seeded once per engine; tests that change data use their
own usernames and addresses, so they do not disturb each other.
"""

from __future__ import annotations

import os
import re
import threading
import uuid
from collections.abc import Iterator

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import text
from sqlalchemy.engine import make_url

from station_portal import create_app, migrate
from station_portal.db import Database
from station_portal.demo.city import build_demo_city
from station_portal.demo.orders import seed_history
from station_portal.i18n import set_locale

TEST_SECRET = "test-secret-key-that-is-long-enough-0123456789"
ENGINES = ["sqlite"] + (["postgresql"] if os.environ.get("TEST_DATABASE_URL") else [])


SCHEMA_PREFIX = "portal_test_"


def postgres_schema_url(schema: str) -> str:
    """TEST_DATABASE_URL, with its own schema first on the search path."""
    url = make_url(os.environ["TEST_DATABASE_URL"])
    url = url.update_query_dict({"options": f"-csearch_path={schema}"})
    return url.render_as_string(hide_password=False)


def drop_test_schemas() -> None:
    db = Database(os.environ["TEST_DATABASE_URL"])
    with db.engine.begin() as conn:
        names = conn.execute(text(
            "SELECT nspname FROM pg_namespace WHERE nspname LIKE :p"), {"p": SCHEMA_PREFIX + "%"})
        for (name,) in names.all():
            conn.execute(text(f'DROP SCHEMA "{name}" CASCADE'))
    db.dispose()


def fresh_database(engine: str, tmp_dir) -> Database:
    """An empty, migrated database of the given engine; on PostgreSQL a schema of its own,
    so tests never disturb each other's data."""
    if engine == "sqlite":
        db = Database(f"sqlite:///{tmp_dir / f'portal-{uuid.uuid4().hex[:8]}.sqlite3'}")
    else:
        schema = SCHEMA_PREFIX + uuid.uuid4().hex[:10]
        admin = Database(os.environ["TEST_DATABASE_URL"])
        with admin.engine.begin() as conn:
            conn.execute(text(f'CREATE SCHEMA "{schema}"'))
        admin.dispose()
        db = Database(postgres_schema_url(schema))
    migrate.upgrade(db)
    return db


@pytest.fixture(scope="session", autouse=True)
def _clean_postgres_schemas():
    if "postgresql" in ENGINES:
        drop_test_schemas()
        yield
        drop_test_schemas()
    else:
        yield


@pytest.fixture(autouse=True)
def _english():
    """Messages in tests read in English, whatever ran before in this thread."""
    set_locale("en")


@pytest.fixture(scope="session", params=ENGINES)
def engine_name(request) -> str:
    return request.param


HISTORY_ORDERS = 2000


@pytest.fixture(scope="session")
def db(engine_name, tmp_path_factory) -> Iterator[Database]:
    """The demo city with a small year of work, seeded once per engine."""
    database = fresh_database(engine_name, tmp_path_factory.mktemp(engine_name))
    with database.write() as session:
        build_demo_city(session, seed=7)
        seed_history(session, n_orders=HISTORY_ORDERS, seed=7)
    yield database
    database.dispose()


def app_config(db: Database, **overrides) -> dict:
    config = {
        "database_url": db.url,
        "secret_key": TEST_SECRET,
        "env": "demo",
        "default_locale": "en",
    }
    config.update(overrides)
    return config


@pytest.fixture(scope="session")
def app(db) -> Flask:
    flask_app = create_app(app_config(db))
    flask_app.config["TESTING"] = True
    return flask_app


@pytest.fixture
def client(app) -> FlaskClient:
    set_locale("en")
    return app.test_client()


def csrf_of(html: str) -> str:
    match = re.search(r'name="csrf" value="([^"]+)"', html)
    assert match, "no CSRF token on the page"
    return match.group(1)


def sign_in(client: FlaskClient, username: str, password: str = "portal-demo",
            ip: str = "127.0.0.1"):
    page = client.get("/login", environ_base={"REMOTE_ADDR": ip})
    return client.post(
        "/login",
        data={"username": username, "password": password, "csrf": csrf_of(page.text)},
        environ_base={"REMOTE_ADDR": ip},
    )


@pytest.fixture
def as_user(app):
    """``as_user("head")`` → a test client signed in as that demo account."""

    def make(username: str, password: str = "portal-demo") -> FlaskClient:
        c = app.test_client()
        response = sign_in(c, username, password, ip=f"10.9.{uuid.uuid4().int % 250}.1")
        assert response.status_code == 302, response.text[:500]
        return c

    return make


def unique(prefix: str = "u") -> str:
    return f"{prefix}{uuid.uuid4().hex[:10]}"


class LiveServer:
    """An app served over real HTTP by a threaded werkzeug server on a free port."""

    def __init__(self, flask_app: Flask) -> None:
        from werkzeug.serving import make_server

        self._server = make_server("127.0.0.1", 0, flask_app, threaded=True)
        self.url = f"http://127.0.0.1:{self._server.server_port}"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._server.shutdown()


@pytest.fixture(scope="session")
def live_app(app) -> Iterator[LiveServer]:
    """The session's app (SQLite, and PostgreSQL when configured) over real HTTP."""
    server = LiveServer(app)
    yield server
    server.stop()


def http_sign_in(base_url: str, username: str, password: str = "portal-demo", ip: str | None = None):
    """A requests.Session signed in over real HTTP."""
    import requests

    session = requests.Session()
    page = session.get(f"{base_url}/login", timeout=30)
    response = session.post(f"{base_url}/login", timeout=60, allow_redirects=False, data={
        "username": username, "password": password, "csrf": csrf_of(page.text)})
    return session, response
