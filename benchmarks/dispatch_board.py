"""Time the dispatch board's callbacks in a storm: many open repairs in one station.

    python benchmarks/dispatch_board.py [--repairs 300] [--repeat 20] [--postgres URL]

Seeds the demo city into a fresh database, reports ``--repairs`` faults spread
over the Changyi station's territory (the demo station head's), signs in as
``head`` and calls each board callback through the real Flask stack, as the
browser does. Prints the median and 95th percentile in ms and the size of
each answer (what goes over the wire every few seconds).
"""

from __future__ import annotations

import argparse
import random
import tempfile

from _harness import signed_in, time_callback
from shapely.geometry import Point, shape
from sqlalchemy import select

from station_portal import create_app, migrate
from station_portal.db import Database
from station_portal.demo.city import build_demo_city
from station_portal.org.models import Unit
from station_portal.services import repairs as repair_service
from tests.dash_calls import DASH_UPDATE, body_for, callback_id_for, dash_app_of

CATEGORIES = ["low_voltage"] * 6 + ["metering", "power_quality", "customer_internal", "non_power"]


def seeded(url: str, repairs: int) -> Database:
    db = Database(url)
    migrate.upgrade(db)
    rng = random.Random(5)
    with db.write() as session:
        build_demo_city(session, seed=7)
    with db.write() as session:
        station = session.scalar(select(Unit).where(Unit.code == "JL-CY-S"))
        area = shape(station.territory)
        west, south, east, north = area.bounds
        made = 0
        while made < repairs:
            lon, lat = rng.uniform(west, east), rng.uniform(south, north)
            if not area.contains(Point(lon, lat)):
                continue
            repair_service.create_repair(session, None, repair_service.RepairInput(
                source="hotline_95598", category=rng.choice(CATEGORIES), urgency=rng.choice([1, 2, 2, 3]),
                lat=lat, lon=lon, address=f"Storm street {made}"))
            made += 1
    return db


def _apply_key(app) -> str:
    return next(k for k, v in dash_app_of(app).callback_map.items()
                if [i["id"] for i in v["inputs"]] == ["board-proposal-apply"])


def run(url: str, repairs: int, repeat: int) -> list[tuple[str, float, float, int]]:
    db = seeded(url, repairs)
    app = create_app({"database_url": db.url, "secret_key": "b" * 40, "env": "demo"})
    client = signed_in(app, "head")
    rows = []

    def timed(label: str, body: dict, times: int = repeat) -> dict:
        median, p95 = time_callback(client, body, times)
        answer = client.post(DASH_UPDATE, json=body)
        rows.append((label, median, p95, len(answer.data)))
        return answer.json

    poll = callback_id_for(app, "board-delta", "data")
    first = timed("poll: first picture (all features)", body_for(app, poll, [1], [{}]))
    delta = first["response"]["board-delta"]["data"]
    known = delta["prints"]
    timed("poll: nothing changed", body_for(app, poll, [1], [known]))
    some = dict(list(known.items())[5:])  # the browser lacks five features
    timed("poll: five features changed", body_for(app, poll, [1], [some]))
    order_id = delta["upsert"][0]["properties"]["id"]
    panel = callback_id_for(app, "board-panel", "children")
    timed("selected order: ranked suggestions", body_for(app, panel, [{"id": order_id}, "x"]))
    propose = callback_id_for(app, "board-proposal-body", "children")
    timed("dispatch all: proposal", body_for(app, propose, [1]), max(3, repeat // 4))
    db.dispose()
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repairs", type=int, default=300)
    parser.add_argument("--repeat", type=int, default=20)
    parser.add_argument("--postgres", help="a PostgreSQL URL (an empty database) to time as well")
    args = parser.parse_args()
    targets = []
    with tempfile.TemporaryDirectory() as tmp:
        targets.append(("sqlite", f"sqlite:///{tmp}/board.sqlite3"))
        if args.postgres:
            targets.append(("postgresql", args.postgres))
        for engine, url in targets:
            print(f"\n{engine}: {args.repairs} open repairs in one station, 9 crews, "
                  f"median of {args.repeat}")
            print(f"{'callback':<40} {'median ms':>10} {'p95 ms':>8} {'answer bytes':>13}")
            for label, median, p95, size in run(url, args.repairs, args.repeat):
                print(f"{label:<40} {median:>10.1f} {p95:>8.1f} {size:>13,}")



if __name__ == "__main__":
    main()
