"""The cost of live updates for N open pages, over real HTTP against gunicorn on PostgreSQL.

    python benchmarks/polling.py --postgres postgresql+psycopg://postgres@127.0.0.1:5432/test \
        [--orders 100000] [--reuse] [--polls 60] [--changed 12] [--pages 100 1000] \
        [--workers 2] [--threads 4] [--paced 60] [--label before]

Seeds (or, with ``--reuse``, keeps) the demo city with ``--orders`` orders in the
database ``sp_polling_<orders>`` on the given server, adds one account per scope (a
station head per station, a grid manager per supply office, a company manager per
county, the city's manager), starts ``gunicorn -c gunicorn.conf.py wsgi:app`` on it
and signs every account in over HTTP. Then, for every kind of poll an open page sends:

- ``bell``      the notification count, on every page, every 15 s;
- ``dispatch``  the dispatch board's delta (station heads), every 3 s;
- ``ops`` / ``work`` / ``kpi``  the dashboards' live poll, every 3 s, for each kind of
  scope that opens them (station, supply office, county, city);

it sends ``--polls`` quiet polls (nothing changed: the browser holds the last answer) and
``--changed`` polls each right after an order in the board's scope changed (a note on an
open order), and measures per poll: the CPU time of the gunicorn processes
(``psutil``, master and workers), the CPU time of PostgreSQL's backends serving them
(the database's share), and the latency seen by the client (p50, p95). A page load
(HTML, layout, the page's content callback) is measured the same way for comparison.

From these it works out, for ``--pages`` open pages in a realistic mix (MIX below), the
polls per second they generate and the cores they need, when nothing changes (each board
recomputes once a minute: time limits move) and when an order changes every second
somewhere in the city (a board recomputes when a change landed in its scope since its
last poll: 1 - (1 - share)^3 of its polls, share = its scope's part of the open orders).

``--paced S`` then checks the model: it opens 100 pages of the mix for real (each board
polls every 3 s and the bell every 15 s, from client threads), lets an order change every
second, and reports the server's and the database's measured CPU use over S seconds.

Prints ``uptime``'s load average with the figures: the machine may be shared.
"""

from __future__ import annotations

import argparse
import contextlib
import copy
import os
import random
import re
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

import psutil
import requests

ROOT_DIR = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT_DIR))

from station_portal import create_app  # noqa: E402
from station_portal.db import Database, utcnow  # noqa: E402
from tests.dash_calls import DASH_UPDATE, body_for, callback_id_for  # noqa: E402

BENCH_APP = "polling-bench"  # application_name of this script's own connections
PASSWORD = "portal-demo"
POLL_S = {"bell": 15.0, "dispatch": 3.0, "ops": 3.0, "work": 3.0, "kpi": 3.0}
BOARD_PATHS = {"ops": "/dashboards/operations", "work": "/dashboards/workload",
               "kpi": "/dashboards/kpis"}
DAYS = {"ops": 1, "work": 28, "kpi": 30}
# The open pages: (share of the pages, page kind, scope class). Station heads on their
# dispatch board and operations dashboard, grid managers on the workload, company
# managers (county and city) on the KPIs, workload and operations. Every page has a bell.
MIX = [(0.30, "dispatch", "station"), (0.20, "ops", "station"), (0.20, "work", "office"),
       (0.05, "work", "county"), (0.15, "kpi", "county"), (0.05, "kpi", "city"),
       (0.05, "ops", "city")]


# -- the database and the accounts ---------------------------------------------------------------
def database_url(admin_url: str, orders: int, reuse: bool) -> str:
    import psycopg

    name = f"sp_polling_{orders}"
    plain = admin_url.replace("postgresql+psycopg://", "postgresql://")
    with psycopg.connect(plain, autocommit=True) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone()
        if exists and not reuse:
            conn.execute(f'DROP DATABASE "{name}"')
            exists = None
        if not exists:
            conn.execute(f'CREATE DATABASE "{name}"')
    url = admin_url.rsplit("/", 1)[0] + f"/{name}"
    from dashboards import seed, seeded_count

    if (seeded_count(url) or 0) < orders:
        seed(url, orders)
    from station_portal import migrate

    db = Database(url)
    migrate.upgrade(db)  # a database seeded by an older checkout
    db.dispose()
    return url


@dataclass
class Account:
    username: str
    scope: str  # station, office, county, city
    unit_id: int | None
    unit_ids: frozenset[int] = frozenset()  # what it sees (None for the whole city: all)
    share: float = 0.0  # its part of the open orders


def accounts(url: str) -> list[Account]:
    """One account per scope, made if missing (the demo password, as the demo accounts)."""
    from sqlalchemy import func, select

    from station_portal.auth.models import User
    from station_portal.auth.roles import Role
    from station_portal.org.models import Unit, UnitKind
    from station_portal.org.tree import subtree_ids
    from station_portal.services.users import UserInput, create_user
    from station_portal.workorders.models import WorkOrder

    db = Database(url)
    out: list[Account] = []
    kinds = {UnitKind.SERVICE_STATION: ("station", Role.STATION_HEAD),
             UnitKind.SUPPLY_OFFICE: ("office", Role.GRID_MANAGER),
             UnitKind.COUNTY_COMPANY: ("county", Role.COMPANY_MANAGER),
             UnitKind.CITY_COMPANY: ("city", Role.COMPANY_MANAGER)}
    with db.write() as s:
        open_by_unit = dict(s.execute(select(WorkOrder.unit_id, func.count())
                                      .where(WorkOrder.closed_at.is_(None))
                                      .group_by(WorkOrder.unit_id)).all())
        total = sum(open_by_unit.values()) or 1
        for unit in s.scalars(select(Unit).where(Unit.kind.in_(list(kinds))).order_by(Unit.id)):
            scope, role = kinds[UnitKind(unit.kind)]
            username = f"poll-{scope}-{unit.id}"
            if s.scalar(select(User.id).where(User.username == username)) is None:
                create_user(s, None, username=username, password=PASSWORD,
                            data=UserInput(display_name=username, role=role.value,
                                           scope_unit_id=unit.id),
                            allow_demo_password=True, password_is_demo=True)
            units = frozenset(subtree_ids(s, unit.id))
            share = sum(open_by_unit.get(u, 0) for u in units) / total
            out.append(Account(username, scope, unit.id, units, share))
    db.dispose()
    return out


# -- the server and its CPU ------------------------------------------------------------------
def free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_server(url: str, workers: int, threads: int,
                 checkout: Path = ROOT_DIR) -> tuple[subprocess.Popen, str]:
    port = free_port()
    env = {**os.environ, "PORTAL_DATABASE_URL": url, "SECRET_KEY": "p" * 40,
           "PORTAL_ENV": "demo", "PORTAL_PORT": str(port), "PORTAL_HOST": "127.0.0.1",
           "PORTAL_WEB_WORKERS": str(workers), "PORTAL_WEB_THREADS": str(threads),
           "PORTAL_LOG_LEVEL": "WARNING", "PORTAL_SIMULATE": "false",
           "PORTAL_DATABASE_POOL_SIZE": str(threads + 1)}
    env.pop("PROMETHEUS_MULTIPROC_DIR", None)
    gunicorn = Path(sys.executable).with_name("gunicorn")
    log = tempfile.NamedTemporaryFile(prefix="polling-gunicorn-", suffix=".log", delete=False)  # noqa: SIM115
    env["PYTHONPATH"] = str(checkout)  # the code under test (another checkout: --checkout)
    proc = subprocess.Popen([str(gunicorn), "-c", "gunicorn.conf.py", "wsgi:app"],  # noqa: S603
                            cwd=checkout, env=env, stdout=log, stderr=log,
                            start_new_session=True)
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit("gunicorn did not start:\n" + Path(log.name).read_text()[-3000:])
        try:
            if requests.get(base + "/healthz", timeout=2).status_code == 200:
                return proc, base
        except requests.RequestException:
            pass
        time.sleep(0.3)
    proc.kill()
    raise SystemExit("gunicorn did not answer /healthz in 90 s")


def stop_server(proc: subprocess.Popen) -> None:
    proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(timeout=30)
    except subprocess.TimeoutExpired:
        proc.kill()


class Meter:
    """CPU seconds of the gunicorn processes and of the PostgreSQL backends serving them."""

    def __init__(self, server_pid: int, url: str) -> None:
        import psycopg

        self.server = psutil.Process(server_pid)
        self.dbname = url.rsplit("/", 1)[1]
        plain = url.replace("postgresql+psycopg://", "postgresql://")
        self.conn = psycopg.connect(plain + f"?application_name={BENCH_APP}", autocommit=True)
        self.dead_db = 0.0
        self.last_db: dict[int, float] = {}

    @staticmethod
    def _cpu(proc: psutil.Process) -> float:
        try:
            t = proc.cpu_times()
            return t.user + t.system
        except psutil.Error:
            return 0.0

    def server_cpu(self) -> float:
        procs = [self.server, *self.server.children(recursive=True)]
        return sum(self._cpu(p) for p in procs)

    def db_cpu(self) -> float:
        pids = [r[0] for r in self.conn.execute(
            "SELECT pid FROM pg_stat_activity WHERE datname = %s AND application_name <> %s "
            "AND backend_type = 'client backend'", (self.dbname, BENCH_APP))]
        now: dict[int, float] = {}
        for pid in pids:
            with contextlib.suppress(psutil.Error):
                now[pid] = self._cpu(psutil.Process(pid))
        # a backend that went away keeps the CPU it had when last seen
        self.dead_db += sum(v for pid, v in self.last_db.items() if pid not in now)
        self.last_db = now
        return self.dead_db + sum(now.values())

    def read(self) -> tuple[float, float]:
        return self.server_cpu(), self.db_cpu()


# -- the pages -------------------------------------------------------------------------------
def sign_in(base: str, username: str) -> requests.Session:
    session = requests.Session()
    page = session.get(base + "/login")
    csrf = re.search(r'name="csrf" value="([^"]+)"', page.text).group(1)
    answer = session.post(base + "/login", data={"username": username, "password": PASSWORD,
                                                 "csrf": csrf}, allow_redirects=False)
    assert answer.status_code == 302, f"cannot sign in as {username}: {answer.status_code}"
    return session


@dataclass
class Poller:
    """One open page's poller: what it sends, and what it holds (updated from each answer,
    as the browser does)."""

    kind: str
    account: Account
    http: requests.Session
    base: str
    body: dict[str, Any]
    advance: Any = None  # body ← answer, for the next poll
    timings: list[float] = field(default_factory=list)

    def poll(self) -> int:
        started = time.perf_counter()
        answer = self.http.post(self.base + DASH_UPDATE, json=self.body)
        self.timings.append((time.perf_counter() - started) * 1000)
        if answer.status_code not in (200, 204):
            raise RuntimeError(f"{self.kind} {self.account.username}: {answer.status_code} "
                               f"{answer.text[:300]}")
        if answer.status_code == 200 and self.advance is not None:
            self.advance(self, answer.json())
        return len(answer.content)


class Pages:
    """Builds the pollers' request bodies from the app's own callback map."""

    def __init__(self, url: str, base: str) -> None:
        self.app = create_app({"database_url": url, "secret_key": "p" * 40, "env": "demo"})
        self.base = base
        today = utcnow().date()
        self.dates = {k: [(today - timedelta(days=d - 1)).isoformat(), today.isoformat()]
                      for k, d in DAYS.items()}

    def bell(self, account: Account, http: requests.Session) -> Poller:
        from station_portal.pages import shell

        key = callback_id_for(self.app, shell.BELL_COUNT, "children")
        body = body_for(self.app, key, [1, "/", None])
        return Poller("bell", account, http, self.base, body)

    def dispatch(self, account: Account, http: requests.Session) -> Poller:
        from station_portal.pages import dispatch as page

        key = callback_id_for(self.app, page.DELTA, "data")
        body = body_for(self.app, key, [1], [None])

        def advance(poller: Poller, answer: dict[str, Any]) -> None:
            delta = answer["response"][page.DELTA]["data"]
            known = dict(poller.body["state"][0]["value"] or {})
            for gone in delta["remove"]:
                known.pop(gone, None)
            known.update(delta["prints"])
            poller.body["state"][0]["value"] = known

        poller = Poller("dispatch", account, http, self.base, body, advance)
        poller.poll()  # the first picture: everything
        poller.timings.clear()
        return poller

    def board(self, kind: str, account: Account, http: requests.Session) -> Poller:
        start, end = self.dates[kind]
        fill = body_for(self.app, callback_id_for(self.app, f"dash-{kind}-alert", "children"),
                        [start, end, None])
        answer = http.post(self.base + DASH_UPDATE, json=fill)
        assert answer.status_code == 200, (kind, account.username, answer.text[:300])
        known = answer.json()["response"][f"dash-{kind}-known"]["data"]
        key = callback_id_for(self.app, f"dash-{kind}-live", "children")
        body = body_for(self.app, key, [1], [start, end, None, known])

        def advance(poller: Poller, answer: dict[str, Any]) -> None:
            new = answer["response"].get(f"dash-{kind}-known", {}).get("data")
            if isinstance(new, dict):
                poller.body["state"][3]["value"] = new

        return Poller(kind, account, http, self.base, body, advance)

    def make(self, kind: str, account: Account, http: requests.Session) -> Poller:
        if kind == "bell":
            return self.bell(account, http)
        if kind == "dispatch":
            return self.dispatch(account, http)
        return self.board(kind, account, http)

    def page_load(self, kind: str, http: requests.Session) -> None:
        """What a browser asks for when it opens the page (besides static files)."""
        from station_portal.pages import shell

        path = BOARD_PATHS.get(kind, "/dispatch")
        assert http.get(self.base + path).status_code == 200
        assert http.get(self.base + "/_dash-layout").status_code == 200
        body = body_for(self.app, callback_id_for(self.app, shell.PAGE, "children"), [path], [""])
        answer = http.post(self.base + DASH_UPDATE, json=body)
        assert answer.status_code == 200, answer.text[:300]


# -- changes ---------------------------------------------------------------------------------
class Changer:
    """Notes on open orders, in a given scope or anywhere (weighted by open orders)."""

    def __init__(self, url: str) -> None:
        from sqlalchemy import select

        from station_portal.workorders.models import WorkOrder

        self.db = Database(url + f"?application_name={BENCH_APP}")
        with self.db.read() as s:
            rows = s.execute(select(WorkOrder.id, WorkOrder.unit_id)
                             .where(WorkOrder.closed_at.is_(None))).all()
        self.open = [(r.id, r.unit_id) for r in rows]
        self.rng = random.Random(7)

    def change(self, units: frozenset[int] | None = None) -> None:
        from station_portal.services import orders

        choices = [o for o, u in self.open if units is None or u in units]
        with self.db.write() as s:
            orders.add_note(s, None, self.rng.choice(choices), "polling benchmark")


# -- measuring ---------------------------------------------------------------------------------
def load_average() -> str:
    one, five, fifteen = os.getloadavg()
    return f"load average {one:.2f}, {five:.2f}, {fifteen:.2f} ({os.cpu_count()} cores)"


def clear_of_minute() -> None:
    """Quiet polls must not straddle a minute (every fingerprint changes with it)."""
    second = time.time() % 60
    if second > 45:
        time.sleep(61 - second)


@dataclass
class Cost:
    server_ms: float
    db_ms: float
    p50: float
    p95: float
    n: int


def measure(pollers: list[Poller], n: int, meter: Meter, threads: int = 2) -> Cost:
    """``n`` polls spread over the pollers (round robin), ``threads`` at a time."""
    for p in pollers:
        p.timings.clear()
    clear_of_minute()
    lock = threading.Lock()
    queue = [pollers[i % len(pollers)] for i in range(n)]
    busy: set[int] = set()

    def work() -> None:
        while True:
            with lock:
                pick = next((i for i, p in enumerate(queue) if id(p) not in busy), None)
                if pick is None:
                    if not queue:
                        return
                else:
                    poller = queue.pop(pick)
                    busy.add(id(poller))
            if pick is None:
                time.sleep(0.001)
                continue
            try:
                poller.poll()
            finally:
                with lock:
                    busy.discard(id(poller))

    s0, d0 = meter.read()
    workers = [threading.Thread(target=work) for _i in range(threads)]
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    s1, d1 = meter.read()
    return _cost(pollers, s1 - s0, d1 - d0, n)


def _cost(pollers: list[Poller], server: float, db: float, n: int) -> Cost:
    timings = sorted(t for p in pollers for t in p.timings)
    return Cost(server / n * 1000, db / n * 1000, statistics.median(timings),
                timings[min(len(timings) - 1, int(len(timings) * 0.95))], n)


def measure_changed(pollers: list[Poller], n: int, meter: Meter, change) -> tuple[Cost, Cost]:
    """After each of ``n`` changes in a board's scope: the board's first poll (it computes),
    and polls of another board of the same scope that still holds the old data (they
    compute again without a shared cache, or take the answer from it: measured after every
    worker process had its first poll)."""
    first = second = (0.0, 0.0)
    for p in pollers:
        p.timings.clear()
    seconds: list[Poller] = []
    for i in range(n):
        poller = pollers[i % len(pollers)]
        change(poller)
        stale = Poller(poller.kind, poller.account, poller.http, poller.base,
                       copy.deepcopy(poller.body))
        s0, d0 = meter.read()
        poller.poll()
        s1, d1 = meter.read()
        first = (first[0] + s1 - s0, first[1] + d1 - d0)
        for _i in range(3):  # every worker's first poll after the change
            Poller(stale.kind, stale.account, stale.http, stale.base, stale.body).poll()
        s0, d0 = meter.read()
        for _i in range(2):
            stale.poll()
        s1, d1 = meter.read()
        second = (second[0] + s1 - s0, second[1] + d1 - d0)
        seconds.append(stale)
    return (_cost(pollers, first[0], first[1], n), _cost(seconds, second[0], second[1], 2 * n))


def paced(pages: list[tuple[str, Poller, Poller]], seconds: float, meter: Meter,
          changer: Changer) -> tuple[float, float, Counter, list[float]]:
    """Every page polls at its real interval for ``seconds``, an order changes every second.
    Returns the server's and the database's CPU cores in use, the polls sent by kind and
    their latencies."""
    stop = time.monotonic() + seconds
    sent: Counter = Counter()
    lock = threading.Lock()
    timings: list[float] = []
    schedule: list[tuple[float, Poller]] = []
    start = time.monotonic()
    rng = random.Random(3)
    for _kind, board, bell in pages:  # pages opened at random moments of an interval
        schedule.append((start + rng.random() * POLL_S[board.kind], board))
        schedule.append((start + rng.random() * POLL_S["bell"], bell))
    schedule.sort(key=lambda item: item[0])
    cond = threading.Condition(lock)

    def worker() -> None:
        while True:
            with cond:
                while True:
                    if time.monotonic() >= stop:
                        return
                    if schedule and schedule[0][0] <= time.monotonic():
                        due, poller = schedule.pop(0)
                        break
                    cond.wait(0.01)
            poller.timings.clear()
            try:
                poller.poll()
            except Exception as exc:  # counted, the run goes on
                print(f"  poll failed: {exc}", file=sys.stderr)
            with cond:
                sent[poller.kind] += 1
                timings.extend(poller.timings)
                nxt = max(due + POLL_S[poller.kind], time.monotonic())  # one in flight, as the gate
                schedule.append((nxt, poller))
                schedule.sort(key=lambda item: item[0])

    def changes() -> None:
        while time.monotonic() < stop:
            t = time.monotonic()
            changer.change()
            time.sleep(max(0.0, 1 - (time.monotonic() - t)))

    s0, d0 = meter.read()
    t0 = time.monotonic()
    threads = [threading.Thread(target=worker) for _i in range(16)] + \
        [threading.Thread(target=changes)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.monotonic() - t0
    s1, d1 = meter.read()
    return (s1 - s0) / elapsed, (d1 - d0) / elapsed, sent, sorted(timings)


# -- the model -------------------------------------------------------------------------------
def share_changed(kind: str, share: float, changes_per_s: float) -> float:
    """The part of a board's polls that find something changed."""
    interval = POLL_S[kind]
    minute = interval / 60  # once a minute, for time limits (the dispatch board: see below)
    if changes_per_s == 0:
        return minute
    seen = 1 - (1 - share) ** (changes_per_s * interval)
    return min(1.0, seen + minute * (1 - seen))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--postgres", required=True, help="PostgreSQL URL of any database "
                        "on the server; sp_polling_<orders> is created (reset unless --reuse)")
    parser.add_argument("--orders", type=int, default=100_000)
    parser.add_argument("--reuse", action="store_true")
    parser.add_argument("--polls", type=int, default=60, help="quiet polls per kind and scope")
    parser.add_argument("--changed", type=int, default=12, help="polls after a change, each")
    parser.add_argument("--pages", type=int, nargs="+", default=[100, 1000])
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--threads", type=int, default=4)
    parser.add_argument("--paced", type=float, default=60, help="seconds of the paced check "
                        "with 100 pages (0: skip)")
    parser.add_argument("--label", default="")
    parser.add_argument("--processes", type=int, default=4, help="web processes in the model "
                        "(hosts x workers): each computes a changed board once")
    parser.add_argument("--checkout", type=Path, default=ROOT_DIR,
                        help="serve the code of another copy of the project (e.g. the code "
                        "before a change); this script and its bodies stay this checkout's")
    args = parser.parse_args()

    url = database_url(args.postgres, args.orders, args.reuse)
    people = accounts(url)
    proc, base = start_server(url, args.workers, args.threads, args.checkout)
    try:
        run(args, url, people, proc, base)
    finally:
        stop_server(proc)


def run(args, url: str, people: list[Account], proc: subprocess.Popen, base: str) -> None:
    meter = Meter(proc.pid, url)
    pages = Pages(url, base)
    changer = Changer(url)
    sessions = {a.username: sign_in(base, a.username) for a in people}
    by_scope: dict[str, list[Account]] = {}
    for a in people:
        by_scope.setdefault(a.scope, []).append(a)
    kinds = sorted({(kind, scope) for _s, kind, scope in MIX})

    print(f"# live updates, {args.orders:,} orders, PostgreSQL, gunicorn {args.workers} workers "
          f"x {args.threads} threads {args.label}".rstrip())
    print(f"# {time.strftime('%Y-%m-%d %H:%M')}, {load_average()}; the machine is shared")
    print(f"{'poll':<20} {'state':<10} {'server CPU ms':>13} {'db CPU ms':>9} {'p50 ms':>7} "
          f"{'p95 ms':>7} {'bytes':>7}")
    costs: dict[tuple[str, str, str], Cost] = {}
    for kind, scope in [("bell", "all"), *kinds]:
        who = people if scope == "all" else by_scope[scope]
        pollers = [pages.make(kind, a, sessions[a.username]) for a in who]
        for poller in pollers * 2:  # every worker has answered this kind once, untimed
            poller.poll()
        quiet = measure(pollers, args.polls, meter)
        size = pollers[0].poll()
        costs[(kind, scope, "quiet")] = quiet
        rows = [("quiet", quiet)]
        if kind != "bell":
            changed, shared = measure_changed(
                pollers, args.changed, meter,
                lambda p: changer.change(p.account.unit_ids if p.account.scope != "city"
                                         else None))
            costs[(kind, scope, "changed")] = changed
            costs[(kind, scope, "same scope")] = shared
            rows += [("changed", changed), ("same scope", shared)]
        for state, c in rows:
            print(f"{kind + ' (' + scope + ')':<20} {state:<10} {c.server_ms:>13.1f} "
                  f"{c.db_ms:>9.1f} {c.p50:>7.1f} {c.p95:>7.1f} "
                  f"{size if state == 'quiet' else '':>7}")

    # a page load, for comparison
    loads = []
    for kind, scope in [("dispatch", "station"), ("ops", "station"), ("kpi", "city")]:
        http = sessions[by_scope[scope][0].username]
        s0, d0 = meter.read()
        for _i in range(5):
            pages.page_load(kind, http)
        s1, d1 = meter.read()
        loads.append(((s1 - s0) / 5 * 1000, (d1 - d0) / 5 * 1000))
        print(f"{'page load ' + kind + ' (' + scope + ')':<31} {loads[-1][0]:>13.1f} "
              f"{loads[-1][1]:>9.1f}")
    load_ms = statistics.mean(s + d for s, d in loads)

    # the model: N pages of the mix
    shares = {scope: statistics.mean(a.share for a in by_scope[scope]) for scope in by_scope}
    shares["city"] = 1.0
    scope_count = {scope: len(by_scope[scope]) for scope in by_scope}
    print()
    print(f"# the model: {args.processes} web processes (e.g. 2 hosts x 2 workers); the boards "
          f"of a scope share it: {', '.join(f'{k} {v}' for k, v in sorted(scope_count.items()))}")
    print(f"{'pages':>6} {'changes/s':>9} {'polls/s':>8} {'of them bell':>12} "
          f"{'server cores':>12} {'db cores':>8} {'cores':>6}  page loads (one per page "
          f"every 10 min) cores")
    for n in args.pages:
        for changes in (0.0, 1.0):
            rate = server = db = 0.0
            bell_rate = n / POLL_S["bell"]
            bell = costs[("bell", "all", "quiet")]
            server += bell_rate * bell.server_ms
            db += bell_rate * bell.db_ms
            for part, kind, scope in MIX:
                r = n * part / POLL_S[kind]
                rate += r
                changed = share_changed(kind, shares[scope], changes)
                q, c = costs[(kind, scope, "quiet")], costs[(kind, scope, "changed")]
                h = costs[(kind, scope, "same scope")]
                # of the boards of one scope that see a change, at most one per web process
                # computes it (with a shared cache; without one, h = c: every board does)
                boards = n * part / scope_count[scope]
                computing = min(1.0, args.processes / boards) if boards else 1.0
                c_server = h.server_ms + (c.server_ms - h.server_ms) * computing
                c_db = h.db_ms + (c.db_ms - h.db_ms) * computing
                server += r * ((1 - changed) * q.server_ms + changed * max(c_server, q.server_ms))
                db += r * ((1 - changed) * q.db_ms + changed * max(c_db, q.db_ms))
            loads_cores = n / 600 * load_ms / 1000
            print(f"{n:>6} {changes:>9.0f} {rate + bell_rate:>8.0f} {bell_rate:>12.0f} "
                  f"{server / 1000:>12.2f} {db / 1000:>8.2f} {(server + db) / 1000:>6.2f}  "
                  f"{loads_cores:.2f}")

    if args.paced:
        opened = []
        counts = Counter()
        rng = random.Random(11)
        for i in range(100):
            part = (i + 0.5) / 100
            cumulative = [sum(m[0] for m in MIX[:j + 1]) for j in range(len(MIX))]
            _share, kind, scope = MIX[next(j for j, c in enumerate(cumulative) if part <= c)]
            account = rng.choice(by_scope[scope])
            http = sign_in(base, account.username)  # a page per browser
            opened.append((kind, pages.make(kind, account, http), pages.bell(account, http)))
            counts[kind] += 1
        server, db, sent, timings = paced(opened, args.paced, meter, changer)
        p50 = statistics.median(timings)
        p95 = timings[int(len(timings) * 0.95)]
        print()
        print(f"paced check: 100 pages ({', '.join(f'{k} {v}' for k, v in sorted(counts.items()))})"
              f" for {args.paced:.0f} s, an order changed every second:")
        print(f"  {sum(sent.values()) / args.paced:.1f} polls/s "
              f"({', '.join(f'{k} {v}' for k, v in sorted(sent.items()))}), "
              f"server {server:.2f} cores, database {db:.2f} cores, p50 {p50:.0f} ms, "
              f"p95 {p95:.0f} ms; {load_average()}")


if __name__ == "__main__":
    main()
