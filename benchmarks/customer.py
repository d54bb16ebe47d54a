"""Customer self-service at 10k and 100k work orders: applying online, tracking a case
(service and the whole page over HTTP), and the KPI board's customers' view.

    python benchmarks/customer.py --sizes 10000 100000 --engines sqlite postgresql [--reuse]

Seeds (or reuses, with ``--reuse``) the databases of ``benchmarks/dashboards.py``. The
online applications are made inside transactions that are rolled back (their files are
removed), so the database stays as seeded; one tracked case is committed per run.
"""

from __future__ import annotations

import argparse
import re
import statistics
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from dashboards import database_url, seed, seeded_count

from station_portal.db import Database, utcnow

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n" + b"0" * 200_000  # a 200 kB scan
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 300_000


def timed(fn, repeat: int) -> float:
    timings = []
    for _ in range(repeat):
        started = time.perf_counter()
        fn()
        timings.append((time.perf_counter() - started) * 1000)
    return statistics.median(timings)


def form(session):
    from sqlalchemy import select

    from station_portal.org.models import Unit
    from station_portal.services import customer

    unit = session.scalar(select(Unit).where(Unit.code == "JL-CY-S"))
    return customer.OnlineApplication(
        business_type="new_connection", customer_type="resident", load_kw="8", small_firm=False,
        customer_name="王丽", customer_phone="13800001111", address="吉林市船营区解放路 12 号",
        lat=unit.lat, lon=unit.lon, accept_terms=True)


def measure(url: str, repeat: int, upload_dir: Path) -> dict[str, float]:
    from station_portal import create_app
    from station_portal.analytics.customers import satisfaction
    from station_portal.analytics.dashboards import Filters, Names
    from station_portal.customer.tracking import case_view
    from station_portal.services import attachments, customer
    from station_portal.timefmt import local

    db = Database(url)
    uploads = [customer.Upload("identity", "id.pdf", PDF), customer.Upload("property", "d.png", PNG)]
    out: dict[str, float] = {}

    def apply_once() -> None:
        with db.write() as session:
            made = customer.submit_application(session, form(session), uploads,
                                               upload_dir=upload_dir)
            for path in made.files:
                attachments.discard(path)
            session.rollback()

    out["apply"] = timed(apply_once, repeat)
    with db.write() as session:
        made = customer.submit_application(session, form(session), uploads, upload_dir=upload_dir)
        number, code = made.order.code, made.code

    def track_once() -> None:
        with db.read() as session:
            order = customer.find_case(session, number, code)
            case_view(session, order, utcnow())

    out["track"] = timed(track_once, repeat)
    app = create_app({"database_url": url, "secret_key": "b" * 40, "env": "demo",
                      "upload_dir": str(upload_dir)})
    client = app.test_client()
    page = client.get("/service/track")
    token = re.search(r'name="csrf" value="([^"]+)"', page.text)[1]
    assert client.post("/service/track", data={"n": number, "c": code, "csrf": token}).status_code == 302
    out["case page"] = timed(lambda: client.get(f"/service/case/{number}"), repeat)
    today = local(utcnow()).date()
    with db.read() as session:
        names = Names.load(session)
        for days in (30, 365):
            filters = Filters(today - timedelta(days=days - 1), today, None)
            out[f"kpi {days} d"] = timed(lambda f=filters: satisfaction(session, f, names, "en"),
                                         repeat)
    db.dispose()
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000])
    parser.add_argument("--engines", nargs="+", default=["sqlite", "postgresql"])
    parser.add_argument("--repeat", type=int, default=15)
    parser.add_argument("--reuse", action="store_true", help="keep databases already seeded")
    parser.add_argument("--postgres", default="postgresql+psycopg://postgres@127.0.0.1:5432/postgres")
    parser.add_argument("--sqlite-dir", default=tempfile.gettempdir())
    args = parser.parse_args()
    upload_dir = Path(tempfile.mkdtemp(prefix="portal-bench-uploads-"))
    columns = ["apply", "track", "case page", "kpi 30 d", "kpi 365 d"]
    print(f"{'orders':>9}  {'engine':<10}" + "".join(f"{c:>11}" for c in columns))
    for n in args.sizes:
        for engine in args.engines:
            url = database_url(engine, n, args)
            if seeded_count(url) is None or not args.reuse:
                seed(url, n)
            else:
                from station_portal import migrate

                migrate.upgrade(Database(url))
            figures = measure(url, args.repeat, upload_dir)
            print(f"{n:>9,}  {engine:<10}" + "".join(f"{figures[c]:>11.1f}" for c in columns),
                  flush=True)


if __name__ == "__main__":
    main()
