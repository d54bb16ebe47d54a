"""A real portal over real HTTP, driven by headless Chromium (Debian's chromium-driver)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from selenium import webdriver

from station_portal import create_app
from station_portal.db import Database
from station_portal.demo.city import build_demo_city
from station_portal.demo.orders import seed_history
from tests.helpers import HISTORY_ORDERS, LiveServer, app_config, chromium, fresh_database

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"

pytestmark = pytest.mark.browser


@pytest.fixture(scope="session")
def live_portal(tmp_path_factory) -> Iterator[tuple[str, Database]]:
    """The portal served by a real threaded HTTP server on a free port (SQLite), and its
    database (for tests that play the scheduler's part); one per xdist worker."""
    database = fresh_database("sqlite", tmp_path_factory.mktemp("browser"))
    with database.write() as session:
        build_demo_city(session, seed=7)
        seed_history(session, n_orders=HISTORY_ORDERS, seed=7)
    server = LiveServer(create_app(app_config(database, default_locale="zh_CN")))
    yield server.url, database
    server.stop()
    database.dispose()


@pytest.fixture(scope="session")
def live_url(live_portal) -> str:
    return live_portal[0]


@pytest.fixture
def browser(request) -> Iterator[webdriver.Chrome]:
    driver = chromium(1366, 900)
    yield driver
    if getattr(request.node, "rep_call", None) and request.node.rep_call.failed:
        ARTIFACTS.mkdir(exist_ok=True)
        driver.save_screenshot(str(ARTIFACTS / f"{request.node.name}.png"))
    driver.quit()


@pytest.hookimpl(hookwrapper=True, tryfirst=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    setattr(item, f"rep_{report.when}", report)
