"""How long each scheduler job takes on a seeded city, on SQLite and PostgreSQL.

    python benchmarks/scheduler.py --sizes 10000 100000 --engines sqlite postgresql [--reuse]

Seeds (or reuses, with ``--reuse``) the same databases as ``benchmarks/dashboards.py``.
Every job runs inside one transaction that is rolled back at the end, so the database
stays as seeded and the figures can be taken again. The SLA watch runs twice: the first
run fires every level the seeded open work has passed (a scheduler's first start on an
existing database), the second is the steady state of every minute.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from dashboards import database_url, seed, seeded_count

from station_portal.db import Database, utcnow


def timed(fn, repeat: int = 1):
    timings, result = [], None
    for _ in range(repeat):
        started = time.perf_counter()
        result = fn()
        timings.append((time.perf_counter() - started) * 1000)
    return statistics.median(timings), result


def measure(url: str, repeat: int) -> dict[str, tuple[float, object]]:
    import numpy as np

    from station_portal.analytics.briefing import last_full_week, make_briefings
    from station_portal.analytics.snapshots import refresh
    from station_portal.demo.simulate import simulate
    from station_portal.jobs import visits
    from station_portal.notify.escalation import watch

    db = Database(url)
    out: dict[str, tuple[float, object]] = {}
    now = utcnow()
    with db.write() as session:
        try:
            out["sla_watch first"] = timed(lambda: watch(session, now).as_dict())
            out["sla_watch steady"] = timed(lambda: watch(session, now).as_dict(), repeat)
            out["visits"] = timed(lambda: visits.run(session, now))
            out["snapshots"] = timed(lambda: refresh(session, now).order_rows)
            out["briefing (all units)"] = timed(
                lambda: len(make_briefings(session, last_full_week(now), now)))
            rng = np.random.default_rng(7)
            out["simulate 1 min"] = timed(
                lambda: simulate(session, now, seconds=60, rng=rng)["new_repairs"], repeat)
        finally:
            session.rollback()
    db.dispose()
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000])
    parser.add_argument("--engines", nargs="+", default=["sqlite"],
                        choices=["sqlite", "postgresql"])
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--reuse", action="store_true", help="keep an already seeded database")
    parser.add_argument("--sqlite-dir", default=tempfile.gettempdir())
    parser.add_argument("--postgres", default="postgresql+psycopg://postgres@127.0.0.1:5432/test")
    args = parser.parse_args()
    print("| orders | engine | job | ms | result |")
    print("|---:|---|---|---:|---|")
    for n in args.sizes:
        for engine in args.engines:
            url = database_url(engine, n, args)
            if not (args.reuse and seeded_count(url) == n):
                if engine == "sqlite":
                    Path(url.removeprefix("sqlite:///")).unlink(missing_ok=True)
                seed(url, n)
            for job, (ms, result) in measure(url, args.repeat).items():
                print(f"| {n:,} | {engine} | {job} | {ms:.0f} | {result} |", flush=True)


if __name__ == "__main__":
    main()
