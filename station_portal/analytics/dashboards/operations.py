"""The station head's operations board: open orders on the map, time limits at risk,
arrivals, repairs waiting for a crew."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta

import pandas as pd
from sqlalchemy import and_, func, literal, or_, select
from sqlalchemy.orm import Session, aliased

from station_portal.analytics.daily import Daily
from station_portal.analytics.dashboards.common import AREA_TYPES, Filters, _open_orders
from station_portal.auth.scope import Scope
from station_portal.network.models import OutageStatus
from station_portal.network.outages import OutageRow, outages_between
from station_portal.org.models import (
    Crew,
    Unit,
)
from station_portal.org.queries import TerritoryFeature, territories
from station_portal.sla.clock import AT_RISK, OVERDUE
from station_portal.sla.rules import RuleSet
from station_portal.timefmt import SHANGHAI
from station_portal.workorders.models import (
    Kind,
    WorkOrder,
)
from station_portal.workorders.queries import live_sla

MAP_DETAIL = 5_000  # above this many open orders the map shows cells, not single orders


def cell_degrees(total: int) -> float:
    """Cell size for ``total`` open orders: about 1 km, coarser as the orders grow, so the
    map keeps to a few thousand markers (a city is about 1° across)."""
    return 0.01 if total <= 20_000 else 0.02 if total <= 80_000 else 0.05


@dataclass(frozen=True)
class Operations:
    points: pd.DataFrame  # kind, sla, lat, lon, n, code, status (n > 1: a cell of n orders)
    status_counts: pd.DataFrame  # kind, status, n
    sla_counts: dict[str, int]  # open, at_risk, overdue
    at_risk: pd.DataFrame  # the open orders at risk or overdue, soonest due first
    arrivals: pd.DataFrame  # area_type, limit, done, late, avg_minutes
    waiting: pd.DataFrame  # area_type, waiting, past_limit (repairs not yet on site)
    received: pd.DataFrame  # day, kind, received
    cells: bool  # the map shows cells (too many orders for single points)
    territories: list[TerritoryFeature]  # drawn under the orders
    outages: list[OutageRow] = field(default_factory=list)  # running or starting within a day


def _map_points(session: Session, units: frozenset[int] | None, sla, total: int) -> pd.DataFrame:
    columns = ["kind", "sla", "lat", "lon", "n", "code", "status"]
    if total <= MAP_DETAIL:
        rows = session.execute(
            select(WorkOrder.kind, sla, WorkOrder.lat, WorkOrder.lon, literal(1),
                   WorkOrder.code, WorkOrder.status).where(*_open_orders(units))).all()
        return pd.DataFrame(rows, columns=columns)
    # Cells per kind and time-limit state: a few thousand markers at most.
    size = cell_degrees(total)
    lat = func.round(WorkOrder.lat / size) * size
    lon = func.round(WorkOrder.lon / size) * size
    rows = session.execute(
        select(WorkOrder.kind, sla, lat, lon, func.count(WorkOrder.id))
        .where(*_open_orders(units)).group_by(WorkOrder.kind, sla, lat, lon)).all()
    frame = pd.DataFrame(rows, columns=columns[:5])
    frame["code"], frame["status"] = "", ""
    return frame[columns]


def operations(session: Session, filters: Filters, now: datetime, locale: str,
               scope: Scope | None = None) -> Operations:
    sla = live_sla(now).label("sla")
    units = filters.unit_ids
    rules = RuleSet.in_force(now.astimezone(SHANGHAI).date())
    limits = {a: rules.limit(a, "arrival").amount for a in AREA_TYPES}
    # One pass over the open orders: per kind, status, time-limit state and area, how many,
    # and of the repairs not yet on site, how many are past their arrival commitment.
    waiting = and_(WorkOrder.kind == Kind.REPAIR, WorkOrder.on_site_at.is_(None))
    past = or_(*[and_(WorkOrder.area_type == area,
                      WorkOrder.created_at < now - timedelta(minutes=float(limit)))
                 for area, limit in limits.items() if limit]) if any(limits.values()) \
        else literal(False)
    open_rows = session.execute(
        select(WorkOrder.kind, WorkOrder.status, sla, WorkOrder.area_type,
               func.count(WorkOrder.id), func.count(WorkOrder.id).filter(waiting),
               func.count(WorkOrder.id).filter(and_(waiting, past)))
        .where(*_open_orders(units))
        .group_by(WorkOrder.kind, WorkOrder.status, sla, WorkOrder.area_type)).all()
    open_frame = pd.DataFrame(open_rows, columns=["kind", "status", "sla", "area_type", "n",
                                                  "waiting", "past_limit"])
    total = int(open_frame["n"].sum())
    sla_counts = {"open": total,
                  AT_RISK: int(open_frame.loc[open_frame["sla"] == AT_RISK, "n"].sum()),
                  OVERDUE: int(open_frame.loc[open_frame["sla"] == OVERDUE, "n"].sum())}
    points = _map_points(session, units, sla, total)
    holder = aliased(Unit)
    zh = locale.startswith("zh")
    risk_rows = session.execute(
        select(WorkOrder.id, WorkOrder.code, WorkOrder.kind, WorkOrder.status,
               WorkOrder.current_stage, sla, WorkOrder.due_at, WorkOrder.holder,
               holder.name_zh if zh else holder.name_en, Crew.code, WorkOrder.address)
        .outerjoin(holder, holder.id == WorkOrder.holder_unit_id)
        .outerjoin(Crew, Crew.id == WorkOrder.crew_id)
        .where(*_open_orders(units), sla.in_([AT_RISK, OVERDUE]))
        .order_by(WorkOrder.due_at, WorkOrder.id).limit(200)).all()
    at_risk = pd.DataFrame(risk_rows, columns=[
        "id", "code", "kind", "status", "stage", "sla", "due_at", "holder_kind", "holder_unit",
        "crew", "address"])
    at_risk["holder"] = [
        kind if kind != "unit" else (crew or unit or "")
        for kind, crew, unit in zip(at_risk["holder_kind"], at_risk["crew"],
                                    at_risk["holder_unit"], strict=True)]
    counts = (open_frame.groupby(["kind", "status"], as_index=False, sort=False)["n"].sum()
              if len(open_frame) else pd.DataFrame(columns=["kind", "status", "n"]))
    daily = Daily(session, units, filters.start, filters.end, now)
    arrived = daily.stages(["area_type"], {"stage": "arrival"})
    arrivals = pd.DataFrame({"area_type": list(AREA_TYPES)})
    arrivals["limit"] = [limits[a] for a in AREA_TYPES]
    arrivals = arrivals.merge(arrived, on="area_type", how="left").fillna(
        {"done": 0, "timed": 0, "late": 0, "used": 0.0})
    arrivals["avg_minutes"] = (arrivals["used"] / arrivals["done"].where(arrivals["done"] > 0))
    waiting_frame = pd.DataFrame({"area_type": list(AREA_TYPES)}).merge(
        open_frame.groupby("area_type", as_index=False)[["waiting", "past_limit"]].sum(),
        on="area_type", how="left").fillna(0).astype({"waiting": int, "past_limit": int})
    received = daily.orders(["day", "kind"])
    areas = territories(session, replace(scope, unit_ids=units)) if scope is not None else []
    dark = [r for r in outages_between(
        session, replace(scope, unit_ids=units), now - timedelta(days=7), now + timedelta(days=1),
        now=now, statuses=(OutageStatus.ANNOUNCED.value, OutageStatus.IN_PROGRESS.value))
        if r.status == OutageStatus.IN_PROGRESS.value or r.ends_at > now] \
        if scope is not None else []
    return Operations(points, counts, sla_counts, at_risk,
                      arrivals[["area_type", "limit", "done", "late", "avg_minutes"]],
                      waiting_frame, received, total > MAP_DETAIL, areas, dark)
