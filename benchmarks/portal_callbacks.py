"""Time the portal's page callbacks server-side, per role, on SQLite and PostgreSQL.

    python benchmarks/portal_callbacks.py [--repeat 30] [--postgres URL]

Seeds the demo city into a fresh database, signs in as each demo account and
calls each callback through the real Flask stack (guard, session, Dash
dispatch), as a browser would. Prints the median and 95th percentile in ms.
"""

from __future__ import annotations

import argparse
import re
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from station_portal import create_app, migrate
from station_portal.db import Database
from station_portal.demo.city import build_demo_city
from tests.dash_calls import DASH_UPDATE, body_for, callback_id_for

CASES = {  # role → [(label, output id, property, input values, state values)]
    "head": [("home", "home-content", "children", ["station_head"], None),
             ("org: own station", "org-tree", "children", ["?unit=3"], None)],
    "gridmgr": [("home", "home-content", "children", ["grid_manager"], None),
                ("org: supply office", "org-tree", "children", [""], None)],
    "manager": [("home", "home-content", "children", ["company_manager"], None),
                ("org: whole company", "org-tree", "children", [""], None)],
    "admin": [("home", "home-content", "children", ["admin"], None),
              ("users list", "users-table", "rowData", [None, None, 0], None),
              ("security log", "audit-table", "rowData", [None, None, None, None], None)],
    "crew": [("home", "home-content", "children", ["crew"], None)],
}


def seeded(url: str) -> Database:
    db = Database(url)
    migrate.upgrade(db)
    with db.write() as session:
        build_demo_city(session, seed=7)
    return db


def run(url: str, repeat: int) -> list[tuple[str, str, float, float]]:
    db = seeded(url)
    app = create_app({"database_url": db.url, "secret_key": "b" * 40, "env": "demo"})
    rows = []
    for username, cases in CASES.items():
        client = app.test_client()
        page = client.get("/login")
        csrf = re.search(r'name="csrf" value="([^"]+)"', page.text).group(1)
        client.post("/login", data={"username": username, "password": "portal-demo", "csrf": csrf})
        for label, output, prop, values, state in cases:
            body = body_for(app, callback_id_for(app, output, prop), values, state)
            timings = []
            for _i in range(repeat + 3):
                started = time.perf_counter()
                response = client.post(DASH_UPDATE, json=body)
                timings.append((time.perf_counter() - started) * 1000)
                assert response.status_code == 200, (label, response.status_code)
            timings = sorted(timings[3:])  # first calls warm caches
            p95 = timings[min(len(timings) - 1, int(len(timings) * 0.95))]
            rows.append((username, label, statistics.median(timings), p95))
    db.dispose()
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=30)
    parser.add_argument("--postgres", help="PostgreSQL URL (a scratch database: it is reset)")
    args = parser.parse_args()
    targets = [("sqlite", f"sqlite:///{tempfile.mkdtemp()}/bench.sqlite3")]
    if args.postgres:
        from sqlalchemy import text

        scratch = Database(args.postgres)
        with scratch.engine.begin() as conn:
            conn.execute(text("DROP SCHEMA IF EXISTS public CASCADE"))
            conn.execute(text("CREATE SCHEMA public"))
        scratch.dispose()
        targets.append(("postgresql", args.postgres))
    print(f"{'engine':<11} {'account':<8} {'callback':<20} {'median ms':>10} {'p95 ms':>8}")
    for engine, url in targets:
        for username, label, median, p95 in run(url, args.repeat):
            print(f"{engine:<11} {username:<8} {label:<20} {median:>10.1f} {p95:>8.1f}")


if __name__ == "__main__":
    main()
