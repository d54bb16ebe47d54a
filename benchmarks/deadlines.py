"""Recompute the deadlines of a million stage clocks, vectorised, against a per-row loop.

    python benchmarks/deadlines.py [--stages 1000000] [--sample 20000]

Each stage has a start instant (2024–2026), a limit of 1–30 working days and
a paused working time (0–5 days). The vectorised path is what the portal uses
(WorkCalendar.add_workdays_many on the working-time ordinal, plus the pause).
The reference loop walks day by day with chinese_calendar.is_workday, as a
plain implementation would; it runs on a sample and is extrapolated. Both give
the same deadlines on the sample (checked).
"""

from __future__ import annotations

import argparse
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import chinese_calendar

from station_portal.resources import data_path
from station_portal.sla.calendar import WorkCalendar
from station_portal.timefmt import SHANGHAI


def loop_deadline(start: float, n: int) -> float:
    """24:00 of the n-th working day after the start day, walking day by day."""
    day = datetime.fromtimestamp(start, tz=UTC).astimezone(SHANGHAI).date()
    counted = 0
    while counted < n:
        day += timedelta(days=1)
        if chinese_calendar.is_workday(day):
            counted += 1
    end = datetime(day.year, day.month, day.day, tzinfo=SHANGHAI) + timedelta(days=1)
    return end.timestamp()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--stages", type=int, default=1_000_000)
    parser.add_argument("--sample", type=int, default=20_000)
    args = parser.parse_args()
    rng = np.random.default_rng(1)
    lo = datetime(2024, 1, 1, tzinfo=SHANGHAI).timestamp()
    hi = datetime(2026, 10, 31, tzinfo=SHANGHAI).timestamp()
    starts = rng.uniform(lo, hi, args.stages)
    limits = rng.integers(1, 31, args.stages)
    paused = np.round(rng.uniform(0, 5, args.stages) * (rng.random(args.stages) < 0.2), 4)

    started = time.perf_counter()
    cal = WorkCalendar.from_sources(data_path("calendar", "overrides.toml"))
    build = time.perf_counter() - started

    timings = []
    for _round in range(5):
        started = time.perf_counter()
        base = cal.add_workdays_many(starts, limits)
        due = cal.instants(cal.ordinals(base) + paused)
        timings.append(time.perf_counter() - started)
    vector = min(timings)

    sample = slice(0, args.sample)
    started = time.perf_counter()
    reference = np.array([loop_deadline(s, int(n)) for s, n in zip(starts[sample], limits[sample],
                                                                    strict=True)])
    loop = (time.perf_counter() - started) * args.stages / args.sample
    assert np.allclose(reference, base[sample]), "the two ways disagree"
    assert (due >= base).all()

    print(f"stages                         {args.stages:>12,}")
    print(f"calendar build (once)          {build * 1000:>10.1f} ms")
    print(f"vectorised, with pauses        {vector * 1000:>10.1f} ms   (best of 5)")
    print(f"per-row loop (extrapolated)    {loop:>10.1f} s    (from {args.sample:,} rows)")
    print(f"speed-up                       {loop / vector:>10.0f} x")
    print(f"agreement on the sample        {'yes':>12}")


if __name__ == "__main__":
    main()
