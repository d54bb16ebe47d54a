"""While the database is away (a PostgreSQL restart, a failover), every request that needs
it is answered 503 with Retry-After and a message in the user's language, never 500; the
portal is back by itself once the database answers again. Found by the load test's
PostgreSQL restart, where such requests got 500."""

from __future__ import annotations

import os
import re

import pytest
from sqlalchemy.engine import make_url

from station_portal import create_app
from station_portal.i18n import set_locale
from tests.helpers import TcpRelay, app_config, fresh_database

pytestmark = pytest.mark.skipif(not os.environ.get("TEST_DATABASE_URL"),
                                reason="needs PostgreSQL (TEST_DATABASE_URL)")


@pytest.fixture
def relayed(tmp_path):
    """A portal whose every connection to PostgreSQL passes a relay the test can cut."""
    database = fresh_database("postgresql", tmp_path)
    url = make_url(database.url)
    relay = TcpRelay((url.host or "127.0.0.1", url.port or 5432))
    relay.up()
    app = create_app(app_config(database).copy() | {
        "database_url": url.set(host="127.0.0.1", port=relay.port)
                           .render_as_string(hide_password=False)})
    app.config["TESTING"] = True
    yield app, relay
    relay.down()
    database.dispose()


def test_requests_get_503_while_the_database_is_away_and_work_again_after(relayed):
    app, relay = relayed
    client = app.test_client()
    wrong = {"username": "nobody", "password": "not-this-one"}
    assert client.post("/api/v1/tokens", json=wrong).status_code == 401
    form = client.get("/login").get_data(as_text=True)
    csrf = re.search(r'name="csrf" value="([^"]+)"', form).group(1)

    relay.down()
    api = client.post("/api/v1/tokens", json=wrong)
    assert api.status_code == 503, api.get_data(as_text=True)
    assert api.headers["Retry-After"] == "5"
    assert api.get_json()["error"] == "database_unavailable"
    assert "Traceback" not in api.get_data(as_text=True)
    page = client.post("/login", data={"username": "nobody", "password": "not-this-one",
                                        "csrf": csrf})
    assert page.status_code == 503 and page.headers["Retry-After"] == "5"
    assert "cannot reach its database" in page.get_data(as_text=True)
    set_locale("zh_CN")
    try:
        chinese = client.post("/api/v1/tokens", json=wrong,
                              headers={"Accept-Language": "zh-CN"}).get_json()["message"]
    finally:
        set_locale("en")
    assert "数据库" in chinese, chinese
    assert client.get("/readyz").status_code == 503
    assert client.get("/healthz").status_code == 200  # liveness: no restart for an outage

    relay.up()
    assert client.post("/api/v1/tokens", json=wrong).status_code == 401  # back by itself
