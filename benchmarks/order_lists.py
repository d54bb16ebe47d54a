"""Time the work-order list (server-side sort, filter, page) on a seeded database.

    station-portal seed-demo --orders 1000000        # into DATABASE_URL, once
    python benchmarks/order_lists.py [--repeat 20]    # reads DATABASE_URL

Calls the list callback through the whole Flask stack, signed in as the
company manager (every order) and a station head (one station), as the
browser's grid asks: first page, sorted, filtered, and a deep page.
"""

from __future__ import annotations

import argparse

from _harness import signed_in, time_callback
from sqlalchemy import func, select

from station_portal import create_app
from station_portal.config import Config
from station_portal.web.context import EXTENSION
from station_portal.workorders.models import WorkOrder
from tests.dash_calls import body_for, callback_id_for

REQUESTS = {
    "first page": {"startRow": 0, "endRow": 50},
    "sorted by due time": {"startRow": 0, "endRow": 50,
                           "sortModel": [{"colId": "due_at", "sort": "asc"}]},
    "filtered: overdue": {"startRow": 0, "endRow": 50, "filterModel": {
        "sla": {"filterType": "text", "type": "equals", "filter": "overdue"}}},
    "filtered: address text": {"startRow": 0, "endRow": 50, "filterModel": {
        "address": {"filterType": "text", "type": "contains", "filter": "解放路1"}}},
    "page 200 (rows 10,000+)": {"startRow": 10_000, "endRow": 10_050},
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=20)
    args = parser.parse_args()
    config = Config.from_env({"secret_key": "b" * 40})
    app = create_app(config)
    with app.extensions[EXTENSION].db.read() as session:
        total = session.scalar(select(func.count()).select_from(WorkOrder))
    print(f"{total:,} work orders in {config.database_url.split(':')[0]}")
    print(f"{'account':<8} {'list':<12} {'request':<26} {'median ms':>10} {'p95 ms':>8}")
    key = callback_id_for(app, "orders-grid", "getRowsResponse")
    for username in ("manager", "head"):
        client = signed_in(app, username)
        for kind in ("repair", "application"):
            for label, request in REQUESTS.items():
                body = body_for(app, key, [request], [kind])
                median, p95 = time_callback(client, body, args.repeat)
                print(f"{username:<8} {kind:<12} {label:<26} {median:>10.1f} {p95:>8.1f}")


if __name__ == "__main__":
    main()
