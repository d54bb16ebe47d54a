"""Abuse runs against the production topology (scripts/topology), over HTTPS through nginx.

    scripts/topology --run-dir RUN up ...        # first: the topology (production mode)
    python benchmarks/abuse.py --run-dir RUN [--json out.json]

Each attack of issue 15 is played by clients on many networks at once: every client binds
its own source address in 127.0.0.0/8 (the whole block is this machine's loopback), so
nginx sees, and passes on in X-Forwarded-For, a different address per client, and the
portal counts per network (IPv4 /24) as it would for clients on the Internet. nginx's own
``limit_req`` (per address) stands in front, as in production.

1. Sign-in, one network: 50 wrong passwords for an administrator from 50 addresses of
   127.0.10.0/24, then the owner from 127.0.20.5 (form) and 127.0.20.6 (API token).
2. Sign-in, many networks: one wrong password from each of 30 networks, then the owner
   from a network of their own.
3. Case tracking: one wrong code from each of 40 networks for one case, then the customer;
   eight wrong codes from one network, then the right code from that network (held) and
   from the next one (in).
4. Customer documents: eight posts of 9 MB to one case (the quota is 60 MB), and how
   often the case's holders are told of them.
5. Kiosks: 60 ticket requests from 30 addresses outside the halls' networks, then 240
   from 30 addresses inside (127.0.77.0/24) to one level-D hall (200 tickets a day).

The accounts, the case and the hall are made first in the topology's database, through
the services, over the direct connection (DEPLOY_MIGRATE_DATABASE_URL), with names of this
run. Prints a table of what each attack got and what the owner got; exits 1 if an owner
was kept out or a cap did not hold. tests/process/test_topology.py runs it (slow).
"""

from __future__ import annotations

import argparse
import collections
import json
import re
import secrets
import sys
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import time as clock
from pathlib import Path
from typing import Any

import requests
from requests.adapters import HTTPAdapter

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from benchmarks.load import read_env  # noqa: E402  (the topology's portal.env)

MB = 1024 * 1024
PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
KIOSK_LAN = "127.0.77"  # inside scripts/topology's PORTAL_KIOSK_NETWORKS (127.0.0.0/9)
OUTSIDE = "127.200.5"  # outside it


class _FromAddress(HTTPAdapter):
    def __init__(self, address: str) -> None:
        self.address = address
        super().__init__()

    def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
        kwargs["source_address"] = (self.address, 0)
        super().init_poolmanager(*args, **kwargs)


class Edge:
    """HTTPS to nginx, trusting the run's demo certificate only."""

    def __init__(self, run: Path, https_port: int) -> None:
        self.base = f"https://127.0.0.1:{https_port}"
        self.cert = str(run / "tls" / "demo.crt")

    def client(self, address: str) -> requests.Session:
        """A browser on ``address`` (its own cookies)."""
        session = requests.Session()
        session.trust_env = False
        session.verify = self.cert
        session.mount("https://", _FromAddress(address))
        return session


def csrf_of(html: str) -> str:
    found = re.search(r'name="csrf" value="([^"]+)"', html)
    return found.group(1) if found else ""


# -- what the run needs in the database -------------------------------------------------------

def prepare(env: dict[str, str], tag: str) -> dict[str, Any]:
    """An administrator, the head of the case's station (who hears of its documents), an
    open application the customer tracks, and a level-D hall open all day."""
    from sqlalchemy import select

    from station_portal.db import Database
    from station_portal.hall.models import ServiceHall
    from station_portal.org.models import Unit
    from station_portal.services import applications, customer
    from station_portal.services.users import UserInput, create_user

    password = secrets.token_urlsafe(18)
    database = Database(env["DEPLOY_MIGRATE_DATABASE_URL"])
    try:
        with database.write() as s:
            station = s.scalar(select(Unit).where(Unit.code == "JL-CY-S"))
            admin = f"abuse-admin-{tag}"
            create_user(s, None, username=admin, password=password,
                        data=UserInput(display_name=admin, role="admin"),
                        allow_demo_password=False)
            create_user(s, None, username=f"abuse-head-{tag}", password=password,
                        data=UserInput(display_name="abuse head", role="station_head",
                                       scope_unit_id=station.id), allow_demo_password=False)
            order = applications.create_application(s, None, applications.ApplicationInput(
                business_type="new_connection", customer_type="resident", load_kw=8,
                customer_name="王丽", lat=station.lat, lon=station.lon,
                address="吉林市船营区解放路 12 号"))
            code = customer.grant_access(s, order, channel="online")
            hall_unit = s.scalar(select(Unit).where(Unit.code == "JL-CH-S"))
            hall = ServiceHall(code=f"AB{tag}"[:12].upper(), name_zh="压测营业厅",
                               name_en="Abuse-run hall", level="D", unit_id=hall_unit.id,
                               address="测试路10号", lat=hall_unit.lat, lon=hall_unit.lon,
                               counters=1, counter_groups=None, opens_at=clock(0, 0),
                               closes_at=clock(23, 59, 59), open_days="1111111",
                               open_on_holidays=True, active=True)
            s.add(hall)
            s.flush()
            return {"admin": admin, "password": password, "order_id": order.id,
                    "number": order.code, "code": code, "hall": hall.code}
    finally:
        database.dispose()


def stored(env: dict[str, str], order_id: int) -> dict[str, int]:
    """The documents on the case (files, bytes) and its holders' notifications of them."""
    from sqlalchemy import func, select

    from station_portal.db import Database
    from station_portal.notify.models import Notification
    from station_portal.workorders.models import Attachment

    database = Database(env["DEPLOY_MIGRATE_DATABASE_URL"])
    try:
        with database.read() as s:
            files, size = s.execute(select(func.count(), func.coalesce(func.sum(Attachment.size), 0))
                                    .where(Attachment.work_order_id == order_id)).one()
            told = s.scalar(select(func.count()).select_from(Notification).where(
                Notification.work_order_id == order_id,
                Notification.event == "customer_update"))
        return {"documents": files, "bytes": int(size), "notifications": told}
    finally:
        database.dispose()


# -- the attacks ------------------------------------------------------------------------------

def sign_in(edge: Edge, address: str, username: str, password: str) -> int:
    browser = edge.client(address)
    form = browser.get(f"{edge.base}/login", timeout=30)
    if form.status_code != 200:
        return form.status_code
    return browser.post(f"{edge.base}/login", allow_redirects=False, timeout=30, data={
        "username": username, "password": password, "csrf": csrf_of(form.text)}).status_code


def token(edge: Edge, address: str, username: str, password: str) -> int:
    return edge.client(address).post(f"{edge.base}/api/v1/tokens", timeout=30, json={
        "username": username, "password": password}).status_code


def track(edge: Edge, address: str, number: str, code: str) -> tuple[int, requests.Session]:
    browser = edge.client(address)
    page = browser.get(f"{edge.base}/service/track", timeout=30)
    answer = browser.post(f"{edge.base}/service/track", allow_redirects=False, timeout=30,
                          data={"n": number, "c": code, "csrf": csrf_of(page.text)})
    return answer.status_code, browser


def ticket(edge: Edge, address: str, hall: str) -> int:
    browser = edge.client(address)
    page = browser.get(f"{edge.base}/kiosk/{hall}?lang=en", timeout=30)
    if page.status_code != 200:
        return page.status_code
    return browser.post(f"{edge.base}/kiosk/{hall}/ticket", allow_redirects=False, timeout=30,
                        data={"csrf": csrf_of(page.text), "business": "payment"}).status_code


def tally(codes: list[int]) -> str:
    return ", ".join(f"{n} × {code}" for code, n in sorted(collections.Counter(codes).items()))


def in_parallel(calls: list[Callable[[], int]], workers: int = 8) -> list[int]:
    with ThreadPoolExecutor(workers) as pool:
        return list(pool.map(lambda call: call(), calls))


def run(run_dir: Path, https_port: int | None = None) -> list[dict[str, Any]]:
    env = read_env(run_dir)
    port = https_port or int(json.loads((run_dir / "topology.json").read_text())
                             ["settings"]["https_port"])
    edge = Edge(run_dir, port)
    tag = secrets.token_hex(3)
    made = prepare(env, tag)
    admin, password = made["admin"], made["password"]
    rows: list[dict[str, Any]] = []

    def row(attack: str, attacker: list[int], owner: str, ok: bool, **extra: Any) -> None:
        rows.append({"attack": attack, "attacker": tally(attacker), "owner": owner, "ok": ok,
                     **extra})

    # 1. One network, many addresses, one account.
    wrong = in_parallel([lambda i=i: sign_in(edge, f"127.0.10.{i + 1}", admin, "not the password")
                         for i in range(50)])
    form = sign_in(edge, "127.0.20.5", admin, password)
    api = token(edge, "127.0.20.6", admin, password)
    row("50 wrong passwords for an admin from one /24 (50 addresses)", wrong,
        f"form {form}, API token {api}", form == 302 and api == 201)

    # 2. Many networks, one try each.
    wrong = in_parallel([lambda i=i: sign_in(edge, f"127.0.{30 + i}.1", admin, "not the password")
                         for i in range(30)])
    form = sign_in(edge, "127.0.99.5", admin, password)
    row("30 more networks, one wrong password each", wrong, f"form {form}", form == 302)

    # 3. Case tracking.
    number, code = made["number"], made["code"]
    wrong = in_parallel([lambda n=n: track(edge, f"127.0.{120 + n}.1", number, "AAAA-AAAA")[0]
                         for n in range(40)])
    right, customer = track(edge, "127.0.200.5", number, code)
    row("40 networks, one wrong code each, for one case", wrong, f"customer {right}",
        right == 302)
    guesses = [track(edge, f"127.0.201.{i + 1}", number, f"AAAA-AAA{i}")[0] for i in range(8)]
    held = track(edge, "127.0.201.99", number, code)[0]
    elsewhere = track(edge, "127.0.202.1", number, code)[0]
    row("8 wrong codes for one case from one network", guesses,
        f"right code from that network {held}, from the next {elsewhere}",
        held == 429 and elsewhere == 302)

    # 4. Documents: 8 posts of 9 MB to the case, as its customer (files up to 10 MB each,
    # 60 MB a case: data/application_documents.toml).
    answers, told, started = [], [], time.monotonic()
    for n in range(8):
        page = customer.get(f"{edge.base}/service/case/{number}", timeout=30)
        version = re.search(r'name="version" value="(\d+)"', page.text)
        body = PDF + f"%{n}\n".encode()
        answers.append(customer.post(
            f"{edge.base}/service/case/{number}/documents", allow_redirects=False, timeout=120,
            data={"csrf": csrf_of(page.text), "version": version.group(1) if version else ""},
            files={"doc_other": (f"{n}.pdf", body + b"0" * (9 * MB - len(body)),
                                 "application/pdf")}).status_code)
        if n == 0:
            told.append(stored(env, made["order_id"])["notifications"])
    seconds = time.monotonic() - started
    kept = stored(env, made["order_id"])
    row("8 posts of 9 MB to one case (60 MB a case)", answers,
        f"{kept['bytes'] / MB:.0f} MB in {kept['documents']} files stored; its holders were "
        f"told {kept['notifications']} time(s), as after the first post ({told[0]})",
        kept["bytes"] <= 60 * MB and kept["documents"] == answers.count(302) > 0
        and 422 in answers and kept["notifications"] == told[0] >= 1,
        seconds=round(seconds, 1))

    # 5. Kiosks.
    hall = made["hall"]
    outside = in_parallel([lambda i=i: ticket(edge, f"{OUTSIDE}.{i % 30 + 1}", hall)
                           for i in range(60)])
    inside = in_parallel([lambda i=i: ticket(edge, f"{KIOSK_LAN}.{i % 30 + 1}", hall)
                          for i in range(240)])
    given = inside.count(302)
    row("60 ticket requests from 30 addresses outside the halls' networks", outside,
        "no ticket" if 302 not in outside else f"{outside.count(302)} tickets", 302 not in outside)
    row("240 ticket requests from the halls' network to a level-D hall (200 a day)", inside,
        f"{given} tickets", given == 200 and 429 in inside)
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--run-dir", type=Path, default=ROOT / "instance" / "topology")
    parser.add_argument("--json", type=Path, help="write the rows here too")
    args = parser.parse_args(argv)
    started = time.monotonic()
    rows = run(args.run_dir.resolve())
    width = max(len(r["attack"]) for r in rows)
    for r in rows:
        print(f"{'ok ' if r['ok'] else 'BAD'} {r['attack']:<{width}}  attacker: {r['attacker']}"
              f"  |  owner: {r['owner']}")
    print(f"abuse run: {time.monotonic() - started:.0f} s")
    if args.json:
        args.json.write_text(json.dumps(rows, indent=1, ensure_ascii=False))
    return 0 if all(r["ok"] for r in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
