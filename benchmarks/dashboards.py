"""Time every dashboard callback at 10k, 100k and 1M work orders, on SQLite and PostgreSQL.

    python benchmarks/dashboards.py [--sizes 10000 100000 1000000] [--engines sqlite postgresql]
                                    [--repeat 15] [--reuse] [--postgres URL] [--sqlite-dir DIR]
    python benchmarks/dashboards.py --map 100000 [--cells]   # the map: build, payload, draw

For each size and engine it seeds the demo city with that many orders (as
``station-portal seed-demo --orders N`` does, snapshots included) into its own
database — ``--reuse`` keeps one that is already seeded — then signs in as
each role and calls its dashboard's callbacks through the whole Flask stack
(guard, session, Dash dispatch), as a browser does:

- fill: the first load / a filter change (every panel computed and sent);
- poll, quiet: the 3-second poll when nothing changed (the fingerprint only);
- poll, changed: the poll right after a change in the board's area (a new repair at the
  head's station, a note on an open order of the others): recompute, patches;
- export: one table to .xlsx.

Prints the median and 95th percentile in ms (server-side).
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path

from _harness import signed_in, time_callback

from station_portal import create_app, migrate
from station_portal.db import Database, utcnow
from station_portal.web.context import EXTENSION
from tests.dash_calls import DASH_UPDATE, body_for, callback_id_for

# role → (board, a panel the fill writes, an Excel table, default days)
ROLES = {
    "head": ("ops", "map", "figure", "risk", 1),
    "gridmgr": ("work", "year", "figure", "units", 28),
    "account": ("clients", "pipeline", "figure", "cases", 60),
    "manager": ("kpi", "compliance", "figure", "league", 30),
}
EXTRA = [("manager", "ops", "map", "figure", "risk", 1),  # the whole company's open work
         ("manager", "work", "year", "figure", "units", 28)]


def seed(url: str, n_orders: int) -> None:
    from sqlalchemy import text

    from station_portal.analytics.snapshots import refresh
    from station_portal.demo.city import build_demo_city
    from station_portal.demo.orders import seed_history

    db = Database(url)
    migrate.upgrade(db)
    started = time.monotonic()
    with db.write() as session:
        build_demo_city(session, seed=7)
    with db.write() as session:
        seed_history(session, n_orders=n_orders, seed=7, commit_batches=True)
    with db.write() as session:
        refresh(session, utcnow(), rebuild=True)
    with db.write() as session:
        session.execute(text("ANALYZE"))
    db.dispose()
    print(f"  seeded {n_orders:,} orders in {time.monotonic() - started:.0f} s", file=sys.stderr)


def seeded_count(url: str) -> int | None:
    from sqlalchemy import func, select

    from station_portal.analytics.models import SnapshotState
    from station_portal.workorders.models import WorkOrder

    try:
        db = Database(url)
        with db.read() as session:
            if session.scalar(select(func.count()).select_from(SnapshotState)) == 0:
                return None
            return session.scalar(select(func.count(WorkOrder.id)))
    except Exception:
        return None
    finally:
        db.dispose()


def database_url(engine: str, n: int, args) -> str:
    if engine == "sqlite":
        return f"sqlite:///{Path(args.sqlite_dir) / f'station-portal-bench-{n}.sqlite3'}"
    import psycopg

    name = f"sp_bench_{n}"
    admin = args.postgres.replace("postgresql+psycopg://", "postgresql://")
    with psycopg.connect(admin, autocommit=True) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone()
        if exists and not args.reuse:
            conn.execute(f'DROP DATABASE "{name}"')
            exists = None
        if not exists:
            conn.execute(f'CREATE DATABASE "{name}"')
    return args.postgres.rsplit("/", 1)[0] + f"/{name}"


def change_in_scope(url: str, username: str) -> None:
    """A change the user's board must show: a new repair at the head's station, else a note
    on the caller's most recently changed open order (a park case for the account manager)."""
    from sqlalchemy import select

    from station_portal.auth.models import User
    from station_portal.auth.scope import scope_for
    from station_portal.org.models import Unit
    from station_portal.services import orders, repairs
    from station_portal.workorders.models import WorkOrder

    db = Database(url)
    with db.write() as s:
        if username == "head":
            station = s.scalar(select(Unit).where(Unit.code == "JL-CY-S"))
            repairs.create_repair(s, None, repairs.RepairInput(
                source="hotline_95598", category="low_voltage", urgency=2,
                lat=station.lat + 0.001, lon=station.lon - 0.002, address="benchmark"))
        else:
            scope = scope_for(s, s.scalar(select(User).where(User.username == username)))
            mine = select(WorkOrder.id).where(WorkOrder.closed_at.is_(None),
                                              scope.unit_filter(WorkOrder.unit_id))
            if username == "account":
                mine = mine.where(scope.client_filter(WorkOrder.client_id))
            order_id = s.scalar(mine.order_by(WorkOrder.updated_at.desc()).limit(1))
            orders.add_note(s, None, order_id, "benchmark")
    db.dispose()


def time_board(app, url: str, user: str, board: str, panel: str, prop: str, table: str,
               days: int, repeat: int) -> list[tuple[str, float, float]]:
    client = signed_in(app, user)
    today = utcnow().date()
    dates = [(today - timedelta(days=days - 1)).isoformat(), today.isoformat(), None]
    fill_body = body_for(app, callback_id_for(app, f"dash-{board}-{panel}", prop), dates)
    rows = [("fill", *time_callback(client, fill_body, repeat))]
    answer = client.post(DASH_UPDATE, json=fill_body).json["response"]
    known = answer[f"dash-{board}-known"]["data"]  # with the fingerprint of what it sent
    poll_key = callback_id_for(app, f"dash-{board}-live", "children")
    quiet = body_for(app, poll_key, [1], [*dates, known])
    rows.append(("poll, quiet", *time_callback(client, quiet, repeat)))
    timings = []
    for _i in range(max(5, repeat // 3)):
        change_in_scope(url, user)
        started = time.perf_counter()
        response = client.post(DASH_UPDATE, json=quiet)
        timings.append((time.perf_counter() - started) * 1000)
        assert response.status_code == 200
    timings.sort()
    rows.append(("poll, changed", statistics.median(timings), timings[-1]))
    export_key = callback_id_for(app, f"dash-{board}-download", "data")
    n_tables = len(app.extensions[EXTENSION].dash.callback_map[export_key]["inputs"])
    index = ROLE_TABLES[board].index(table)
    clicks = [1 if i == index else None for i in range(n_tables)]
    body = body_for(app, export_key, clicks, dates, changed=index)
    rows.append((f"export {table}.xlsx", *time_callback(client, body, max(3, repeat // 3), 1)))
    return rows


ROLE_TABLES = {"ops": ["risk"], "work": ["units", "crews"], "clients": ["visits", "cases"],
               "kpi": ["league", "electricity", "stages"]}


def map_benchmark(points: int, cells: bool) -> None:
    """Build the open-orders map with ``points`` orders (as single markers, or as the cells
    the board draws above MAP_DETAIL orders) and draw it in headless Chromium."""
    import numpy as np
    import pandas as pd
    import plotly
    import plotly.io as pio

    from station_portal.analytics.dashboards import cell_degrees
    from station_portal.i18n import set_locale
    from station_portal.pages.charts import orders_map

    set_locale("zh_CN")
    rng = np.random.default_rng(1)
    frame = pd.DataFrame({
        "kind": rng.choice(["repair", "application", "park_case"], points, p=[.8, .19, .01]),
        "sla": rng.choice(["on_track", "at_risk", "overdue"], points, p=[.8, .1, .1]),
        "lat": 43.5 + rng.random(points) * 0.8, "lon": 126.0 + rng.random(points) * 1.2,
        "code": [f"R2026112700{i:05d}" for i in range(points)],
        "status": rng.choice(["reported", "dispatched", "on_site"], points)})
    frame["n"] = 1
    if cells:  # what the board sends above MAP_DETAIL orders: cells, grouped as its SQL does
        size = cell_degrees(points)
        frame = frame.assign(lat=(frame["lat"] / size).round() * size,
                             lon=(frame["lon"] / size).round() * size)
        frame = frame.groupby(["kind", "sla", "lat", "lon"], as_index=False).agg(n=("n", "sum"))
        frame["code"], frame["status"] = "", ""
    started = time.perf_counter()
    fig = orders_map(frame, "zh_CN", cells=cells)
    payload = pio.to_json(fig, validate=False)
    build_ms = (time.perf_counter() - started) * 1000
    import shutil
    import threading
    from functools import partial
    from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer

    folder = Path(tempfile.mkdtemp())
    shutil.copy(Path(plotly.__file__).parent / "package_data" / "plotly.min.js", folder)
    page = folder / "map.html"
    page.write_text(f"""<html><body><div id="m" style="width:1200px;height:700px"></div>
<script src="plotly.min.js"></script><script>
const fig = {payload};
window.t0 = performance.now();
Plotly.newPlot('m', fig.data, fig.layout).then(() => {{
  window.drawn = performance.now() - window.t0;
  const t1 = performance.now();
  Plotly.relayout('m', {{'map.zoom': fig.layout.map.zoom + 1}}).then(() => {{
    window.zoomed = performance.now() - t1; }});
}});
</script></body></html>""")
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    from tests.browser.conftest import chromium

    # served over HTTP: MapLibre's web worker is refused on file:// pages
    server = ThreadingHTTPServer(("127.0.0.1", 0), partial(
        SimpleHTTPRequestHandler, directory=str(folder)))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    driver = chromium(1280, 800)
    try:
        driver.set_script_timeout(120)
        driver.get(f"http://127.0.0.1:{server.server_port}/map.html")
        deadline = time.time() + 120
        while time.time() < deadline and driver.execute_script("return window.zoomed") is None:
            time.sleep(0.2)
        drawn, zoomed = driver.execute_script("return [window.drawn, window.zoomed]")
    finally:
        driver.quit()
        server.shutdown()
    markers = sum(len(t["lat"]) for t in fig["data"] if t["type"] == "scattermap") - 6
    shown = f"as {markers:,} cells" if cells else "one marker each"
    print(f"map with {points:,} orders ({shown}): built and serialised in {build_ms:.0f} ms, "
          f"{len(payload) / 1e6:.1f} MB JSON; drawn in {drawn:.0f} ms, zoom step redrawn in "
          f"{zoomed:.0f} ms (headless Chromium, software WebGL)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000, 1_000_000])
    parser.add_argument("--engines", nargs="+", default=["sqlite", "postgresql"])
    parser.add_argument("--repeat", type=int, default=15)
    parser.add_argument("--reuse", action="store_true", help="keep databases already seeded")
    parser.add_argument("--postgres", default="postgresql+psycopg://postgres@127.0.0.1:5432/postgres")
    parser.add_argument("--sqlite-dir", default=tempfile.gettempdir())
    parser.add_argument("--map", type=int, metavar="POINTS", help="only the map benchmark")
    parser.add_argument("--cells", action="store_true", help="the map as the board draws it")
    parser.add_argument("--json", help="also write the rows to this file")
    args = parser.parse_args()
    if args.map:
        map_benchmark(args.map, args.cells)
        return
    results = []
    print(f"{'orders':>9}  {'engine':10}  {'role':8}  {'board':8}  {'call':22}  "
          f"{'median ms':>9}  {'p95 ms':>7}")
    for n in args.sizes:
        for engine in args.engines:
            url = database_url(engine, n, args)
            if not (args.reuse and (seeded_count(url) or 0) >= n * 0.99):
                if engine == "sqlite":
                    Path(url.removeprefix("sqlite:///")).unlink(missing_ok=True)
                seed(url, n)
            app = create_app({"database_url": url, "secret_key": "b" * 40, "env": "demo",
                              "default_locale": "zh_CN"})
            cases = [(user, *spec) for user, spec in ROLES.items()] + EXTRA
            for user, board, panel, prop, table, days in cases:
                for call, median, p95 in time_board(app, url, user, board, panel, prop, table,
                                                    days, args.repeat):
                    results.append({"orders": n, "engine": engine, "role": user, "board": board,
                                    "call": call, "median_ms": round(median, 1),
                                    "p95_ms": round(p95, 1)})
                    print(f"{n:>9,}  {engine:10}  {user:8}  {board:8}  {call:22}  "
                          f"{median:>9.1f}  {p95:>7.1f}", flush=True)
            app.extensions[EXTENSION].db.dispose()
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=1))


if __name__ == "__main__":
    main()
