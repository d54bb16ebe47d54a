"""Plain helpers the test modules share (fixtures stay in the conftest files).

Databases and the app, HTTP sign-in and a live server, the REST API, the customer pages,
a local SMTP inbox, and headless Chromium. Test modules import from here, never from each
other or from a conftest.
"""

from __future__ import annotations

import contextlib
import email
import email.header
import itertools
import os
import re
import shutil
import socket
import threading
import uuid
from pathlib import Path

import pytest
import requests
from flask import Flask
from flask.testing import FlaskClient
from selenium import webdriver
from selenium.common.exceptions import StaleElementReferenceException
from selenium.webdriver.chrome.options import Options
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.support import expected_conditions as EC
from selenium.webdriver.support.ui import WebDriverWait
from sqlalchemy import select, text
from sqlalchemy.engine import make_url

from station_portal import migrate
from station_portal.auth.models import User
from station_portal.db import Database
from station_portal.org.models import Crew, Unit
from station_portal.org.tree import subtree_ids
from station_portal.services import repairs
from station_portal.services.users import UserInput, create_user
from station_portal.workorders.models import WorkOrder

# -- databases and the app ------------------------------------------------------------------

TEST_SECRET = "test-secret-key-that-is-long-enough-0123456789"
ENGINES = ["sqlite"] + (["postgresql"] if os.environ.get("TEST_DATABASE_URL") else [])
HISTORY_ORDERS = 2000

# PostgreSQL test databases are schemas named after the run (the conftest sets
# PORTAL_TEST_RUN once in the main process; xdist workers inherit it), so a run drops only
# its own schemas and never another run's, nor a parallel worker's.
SCHEMA_PREFIX = "portal_test_"


def run_schema_prefix() -> str:
    return f"{SCHEMA_PREFIX}{os.environ['PORTAL_TEST_RUN']}_"


def postgres_schema_url(schema: str) -> str:
    """TEST_DATABASE_URL, with its own schema first on the search path."""
    url = make_url(os.environ["TEST_DATABASE_URL"])
    url = url.update_query_dict({"options": f"-csearch_path={schema}"})
    return url.render_as_string(hide_password=False)


def fresh_database(engine: str, tmp_dir) -> Database:
    """An empty, migrated database of the given engine; on PostgreSQL a schema of its own,
    so tests never disturb each other's data."""
    if engine == "sqlite":
        db = Database(f"sqlite:///{tmp_dir / f'portal-{uuid.uuid4().hex[:8]}.sqlite3'}")
    else:
        schema = run_schema_prefix() + uuid.uuid4().hex[:10]
        admin = Database(os.environ["TEST_DATABASE_URL"])
        with admin.engine.begin() as conn:
            conn.execute(text(f'CREATE SCHEMA "{schema}"'))
        admin.dispose()
        db = Database(postgres_schema_url(schema))
    migrate.upgrade(db)
    return db


def app_config(db: Database, **overrides) -> dict:
    config = {
        "database_url": db.url,
        "secret_key": TEST_SECRET,
        "env": "demo",
        "default_locale": "en",
    }
    config.update(overrides)
    return config


def unique(prefix: str = "u") -> str:
    return f"{prefix}{uuid.uuid4().hex[:10]}"


def account(session, username: str) -> User:
    return session.scalar(select(User).where(User.username == username))


# -- HTTP: sign-in through the test client, a live server ---------------------------------

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


def http_sign_in(base_url: str, username: str, password: str = "portal-demo", ip: str | None = None):
    """A requests.Session signed in over real HTTP."""
    session = requests.Session()
    page = session.get(f"{base_url}/login", timeout=30)
    response = session.post(f"{base_url}/login", timeout=60, allow_redirects=False, data={
        "username": username, "password": password, "csrf": csrf_of(page.text)})
    return session, response


# -- the REST API through the test client -------------------------------------------------

API = "/api/v1"
PASSWORD = "correct horse battery"
CHANGYI = "JL-CY-S"


def address() -> str:
    """A client address of its own (rate limits count per address)."""
    n = uuid.uuid4().int
    return f"10.{40 + n % 50}.{n // 50 % 250}.{n // 12500 % 250 + 1}"


def token(client, username: str, password: str = PASSWORD, **extra) -> str:
    response = client.post(f"{API}/tokens", json={"username": username, "password": password, **extra},
                           environ_base={"REMOTE_ADDR": address()})
    assert response.status_code == 201, response.json
    return response.json["token"]


def unit_of(db, code: str) -> Unit:
    with db.read() as s:
        return s.scalar(select(Unit).where(Unit.code == code))


def make_user(db, role: str, *, unit: str | None = None, staff_id: int | None = None) -> str:
    name = unique("api")
    with db.write() as s:
        create_user(s, None, username=name, password=PASSWORD, allow_demo_password=False,
                    data=UserInput(display_name=name, role=role, staff_id=staff_id,
                                   scope_unit_id=unit_of(db, unit).id if unit else None))
    return name


def head_of(db, station: str = CHANGYI) -> str:
    return make_user(db, "station_head", unit=station)


def new_repair(db, station: str = CHANGYI, *, urgency: int = 2) -> tuple[int, int]:
    """A reported repair at the station's centre (id, version)."""
    where = unit_of(db, station)
    with db.write() as s:
        order = repairs.create_repair(s, None, repairs.RepairInput(
            source="hotline_95598", category="low_voltage", urgency=urgency, lat=where.lat,
            lon=where.lon, address="吉林市昌邑区测试路1号"))
        return order.id, order.version


def board_repair(db, category: str = "low_voltage", urgency: int = 2, address: str = "",
                 station_code: str = CHANGYI) -> WorkOrder:
    """A reported repair just beside the station (the order, detached)."""
    with db.write() as s:
        station = s.scalar(select(Unit).where(Unit.code == station_code))
        order = repairs.create_repair(s, None, repairs.RepairInput(
            source="hotline_95598", category=category, urgency=urgency, lat=station.lat + 0.002,
            lon=station.lon - 0.003, address=address or "Board test street 1"))
        s.flush()
        s.expunge(order)
        return order


def crews_of(db, station: str = CHANGYI) -> list[int]:
    with db.read() as s:
        units = subtree_ids(s, unit_of(db, station).id)
        return list(s.scalars(select(Crew.id).where(Crew.unit_id.in_(units), Crew.active.is_(True))
                              .order_by(Crew.code)))


# -- the customer pages -------------------------------------------------------------------

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
_ips = itertools.count(10)


def visitor(app):
    """A browser of its own: its own cookie and its own address (limits count per address)."""
    n = next(_ips)
    client = app.test_client()
    client.environ_base["REMOTE_ADDR"] = f"10.77.{n // 250}.{n % 250}"
    return client


def site(db, code="JL-CY-S"):
    with db.read() as s:
        unit = s.scalar(select(Unit).where(Unit.code == code))
        return unit.lat, unit.lon


def made(client):
    page = client.get("/service/made")
    number = re.search(r'id="case-number">([^<]+)<', page.text).group(1)
    code = re.search(r'id="case-code">([^<]+)<', page.text).group(1)
    return number, code


# -- a local SMTP inbox -------------------------------------------------------------------

class Inbox:
    def __init__(self) -> None:
        self.messages: list[email.message.Message] = []

    async def handle_DATA(self, server, session, envelope):
        self.messages.append(email.message_from_bytes(envelope.content))
        return "250 OK"


def free_port() -> int:
    """A free local port (aiosmtpd cannot be given port 0)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def subject_of(message) -> str:
    return str(email.header.make_header(email.header.decode_header(message["Subject"])))


# -- headless Chromium (Debian's chromium-driver) -----------------------------------------

CHROMIUM = os.environ.get("CHROMIUM_BINARY", "/usr/bin/chromium")
CHROMEDRIVER = os.environ.get("CHROMEDRIVER", shutil.which("chromedriver") or "/usr/bin/chromedriver")
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


def wait_for(driver, locator, timeout: float = 20):
    return WebDriverWait(driver, timeout).until(EC.presence_of_element_located(locator))


def wait_text(driver, locator, text: str, timeout: float = 20):
    return WebDriverWait(driver, timeout).until(EC.text_to_be_present_in_element(locator, text))


def wait_visible(driver, locator, timeout: float = 20):
    return WebDriverWait(driver, timeout).until(EC.visibility_of_element_located(locator))


def wait_clickable(driver, locator, timeout: float = 20):
    """The element shown and enabled (a modal that is still fading in is not yet)."""
    return WebDriverWait(driver, timeout).until(EC.element_to_be_clickable(locator))


def until(driver, condition, timeout: float = 25, message: str = ""):
    return WebDriverWait(driver, timeout, poll_frequency=0.3,
                         ignored_exceptions=(StaleElementReferenceException,)).until(condition, message)


def browser_sign_in(driver, base: str, username: str, password: str = "portal-demo") -> None:
    driver.get(base + "/login")
    driver.find_element(By.ID, "username").send_keys(username)
    driver.find_element(By.ID, "password").send_keys(password)
    driver.find_element(By.ID, "sign-in").click()
    wait_for(driver, (By.ID, "page-content"))


def console_errors(driver) -> list[str]:
    """Severe browser console entries (failed requests, exceptions, Dash callback errors)."""
    return [e["message"] for e in driver.get_log("browser") if e["level"] == "SEVERE"]


def choose(driver, dropdown_id: str, text: str) -> None:
    """Pick an option of a Dash dropdown by typing into its search box."""
    driver.find_element(By.ID, dropdown_id).click()
    search = wait_visible(driver, (By.CSS_SELECTOR, ".dash-dropdown-content input[type=search]"))
    search.send_keys(text)
    wait_visible(driver, (By.CSS_SELECTOR, ".dash-dropdown-content [role=option]"))
    search.send_keys(Keys.ENTER)  # a single-choice dropdown closes on its own


def http_token(base: str, username: str) -> dict[str, str]:
    """Bearer headers of a demo account, over real HTTP."""
    answer = requests.post(f"{base}/api/v1/tokens", json={"username": username, "password": "portal-demo"},
                           timeout=30)
    assert answer.status_code == 201, answer.text
    return {"Authorization": f"Bearer {answer.json()['token']}"}


def http_api(base: str, method: str, path: str, auth: dict, **kwargs):
    return requests.request(method, f"{base}/api/v1{path}", headers=auth, timeout=30, **kwargs)


class TcpRelay:
    """A TCP relay on 127.0.0.1 to ``target``, cut and restored at will: what a process
    sees when the database server restarts (connections dropped, new ones refused)."""

    def __init__(self, target: tuple[str, int]) -> None:
        self.target = target
        self.port = free_port()
        self._listener: socket.socket | None = None
        self._open: list[socket.socket] = []
        self._lock = threading.Lock()

    def up(self) -> None:
        listener = socket.socket()
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", self.port))
        listener.listen(16)
        self._listener = listener
        threading.Thread(target=self._accept, args=(listener,), daemon=True).start()

    def down(self) -> None:
        """Refuse new connections and reset every open one."""
        listener, self._listener = self._listener, None
        if listener is not None:
            with contextlib.suppress(OSError):
                listener.shutdown(socket.SHUT_RDWR)  # wakes the blocked accept() (Linux)
            listener.close()
        with self._lock:
            for sock in self._open:
                with contextlib.suppress(OSError):
                    sock.shutdown(socket.SHUT_RDWR)
                sock.close()
            self._open.clear()

    def _accept(self, listener: socket.socket) -> None:
        while True:
            try:
                client, _ = listener.accept()
            except OSError:
                return  # closed by down()
            server = socket.create_connection(self.target)
            with self._lock:
                self._open += [client, server]
            for a, b in ((client, server), (server, client)):
                threading.Thread(target=self._pipe, args=(a, b), daemon=True).start()

    @staticmethod
    def _pipe(src: socket.socket, dst: socket.socket) -> None:
        with contextlib.suppress(OSError):
            while data := src.recv(65536):
                dst.sendall(data)
        with contextlib.suppress(OSError):
            dst.shutdown(socket.SHUT_WR)
