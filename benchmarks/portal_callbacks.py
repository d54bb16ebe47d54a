"""Time the portal's page callbacks server-side, per role, on SQLite and PostgreSQL.

    python benchmarks/portal_callbacks.py [--repeat 30] [--postgres URL]

Seeds the demo city into a fresh database, signs in as each demo account and
calls each callback through the real Flask stack (guard, session, Dash
dispatch), as a browser would. Prints the median and 95th percentile in ms.
"""

from __future__ import annotations

import argparse
import tempfile

from _harness import signed_in, time_callback

from station_portal import create_app, migrate
from station_portal.db import Database
from station_portal.demo.city import build_demo_city
from tests.dash_calls import body_for, callback_id_for

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
        client = signed_in(app, username)
        for label, output, prop, values, state in cases:
            body = body_for(app, callback_id_for(app, output, prop), values, state)
            median, p95 = time_callback(client, body, repeat)
            rows.append((username, label, median, p95))
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
