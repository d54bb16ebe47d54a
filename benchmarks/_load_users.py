"""The load test's users (Locust), one class per role, behaving as the portal's own pages do.

Used by ``benchmarks/load.py`` (the runner) and usable on its own as a locustfile:
``locust -f benchmarks/_load_users.py --host https://127.0.0.1:9443``.

- **Station heads** sign in, open ``/dispatch`` as the browser does (the page, Dash's layout
  and dependencies, the router callback, the territories, the bell, the first full board),
  then poll the board every 3 s with the fingerprints they hold (one poll in flight, as the
  page's clientside gate allows), the bell every 15 s, open an order's panel now and then
  and register a fault repair and send a crew (REST API with the session cookie) about
  every 90 s.
- **Company managers** open ``/dashboards/operations`` and ``/dashboards/kpis`` (filled by
  the router callback), poll every 3 s with the ``known`` store the page holds, change the
  date range now and then (``fill``) and switch boards.
- **Crews** (phones): a token, ``/api/v1/me``, a position every 10 s, their jobs every 20 s
  and the next step of the most urgent one (``client_key`` set, as the phone app does).
- **Customers** track a demo case (``/service`` lists them in demo mode): the track form's
  redirect, the case page, a refresh every 30 s.
- **Kiosks** show their hall's page every 15 s and take a ticket about every minute.

Every request is checked (status and a marker in the body); anything else is a failure.
What the portal refuses by design (a hall's daily cap reached) is counted in
``REFUSED`` and is not an error. Each user comes from its own address (127.x.y.1, one /24
each) so that nginx's ``limit_req`` and the portal's per-network limits see separate
clients, as they would in production.

What each user got a 2xx for (crew steps and pings, repairs, tickets) is kept in
``ACKED`` so the runner can check afterwards that the database has every one of them.
"""

from __future__ import annotations

import itertools
import json
import random
import re
import time
import uuid
from collections import Counter, defaultdict
from datetime import UTC, datetime, timedelta
from typing import Any

from locust import HttpUser, between, constant_pacing, task
from urllib3 import PoolManager

DASH_UPDATE = "/_dash-update-component"
PASSWORD = "portal-demo"
CSRF = re.compile(r'name="csrf" value="([^"]+)"')
DEMO_CASE = re.compile(r'href="/service/track\?n=(\w+)&(?:amp;)?c=([\w-]+)"')
CA_FILE: str | bool = False  # set by the runner: the topology's demo certificate

# Accounts made by ``load.py prepare`` (filled by the runner from its JSON).
ACCOUNTS: dict[str, list[str]] = {"head": ["head"], "manager": ["manager"], "crew": ["crew"]}
HALLS: list[str] = []

REFUSED: Counter[str] = Counter()  # answers refused by design, by reason
ACKED: dict[str, list[Any]] = defaultdict(list)  # what got a 2xx: steps, pings, repairs, tickets
_ADDRESSES = itertools.count(1)
_DEPS: list[dict[str, Any]] = []


def next_address() -> str:
    """127.A.B.1: a /24 of its own per user (the portal counts per /24)."""
    n = next(_ADDRESSES)
    return f"127.{1 + n // 250}.{1 + n % 250}.1"


def now_iso() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds")


# -- Dash, as the browser speaks it ----------------------------------------------------------

def output_specs(output: str) -> list[tuple[str, str]]:
    """``"..a.b...c.d.."`` or ``"a.b"`` → [(id, property)] (plain ids only)."""
    parts = output[2:-2].split("...") if output.startswith("..") else [output]
    return [tuple(p.rsplit(".", 1)) for p in parts]  # type: ignore[misc]


def find_dep(output_id: str, prop: str) -> dict[str, Any]:
    for dep in _DEPS:
        if dep.get("clientside_function"):
            continue
        if any(cid == output_id and p.split("@")[0] == prop for cid, p in output_specs(dep["output"])):
            return dep
    raise KeyError(f"{output_id}.{prop}")


def body(dep: dict[str, Any], inputs: list[Any], state: list[Any] | None = None,
         changed: int = 0) -> dict[str, Any]:
    specs = [{"id": i, "property": p} for i, p in output_specs(dep["output"])]
    ins, sts = dep["inputs"], dep.get("state", [])
    state = state if state is not None else [None] * len(sts)
    return {
        "output": dep["output"],
        "outputs": specs if dep["output"].startswith("..") else specs[0],
        "inputs": [{"id": d["id"], "property": d["property"], "value": v}
                   for d, v in zip(ins, inputs, strict=True)],
        "state": [{"id": d["id"], "property": d["property"], "value": v}
                  for d, v in zip(sts, state, strict=True)],
        "changedPropIds": [f"{ins[changed]['id']}.{ins[changed]['property']}"] if ins else [],
    }


def find_props(tree: Any, component_id: str) -> dict[str, Any] | None:
    """The props of the component with this id in a layout tree (JSON)."""
    stack = [tree]
    while stack:
        node = stack.pop()
        if isinstance(node, dict):
            props = node.get("props")
            if isinstance(props, dict) and props.get("id") == component_id:
                return props
            stack.extend(node.values())
        elif isinstance(node, list):
            stack.extend(node)
    return None


def answer(response: Any, output_id: str) -> dict[str, Any]:
    """One output's props in a callback answer ({prop: value}, the @hash dropped)."""
    out = response.json().get("response", {}).get(output_id, {})
    return {k.split("@")[0]: v for k, v in out.items()}


# -- the base user ---------------------------------------------------------------------------

class PortalUser(HttpUser):
    abstract = True

    def __init__(self, environment: Any) -> None:
        self.address = next_address()
        self.pool_manager = PoolManager(source_address=(self.address, 0), maxsize=2,
                                        cert_reqs="CERT_REQUIRED" if CA_FILE else "CERT_NONE",
                                        ca_certs=CA_FILE or None)
        super().__init__(environment)
        self.client.verify = CA_FILE
        self.client.headers["Accept-Language"] = "zh-CN,zh;q=0.9"

    def call(self, method: str, path: str, name: str, *, ok: tuple[int, ...] = (200,),
             marker: str | None = None, refused: dict[int, str] | None = None,
             **kwargs: Any) -> Any:
        """A checked request: a status in ``ok`` and ``marker`` in the body, else a failure.
        A status in ``refused`` whose body has that text is refused by design (counted)."""
        kwargs.setdefault("allow_redirects", False)
        with self.client.request(method, path, name=name, catch_response=True, **kwargs) as r:
            if refused and r.status_code in refused and refused[r.status_code] in r.text:
                REFUSED[f"{name} {r.status_code}"] += 1
                r.success()
                r.refused, r.good = True, False
                return r
            r.refused = False
            r.good = False
            if r.status_code not in ok:
                r.failure(f"status {r.status_code}: {r.text[:120]!r}")
            elif marker is not None and marker not in r.text:
                r.failure(f"no {marker!r} in the answer")
            else:
                r.success()
                r.good = True
            return r

    def good(self, r: Any) -> bool:
        """Answered as asked (not refused, not failed)."""
        return getattr(r, "good", False)


class StaffUser(PortalUser):
    """Signs in through the form, opens Dash pages as a browser does."""

    abstract = True
    role = ""

    def on_start(self) -> None:
        self.username = random.choice(ACCOUNTS[self.role])
        page = self.call("GET", "/login", "sign-in page", marker='name="csrf"')
        token = CSRF.search(page.text)
        self.call("POST", "/login", "sign-in", ok=(302,),
                  data={"username": self.username, "password": PASSWORD,
                        "csrf": token.group(1) if token else ""})
        self.pathname = ""
        self.bell_at = 0.0

    def open_page(self, path: str) -> dict[str, Any] | None:
        """The page, Dash's layout and dependencies, and the router callback: the page's
        content (JSON) or None."""
        self.call("GET", path, f"{self.role}: page shell", marker="_dash-config")
        self.call("GET", "/_dash-layout", f"{self.role}: _dash-layout", marker='"page-content"')
        deps = self.call("GET", "/_dash-dependencies", f"{self.role}: _dash-dependencies",
                         marker='"output"')
        if not _DEPS and deps.status_code == 200:
            _DEPS.extend(deps.json())
        self.pathname = path
        r = self.dash(find_dep("page-content", "children"), [path], [""],
                      f"{self.role}: route {path}", marker='"page-content"')
        self.bell(force=True)
        return answer(r, "page-content").get("children") if r.status_code == 200 else None

    def dash(self, dep: dict[str, Any], inputs: list[Any], state: list[Any] | None, name: str,
             *, changed: int = 0, marker: str = '"response"', ok: tuple[int, ...] = (200,)) -> Any:
        return self.call("POST", DASH_UPDATE, name, ok=ok, marker=marker,
                         json=body(dep, inputs, state, changed))

    def bell(self, *, force: bool = False) -> None:
        if force or time.monotonic() - self.bell_at >= 15:
            self.bell_at = time.monotonic()
            self.dash(find_dep("nav-bell-count", "children"), [None, self.pathname, None], None,
                      f"{self.role}: bell", changed=0 if not force else 1,
                      marker='"nav-bell-count"')


class StationHead(StaffUser):
    """The dispatch board: 3 s polls with what it holds, an order now and then, new repairs."""

    role = "head"
    weight = 3
    wait_time = constant_pacing(3)

    def on_start(self) -> None:
        super().on_start()
        self.known: dict[str, str] = {}
        self.features: set[str] = set()
        self.next_order = time.monotonic() + random.uniform(10, 40)
        self.next_repair = time.monotonic() + random.uniform(20, 90)
        content = self.open_page("/dispatch")
        texts = find_props(content, "board-texts")
        self.dash(find_dep("board-territories", "data"), [texts.get("data") if texts else None],
                  None, "head: territories", marker='"board-territories"')
        self.poll()

    def poll(self) -> None:
        r = self.dash(find_dep("board-delta", "data"), [int(time.time() * 1000)], [self.known],
                      "head: dispatch poll", marker='"board-delta"')
        if r.status_code == 200:
            delta = answer(r, "board-delta").get("data") or {}
            for key in delta.get("remove", []):
                self.known.pop(key, None)
                self.features.discard(key)
            for key, fingerprint in (delta.get("prints") or {}).items():
                self.known[key] = fingerprint
                self.features.add(key)

    @task
    def tick(self) -> None:
        self.poll()
        self.bell()
        now = time.monotonic()
        if now >= self.next_order:
            self.next_order = now + random.uniform(30, 60)
            orders = [k for k in self.features if k.startswith("o")]
            if orders:
                order_id = int(re.sub(r"\D", "", random.choice(orders)) or 0)
                self.dash(find_dep("board-panel", "children"), [{"id": order_id}, None], None,
                          "head: order panel", marker='"board-panel"', ok=(200, 204))
        if now >= self.next_repair:
            self.next_repair = now + random.uniform(60, 120)
            self.new_repair()

    def new_repair(self) -> None:
        """A fault from the hotline at a place in the station's area, a crew sent to it."""
        api = {"X-Requested-With": "station-portal"}
        listing = self.call("GET", "/api/v1/work-orders?kind=repair&per_page=20",
                            "head: api list repairs", marker='"items"')
        items = listing.json().get("items", []) if listing.status_code == 200 else []
        crews = self.call("GET", "/api/v1/crews", "head: api crews", marker='"id"')
        crew_ids = [c["id"] for c in (crews.json().get("items", []) if crews.status_code == 200
                                      else []) if c.get("on_duty")]
        places = [i for i in items if i.get("lat") and i.get("lon")]
        if not places or not crew_ids:
            return
        place = random.choice(places)
        made = self.call("POST", "/api/v1/repairs", "head: api new repair", ok=(201,),
                         marker='"id"', headers=api, json={
                             "source": "hotline_95598", "category": "low_voltage", "urgency": 2,
                             "lat": place["lat"], "lon": place["lon"],
                             "address": (place.get("address") or "load test")[:200],
                             "description": "load test"})
        if made.status_code != 201:
            return
        order = made.json()
        ACKED["repairs"].append(order["id"])
        sent = self.call("POST", f"/api/v1/work-orders/{order['id']}/assignments",
                         "head: api assign crew", ok=(200, 201), marker='"id"', headers=api,
                         json={"crew_id": random.choice(crew_ids), "version": order["version"],
                               "role": "lead"},
                         refused={409: "conflict", 422: "validation_failed"})
        if self.good(sent):
            ACKED["assignments"].append(order["id"])


class CompanyManager(StaffUser):
    """Live dashboards: polls with the page's ``known`` store, a refill now and then."""

    role = "manager"
    weight = 2
    wait_time = constant_pacing(3)
    BOARDS = (("/dashboards/operations", "ops"), ("/dashboards/kpis", "kpi"))

    def on_start(self) -> None:
        super().on_start()
        self.open_board(random.choice(self.BOARDS))

    def open_board(self, board: tuple[str, str]) -> None:
        path, self.key = board
        self.switch_at = time.monotonic() + random.uniform(60, 180)
        self.fill_at = time.monotonic() + random.uniform(20, 60)
        content = self.open_page(path)
        rng = find_props(content, f"dash-{self.key}-range") or {}
        unit = find_props(content, f"dash-{self.key}-unit") or {}
        known = find_props(content, f"dash-{self.key}-known") or {}
        self.filters = [rng.get("start_date"), rng.get("end_date"), unit.get("value")]
        self.known = known.get("data") or {}

    def b(self, part: str) -> str:
        return f"dash-{self.key}-{part}"

    @task
    def tick(self) -> None:
        now = time.monotonic()
        if now >= self.switch_at:
            other = [b for b in self.BOARDS if b[1] != self.key]
            self.open_board(random.choice(other))
            return
        if now >= self.fill_at and self.filters[1]:
            self.fill_at = now + random.uniform(40, 90)
            end = datetime.fromisoformat(str(self.filters[1])[:10]).date()
            start = end - timedelta(days=random.choice((7, 14, 30, 60)))
            self.filters[0] = start.isoformat()
            r = self.dash(find_dep(self.b("known"), "data"), list(self.filters), None,
                          f"manager: fill {self.key}", marker=f'"{self.b("known")}"')
            if r.status_code == 200:
                self.known = answer(r, self.b("known")).get("data") or self.known
            return
        r = self.dash(find_dep(self.b("live"), "children"), [int(time.time() * 1000)],
                      [*self.filters, self.known], f"manager: poll {self.key}",
                      marker=f'"{self.b("live")}"')
        if r.status_code == 200:
            known = answer(r, self.b("known")).get("data")
            if isinstance(known, dict):
                self.known = known
        self.bell()


class Crew(PortalUser):
    """A crew member's phone through the REST API."""

    weight = 4
    wait_time = constant_pacing(10)

    def on_start(self) -> None:
        self.username = random.choice(ACCOUNTS["crew"])
        r = self.call("POST", "/api/v1/tokens", "crew: api token", ok=(201,), marker='"token"',
                      json={"username": self.username, "password": PASSWORD, "name": "load test"})
        token = r.json().get("token") if r.status_code == 201 else None
        self.client.headers["Authorization"] = f"Bearer {token}"
        me = self.call("GET", "/api/v1/me", "crew: api me", marker='"username"')
        self.crew_id = me.json().get("crew_id") if me.status_code == 200 else None
        self.lat, self.lon = 43.85 + random.uniform(0, 0.06), 126.52 + random.uniform(0, 0.1)
        self.jobs_at = 0.0

    @task
    def tick(self) -> None:
        self.lat += random.uniform(-0.001, 0.001)
        self.lon += random.uniform(-0.001, 0.001)
        at = now_iso()
        r = self.call("POST", "/api/v1/crews/me/pings", "crew: api ping", ok=(201,),
                      marker='"', json={"lat": self.lat, "lon": self.lon, "accuracy_m": 8, "at": at})
        if r.status_code == 201:
            ACKED["pings"].append([self.crew_id, at])
        if time.monotonic() - self.jobs_at >= 20:
            self.jobs_at = time.monotonic()
            self.work()

    STEPS = ("accept", "depart", "arrive", "restore")

    def work(self) -> None:
        r = self.call("GET", "/api/v1/crews/me/work-orders", "crew: api my jobs", marker='"')
        if r.status_code != 200:
            return
        jobs = r.json()
        jobs = jobs.get("items", jobs) if isinstance(jobs, dict) else jobs
        if not jobs:
            return
        order_id = jobs[0]["id"]
        detail = self.call("GET", f"/api/v1/work-orders/{order_id}", "crew: api job",
                           marker='"actions"')
        if detail.status_code != 200:
            return
        actions = detail.json().get("actions", [])
        step = next((a for a in self.STEPS if a in actions), None)
        if step is None:
            return
        key = f"load-{uuid.uuid4().hex[:20]}"
        done = self.call("POST", f"/api/v1/work-orders/{order_id}/events", f"crew: api {step}",
                         ok=(200, 201), marker='"order"',
                         json={"action": step, "client_key": key, "at": now_iso()},
                         # another phone of the crew took this step first: the portal
                         # refuses the stale one (409 on a version, 422 on the step)
                         refused={409: "conflict", 422: '"action"'})
        if self.good(done):
            ACKED["steps"].append([order_id, step, key])


class Customer(PortalUser):
    """Follows a demo case like a parcel."""

    weight = 4
    wait_time = between(20, 40)
    cases: list[tuple[str, str]] = []

    def on_start(self) -> None:
        self.case_path: str | None = None
        home = self.call("GET", "/service", "customer: /service", marker="demo-cases")
        if not Customer.cases:
            Customer.cases = DEMO_CASE.findall(home.text)
        self.track()

    def track(self) -> None:
        if not Customer.cases:
            return
        self.number, code = random.choice(Customer.cases)
        r = self.call("GET", f"/service/track?n={self.number}&c={code}", "customer: track",
                      ok=(302,))
        # Not tracked (an outage): the next refresh tracks again, as a customer would.
        self.case_path = r.headers.get("Location") if r.status_code == 302 else None
        if self.case_path:
            self.case()

    def case(self) -> None:
        if self.case_path is None:
            self.track()
            return
        self.call("GET", self.case_path, "customer: case page", marker=self.number)

    @task(6)
    def refresh(self) -> None:
        self.case()

    @task(1)
    def again(self) -> None:
        self.client.cookies.clear()
        self.track()


class Kiosk(PortalUser):
    """A hall's ticket kiosk: its page, a ticket now and then, the slip."""

    weight = 1
    wait_time = constant_pacing(15)

    def on_start(self) -> None:
        self.hall = random.choice(HALLS or ["JL-A01"])
        self.page()

    def page(self) -> Any:
        return self.call("GET", f"/kiosk/{self.hall}", "kiosk: page", marker=self.hall)

    @task
    def tick(self) -> None:
        page = self.page()
        if random.random() > 0.25 or page.status_code != 200:
            return
        token = CSRF.search(page.text)
        businesses = re.findall(r'name="business" value="([^"]+)"', page.text)
        if not token or not businesses:
            return
        r = self.call("POST", f"/kiosk/{self.hall}/ticket", "kiosk: take ticket", ok=(302,),
                      data={"csrf": token.group(1), "business": random.choice(businesses)},
                      refused={429: "95598"})  # the hall's daily cap (services.hall): by design
        if self.good(r):
            slip = self.call("GET", f"/kiosk/{self.hall}/slip", "kiosk: slip", marker=self.hall)
            ACKED["tickets"].append(self.hall)
            del slip


USER_CLASSES = (StationHead, CompanyManager, Crew, Customer, Kiosk)


def dump_acked(path: str) -> None:
    with open(path, "w") as out:
        json.dump({"acked": ACKED, "refused": REFUSED}, out)
