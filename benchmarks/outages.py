"""Time deriving the customers of an outage at a million customers.

    python benchmarks/outages.py [--customers 1000000] [--areas 10000] [--url URL]

Builds a scratch database (a SQLite file in a temporary folder, or ``--url``: a
PostgreSQL database that is emptied first) at the current schema, with one station,
its feeders, ``--areas`` transformer areas and ``--customers`` customers spread over them
(70 % with a mobile number, like the demo), then times what the portal does with an
outage: count its customers (the figure on the outages page), announce it through
``services.outages`` (count, and one notice per customer with a contact, in one
transaction), the public lookup by account number, and the covering outage of an area
(what a new repair asks). Medians of ``--repeat`` runs, in milliseconds.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np
from sqlalchemy import delete, insert, select, text

from station_portal import migrate
from station_portal.db import Database, utcnow
from station_portal.network.models import (
    ConnectionPoint,
    Feeder,
    Outage,
    OutageNotice,
    TransformerArea,
)
from station_portal.network.outages import affected_count, covering_outage, public_outages
from station_portal.org.models import Unit
from station_portal.services import outages as service


def build(db: Database, customers: int, areas: int) -> None:
    rng = np.random.default_rng(7)
    with db.write() as s:
        unit = Unit(code="B-S", kind="service_station", name_zh="基准站", name_en="Bench station",
                    path="/")
        s.add(unit)
        s.flush()
        unit.path = f"/{unit.id}/"
        feeders = [Feeder(code=f"B-F{i}", name_zh=f"基准{i}号线", name_en=f"Bench line {i}",
                          unit_id=unit.id, capacity_kva=8000.0) for i in range(100)]
        s.add_all(feeders)
        s.flush()
        s.execute(insert(TransformerArea), [
            {"code": f"B-TA-{i:06d}", "name": f"基准{i}号台区", "capacity_kva": 400.0,
             "feeder_id": feeders[i % 100].id, "unit_id": unit.id,
             "lat": 43.8 + (i % 100) * 0.001, "lon": 126.5 + (i // 100) * 0.001, "active": True}
            for i in range(areas)])
    with db.write() as s:
        first = s.scalar(select(TransformerArea.id).order_by(TransformerArea.id))
    area_of = rng.integers(0, areas, size=customers) + first
    phones = rng.random(customers) < 0.7
    started = time.perf_counter()
    for lo in range(0, customers, 50_000):
        with db.write() as s:
            s.execute(insert(ConnectionPoint), [
                {"account_no": str(3_000_000_000 + i), "area_id": int(area_of[i]),
                 "name": "客户", "address": "", "category": "resident", "contract_kw": 6.0,
                 "important": False, "phone": "13900000000" if phones[i] else None,
                 "email": None}
                for i in range(lo, min(customers, lo + 50_000))])
    with db.write() as s:
        s.execute(text("ANALYZE"))
    print(f"built {customers:,} customers on {areas:,} areas in "
          f"{time.perf_counter() - started:.0f} s")


def timed(fn, repeat: int) -> float:
    runs = []
    for _i in range(repeat):
        started = time.perf_counter()
        fn()
        runs.append((time.perf_counter() - started) * 1000)
    return statistics.median(runs)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=1_000_000)
    parser.add_argument("--areas", type=int, default=10_000)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--url", default="")
    args = parser.parse_args()
    folder = tempfile.mkdtemp(prefix="outage-bench-")
    url = args.url or f"sqlite:///{folder}/bench.db"
    db = Database(url)
    if not db.is_sqlite:
        with db.engine.begin() as conn:
            conn.execute(text("DROP SCHEMA public CASCADE; CREATE SCHEMA public"))
    migrate.upgrade(db)
    build(db, args.customers, args.areas)
    with db.read() as s:
        area_ids = list(s.scalars(select(TransformerArea.id).order_by(TransformerArea.id)))
    now = utcnow()
    print(f"{'engine':8} {'areas cut':>9} {'customers':>10} {'count ms':>9} {'announce ms':>12} "
          f"{'notices':>8}")
    for n in (1, 10, 100, service.MAX_AREAS):
        chosen = area_ids[:: max(1, len(area_ids) // n)][:n]
        with db.read() as s:
            customers = affected_count(s, chosen)
            count_ms = timed(lambda s=s, chosen=chosen: affected_count(s, chosen), args.repeat)
        runs = []
        notices = 0
        for _i in range(args.repeat):
            with db.write() as s:
                outage = service.create_outage(s, None, service.OutageInput(
                    kind="planned", reason="基准", starts_at=now + timedelta(days=9),
                    ends_at=now + timedelta(days=9, hours=6), area_ids=chosen), now=now)
                service.outage_step(s, None, outage.id, None, "approve", now=now)
                started = time.perf_counter()
                service.outage_step(s, None, outage.id, None, "announce", now=now)
                s.flush()
                runs.append((time.perf_counter() - started) * 1000)
                notices = s.scalar(select(text("count(*)")).select_from(OutageNotice)
                                   .where(OutageNotice.outage_id == outage.id))
            with db.write() as s:  # keep one announced outage per size for the lookups
                if _i < args.repeat - 1:
                    s.execute(delete(OutageNotice).where(OutageNotice.outage_id == outage.id))
                    s.execute(delete(Outage).where(Outage.id == outage.id))
        print(f"{db.engine.dialect.name:8} {n:>9,} {customers:>10,} {count_ms:>9.1f} "
              f"{statistics.median(runs):>12.1f} {notices:>8,}")
    with db.read() as s:  # a customer on the last outage announced
        area = chosen[0]
        account = s.scalar(select(ConnectionPoint.account_no)
                           .where(ConnectionPoint.area_id == area).limit(1))

        def lookup(s=s):
            found = s.scalar(select(ConnectionPoint.area_id)
                             .where(ConnectionPoint.account_no == account))
            return public_outages(s, now + timedelta(days=8), area_ids=[found])

        print(f"public lookup by account number: {timed(lookup, args.repeat * 4):.1f} ms "
              f"({len(lookup())} outages found)")
        inside = now + timedelta(days=9, hours=1)
        covering = timed(lambda: covering_outage(s, area, inside), args.repeat * 4)
        print(f"covering outage of an area (a new repair): {covering:.1f} ms")
    db.dispose()


if __name__ == "__main__":
    main()
