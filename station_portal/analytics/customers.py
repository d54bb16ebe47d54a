"""The customer's voice in the KPIs: ratings, online applications and counter visits,
per station or supply office, over a period (SQL aggregates, grouped in pandas by a
few hundred units at most).

Domain code: imports no Flask or Dash.
"""

from __future__ import annotations

import pandas as pd
from sqlalchemy import case, func, select
from sqlalchemy.orm import Session

from station_portal.analytics.dashboards.common import Filters, Names
from station_portal.analytics.snapshots import in_units
from station_portal.customer.models import CaseAccess, ServiceRating
from station_portal.sla.calendar import end_of_day, local_midnight
from station_portal.workorders.models import Kind, WorkOrder

COLUMNS = ["unit", "ratings", "avg_stars", "good", "low", "applications", "online",
           "counter_visits"]
GOOD_STARS, LOW_STARS = 4, 2


def satisfaction(session: Session, filters: Filters, names: Names, locale: str) -> pd.DataFrame:
    """One row per station or supply office with ratings given and applications received
    in the period: ratings, average stars, share of 4–5 stars, ratings of 1–2, applications,
    share applied online, counter visits per application."""
    start, end = local_midnight(filters.start), end_of_day(filters.end)
    ratings = session.execute(
        select(WorkOrder.unit_id, func.count(), func.sum(ServiceRating.stars),
               func.sum(case((ServiceRating.stars >= GOOD_STARS, 1), else_=0)),
               func.sum(case((ServiceRating.stars <= LOW_STARS, 1), else_=0)))
        .join(WorkOrder, WorkOrder.id == ServiceRating.work_order_id)
        .where(ServiceRating.rated_at >= start, ServiceRating.rated_at < end,
               in_units(WorkOrder.unit_id, filters.unit_ids))
        .group_by(WorkOrder.unit_id)).all()
    applications = session.execute(
        select(WorkOrder.unit_id, func.count(), func.sum(WorkOrder.counter_visits),
               func.count(CaseAccess.work_order_id))
        .outerjoin(CaseAccess, (CaseAccess.work_order_id == WorkOrder.id)
                   & (CaseAccess.channel == "online"))
        .where(WorkOrder.kind == Kind.APPLICATION.value, WorkOrder.created_at >= start,
               WorkOrder.created_at < end, in_units(WorkOrder.unit_id, filters.unit_ids))
        .group_by(WorkOrder.unit_id)).all()
    rows: dict[int, dict[str, float]] = {}

    def entry(unit_id: int) -> dict[str, float] | None:
        top = names.league_unit(unit_id)
        if top is None:
            return None
        return rows.setdefault(top, dict.fromkeys(
            ("ratings", "stars", "good", "low", "applications", "visits", "online"), 0.0))

    for unit_id, n, stars, good, low in ratings:
        row = entry(unit_id)
        if row is not None:
            row["ratings"] += n
            row["stars"] += stars or 0
            row["good"] += good or 0
            row["low"] += low or 0
    for unit_id, n, visits, online in applications:
        row = entry(unit_id)
        if row is not None:
            row["applications"] += n
            row["visits"] += visits or 0
            row["online"] += online or 0
    out = [{
        "unit": names.unit(top, locale), "ratings": int(r["ratings"]),
        "avg_stars": r["stars"] / r["ratings"] if r["ratings"] else None,
        "good": r["good"] / r["ratings"] if r["ratings"] else None, "low": int(r["low"]),
        "applications": int(r["applications"]),
        "online": r["online"] / r["applications"] if r["applications"] else None,
        "counter_visits": r["visits"] / r["applications"] if r["applications"] else None,
    } for top, r in rows.items()]
    frame = pd.DataFrame(out, columns=COLUMNS)
    return frame.sort_values(["avg_stars", "unit"], ascending=[False, True],
                             na_position="last").reset_index(drop=True)
