"""A real portal over real HTTP, driven by headless Chromium (Debian's chromium-driver)."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from selenium import webdriver
from selenium.webdriver.chrome.options import Options
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as EC
from selenium.webdriver.support.ui import WebDriverWait

from station_portal import create_app
from station_portal.db import Database
from station_portal.demo.city import build_demo_city
from station_portal.demo.orders import seed_history
from tests.conftest import HISTORY_ORDERS, LiveServer, app_config, fresh_database

CHROMIUM = os.environ.get("CHROMIUM_BINARY", "/usr/bin/chromium")
CHROMEDRIVER = os.environ.get("CHROMEDRIVER", shutil.which("chromedriver") or "/usr/bin/chromedriver")
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"

pytestmark = pytest.mark.browser


@pytest.fixture(scope="session")
def live_portal(tmp_path_factory) -> Iterator[tuple[str, Database]]:
    """The portal served by a real threaded HTTP server on a free port (SQLite), and its
    database (for tests that play the scheduler's part)."""
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


PHONE_UA = ("Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) "
            "Chrome/126.0 Mobile Safari/537.36")


def chromium(width: int, height: int, language: str = "zh-CN",
             phone: bool = False) -> webdriver.Chrome:
    if not (Path(CHROMIUM).exists() and Path(CHROMEDRIVER).exists()):
        pytest.fail(f"Chromium or chromedriver missing ({CHROMIUM}, {CHROMEDRIVER}); "
                    "install Debian's chromium and chromium-driver (.ci/run does)")
    options = Options()
    options.binary_location = CHROMIUM
    for flag in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                 "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run", "--disable-quic",
                 f"--window-size={width},{height}", f"--lang={language}"):
        options.add_argument(flag)
    options.add_experimental_option("prefs", {"intl.accept_languages": language})
    if phone:  # a real phone viewport (a desktop window cannot be made this narrow)
        options.add_experimental_option("mobileEmulation", {
            "deviceMetrics": {"width": width, "height": height, "pixelRatio": 3.0},
            "userAgent": PHONE_UA})
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    return webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)


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


def wait_for(driver, locator, timeout: float = 20):
    return WebDriverWait(driver, timeout).until(EC.presence_of_element_located(locator))


def wait_text(driver, locator, text: str, timeout: float = 20):
    return WebDriverWait(driver, timeout).until(EC.text_to_be_present_in_element(locator, text))


def sign_in(driver, base: str, username: str, password: str = "portal-demo") -> None:
    driver.get(base + "/login")
    driver.find_element(By.ID, "username").send_keys(username)
    driver.find_element(By.ID, "password").send_keys(password)
    driver.find_element(By.ID, "sign-in").click()
    wait_for(driver, (By.ID, "page-content"))


def console_errors(driver) -> list[str]:
    """Severe browser console entries (failed requests, exceptions, Dash callback errors)."""
    return [e["message"] for e in driver.get_log("browser") if e["level"] == "SEVERE"]


def wait_visible(driver, locator, timeout: float = 20):
    return WebDriverWait(driver, timeout).until(EC.visibility_of_element_located(locator))
