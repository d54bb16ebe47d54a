"""The grid manager's workload board: received, closed and open per unit, crews against
their capacity, orders per day and the year with its forecast."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

import pandas as pd
from sqlalchemy import func, select, union
from sqlalchemy.orm import Session

from station_portal.analytics.daily import Daily
from station_portal.analytics.dashboards.common import Filters, Names, _open_orders
from station_portal.analytics.forecast import Forecast, forecast_daily
from station_portal.dispatch.board import CREW_WORK, default_settings
from station_portal.sla.clock import OVERDUE
from station_portal.timefmt import SHANGHAI
from station_portal.workorders.models import (
    Kind,
    OrderAssignment,
    WorkOrder,
)
from station_portal.workorders.queries import live_sla


@dataclass(frozen=True)
class Workload:
    per_unit: pd.DataFrame  # unit, received, closed, backlog, overdue
    per_crew: pd.DataFrame  # crew, group, members, jobs, site_hours, open_jobs, capacity
    by_category: pd.DataFrame  # kind, category, received, overdue
    per_day: pd.DataFrame  # day, received
    year: pd.DataFrame  # day, received (the 365 days before today)
    forecast: Forecast


def crew_loads(session: Session) -> pd.DataFrame:
    """crew_id, open_jobs: the repairs each crew holds now (dispatched, accepted, en route or
    on site; as lead or support), counted as the dispatch board counts them, wherever the
    repair lies. Crews without any are left out."""
    work = [s.value for s in CREW_WORK]
    pairs = union(
        select(WorkOrder.crew_id.label("crew_id"), WorkOrder.id.label("order_id"))
        .where(WorkOrder.kind == Kind.REPAIR, WorkOrder.crew_id.is_not(None),
               WorkOrder.status.in_(work)),
        select(OrderAssignment.crew_id, OrderAssignment.work_order_id)
        .join(WorkOrder, WorkOrder.id == OrderAssignment.work_order_id)
        .where(OrderAssignment.role == "support", OrderAssignment.released_at.is_(None),
               WorkOrder.status.in_(work))).subquery()
    rows = session.execute(select(pairs.c.crew_id, func.count()).group_by(pairs.c.crew_id)).all()
    return pd.DataFrame(rows, columns=["crew_id", "open_jobs"]).astype(
        {"crew_id": "int64", "open_jobs": "int64"})


def workload(session: Session, filters: Filters, now: datetime, locale: str,
             capacity: int | None = None) -> Workload:
    """``capacity``: open repairs a crew can carry at once (``[capacity]`` of
    ``data/dispatch.toml`` unless told)."""
    capacity = capacity if capacity is not None else default_settings().capacity_jobs
    names = Names.load(session, members=True)
    daily = Daily(session, filters.unit_ids, filters.start, filters.end, now)
    by_unit = daily.orders(["unit_id"])
    open_rows = session.execute(
        select(WorkOrder.unit_id, func.count(WorkOrder.id),
               func.count(WorkOrder.id).filter(live_sla(now) == OVERDUE))
        .where(*_open_orders(filters.unit_ids)).group_by(WorkOrder.unit_id)).all()
    backlog = pd.DataFrame(open_rows, columns=["unit_id", "backlog", "overdue"])
    per_unit = by_unit.merge(backlog, on="unit_id", how="outer").fillna(0)
    per_unit["unit"] = [names.unit(int(u), locale) for u in per_unit["unit_id"]]
    per_unit = per_unit.sort_values(["backlog", "received"], ascending=False)
    crews = daily.crews(["crew_id"]).astype({"crew_id": "int64"})
    # every crew of the units, the idle ones too
    own = pd.DataFrame({"crew_id": pd.Series(
        [c for c, (_code, unit) in names.crews.items()
         if filters.unit_ids is None or unit in filters.unit_ids], dtype="int64")})
    per_crew = own.merge(crews, on="crew_id", how="outer")
    per_crew = per_crew.merge(crew_loads(session), on="crew_id", how="left").fillna(
        {"jobs": 0, "site_hours": 0.0, "open_jobs": 0})
    per_crew["capacity"] = capacity
    per_crew["crew"] = [names.crews.get(int(c), ("", 0))[0] for c in per_crew["crew_id"]]
    per_crew["group"] = [names.unit(names.crews.get(int(c), ("", 0))[1], locale)
                         for c in per_crew["crew_id"]]
    per_crew["members"] = [names.people(int(c), locale) for c in per_crew["crew_id"]]
    per_crew = per_crew.sort_values(["open_jobs", "jobs"], ascending=False)  # the busiest first
    by_cat = daily.orders(["kind", "category"])
    overdue_rows = session.execute(
        select(WorkOrder.kind, func.coalesce(WorkOrder.category, WorkOrder.customer_class, ""),
               func.count(WorkOrder.id))
        .where(*_open_orders(filters.unit_ids), live_sla(now) == OVERDUE)
        .group_by(WorkOrder.kind, WorkOrder.category, WorkOrder.customer_class)).all()
    by_category = by_cat.merge(pd.DataFrame(overdue_rows, columns=["kind", "category", "overdue"]),
                               on=["kind", "category"], how="outer").fillna(0)
    per_day = daily.orders(["day"])[["day", "received"]].sort_values("day")
    today = now.astimezone(SHANGHAI).date()
    first_day = today - timedelta(days=365)
    year_daily = Daily(session, filters.unit_ids, first_day, today, now)
    year = every_day(year_daily.orders(["day"])[["day", "received"]], first_day, today)
    # today is not over: the model sees the days up to yesterday, quiet days as zeros
    history = year[year["day"] < today]
    series = pd.Series(history["received"].to_numpy(dtype=float),
                       index=pd.to_datetime(history["day"]))
    per_day = every_day(per_day, filters.start, min(filters.end, today))
    return Workload(per_unit, per_crew, by_category, per_day, year, forecast_daily(series))


def every_day(frame: pd.DataFrame, first: date, last: date) -> pd.DataFrame:
    """Counts per day with the days without any as zeros (a chart of days, a forecast)."""
    # object dtype: a period wholly after today has no day, and an empty float column would
    # not merge with the frame's dates
    days = pd.DataFrame({"day": pd.Series([first + timedelta(days=i)
                                           for i in range((last - first).days + 1)], dtype=object)})
    out = days.merge(frame, on="day", how="left").fillna({"received": 0})
    return out.astype({"received": int})
