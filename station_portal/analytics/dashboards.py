"""The data of the four role dashboards, scoped and filtered on the server.

Each function takes the caller's :class:`~station_portal.auth.scope.Scope`
and a :class:`Filters` (date range, unit) and returns small DataFrames: sums
read from the snapshot tables (:class:`~station_portal.analytics.daily.Daily`)
or aggregates of the open orders computed in SQL. Nothing here loads the
history into memory. Figures and tables are built from these frames by pure
functions in ``pages/charts.py``.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, timedelta

import pandas as pd
from sqlalchemy import and_, func, literal, or_, select, union
from sqlalchemy.orm import Session, aliased

from station_portal.analytics.daily import Daily
from station_portal.analytics.forecast import Forecast, forecast_daily
from station_portal.analytics.snapshots import in_units
from station_portal.auth.scope import Scope
from station_portal.dispatch.board import CREW_WORK, default_settings
from station_portal.org.models import (
    Client,
    Crew,
    CrewMember,
    IndustrialPark,
    Staff,
    Unit,
    UnitKind,
)
from station_portal.org.queries import TerritoryFeature, territories
from station_portal.org.tree import subtree_ids
from station_portal.sla.calendar import local_midnight
from station_portal.sla.classes import CUSTOMER_CLASSES
from station_portal.sla.clock import AT_RISK, OVERDUE
from station_portal.sla.rules import RuleSet
from station_portal.sla.stages import UTILITY, stage_book
from station_portal.timefmt import SHANGHAI
from station_portal.validate import as_id
from station_portal.workorders.models import (
    PARK_MILESTONES,
    Kind,
    OrderAssignment,
    ParkVisit,
    StageClock,
    WorkOrder,
)
from station_portal.workorders.queries import live_sla
from station_portal.workorders.visit_due import next_visits, visit_state

MAX_RANGE_DAYS = 731
EARLIEST = date(2000, 1, 1)
AREA_TYPES = ("urban", "rural", "remote")
CLASSES = CUSTOMER_CLASSES
REPAIR_CLOCKS = ("arrival", "restoration")
LEAGUE_KINDS = (UnitKind.SERVICE_STATION, UnitKind.SUPPLY_OFFICE)


class FilterError(ValueError):
    """A filter value the server cannot use (the message is shown to the user)."""


@dataclass(frozen=True)
class Filters:
    start: date
    end: date
    unit_ids: frozenset[int] | None  # already inside the caller's scope; None: all
    unit_id: int | None = None  # the unit the user picked, if any


def default_range(now: datetime, days: int = 30, ahead: int = 0) -> tuple[date, date]:
    """The last ``days`` days up to today, and ``ahead`` days after it (visits to come)."""
    today = now.astimezone(SHANGHAI).date()
    return today - timedelta(days=days - 1), today + timedelta(days=ahead)


def make_filters(session: Session, scope: Scope, start: object, end: object, unit: object,
                 now: datetime, default_days: int = 30, ahead: int = 0) -> Filters:
    """Check what the browser sent: dates as ISO strings, a unit inside the scope.

    Raises :class:`FilterError` with a message for the user; never trusts the unit.
    """
    first, last = default_range(now, default_days, ahead)
    try:
        start_day = date.fromisoformat(str(start)[:10]) if start else first
        end_day = date.fromisoformat(str(end)[:10]) if end else last
    except ValueError as exc:
        raise FilterError("dates") from exc
    if not (start_day >= EARLIEST and end_day <= last + timedelta(days=366)):
        raise FilterError("dates")  # the calendar's range, and no arithmetic overflow
    if end_day < start_day:
        raise FilterError("order")
    if (end_day - start_day).days >= MAX_RANGE_DAYS:
        raise FilterError("long")
    if unit in (None, "", "all"):
        return Filters(start_day, end_day, scope.unit_ids, None)
    unit_id = as_id(unit)
    if unit_id is None or not scope.sees_unit(unit_id):
        raise FilterError("unit")
    units = frozenset(subtree_ids(session, unit_id))
    if scope.unit_ids is not None:
        units &= scope.unit_ids
    return Filters(start_day, end_day, units, unit_id)



def unit_options(session: Session, scope: Scope, kinds: tuple[str, ...]) -> list[tuple[int, str, str]]:
    """Units of the given kinds the caller may pick: (id, name_zh, name_en), tree order."""
    rows = session.execute(select(Unit.id, Unit.name_zh, Unit.name_en)
                           .where(Unit.kind.in_(kinds), scope.unit_filter(Unit.id))
                           .order_by(Unit.path, Unit.sort_order, Unit.id)).all()
    return [tuple(r) for r in rows]  # type: ignore[misc]


@dataclass(frozen=True)
class Names:
    """Unit and crew names for labels, loaded once per call (a few hundred rows)."""

    units: dict[int, tuple[str, str, str, int | None]] = field(default_factory=dict)
    crews: dict[int, tuple[str, int]] = field(default_factory=dict)
    members: dict[int, list[tuple[str, str, bool]]] = field(default_factory=dict)

    @classmethod
    def load(cls, session: Session, members: bool = False) -> Names:
        units = {r.id: (r.name_zh, r.name_en, r.kind, r.parent_id) for r in session.execute(
            select(Unit.id, Unit.name_zh, Unit.name_en, Unit.kind, Unit.parent_id))}
        crews = {r.id: (r.code, r.unit_id) for r in session.execute(
            select(Crew.id, Crew.code, Crew.unit_id))}
        people: dict[int, list[tuple[str, str, bool]]] = {}
        if members:  # the crews' members (the workload's crew table)
            for crew_id, name_zh, name_latin, leader in session.execute(
                    select(CrewMember.crew_id, Staff.name_zh, Staff.name_latin,
                           CrewMember.is_leader)
                    .join(Staff, Staff.id == CrewMember.staff_id).order_by(CrewMember.id)):
                people.setdefault(crew_id, []).append((name_zh, name_latin, leader))
        return cls(units, crews, people)

    def people(self, crew_id: int, locale: str) -> str:
        """The crew's members, the leader marked with a star."""
        zh = locale.startswith("zh")
        return ("、" if zh else ", ").join(
            (m[0] if zh else m[1]) + (" ★" if m[2] else "") for m in self.members.get(crew_id, []))

    def unit(self, unit_id: object, locale: str) -> str:
        row = self.units.get(unit_id) if isinstance(unit_id, int) else None
        if row is None:
            return ""
        return row[0] if locale.startswith("zh") else row[1]

    def league_unit(self, unit_id: int) -> int | None:
        """The station or supply office a unit belongs to (itself, or an ancestor)."""
        seen = 0
        current: int | None = unit_id
        while current is not None and seen < 10:
            row = self.units.get(current)
            if row is None:
                return None
            if row[2] in LEAGUE_KINDS:
                return current
            current, seen = row[3], seen + 1
        return None


def _open_orders(units: frozenset[int] | None):
    return (WorkOrder.closed_at.is_(None), in_units(WorkOrder.unit_id, units))


# -- live change fingerprint ---------------------------------------------------------------
def fingerprint(session: Session, filters: Filters, now: datetime,
                client_ids: frozenset[int] | None = None) -> str:
    """Changes whenever an order in the filter's units (or clients) changes, and once a
    minute (time limits move on by themselves). Index lookups only: the latest change is
    read per unit (``ix_work_orders_unit_updated``), the open ones from the open-orders
    index."""
    latest_of = select(func.max(WorkOrder.updated_at))
    if client_ids is not None:  # the clients' board: their orders, whatever their unit
        # "+ 0": look the clients' few orders up by client; the units only filter them (an
        # index on the unit would walk every order of the stations these clients are in)
        mine = (WorkOrder.client_id.in_(sorted(client_ids)),
                in_units(WorkOrder.unit_id + 0, filters.unit_ids))
        latest, open_count = session.execute(
            select(func.max(WorkOrder.updated_at),
                   func.count(WorkOrder.id).filter(WorkOrder.closed_at.is_(None)))
            .where(*mine)).one()
        return f"{latest.timestamp() if latest else 0:.3f}:{open_count}:" \
               f"{int(now.timestamp() // 60)}"
    if filters.unit_ids is None:
        latest = session.scalar(latest_of)
    else:
        latest = max((session.scalar(latest_of.where(WorkOrder.unit_id == unit_id))
                      for unit_id in sorted(filters.unit_ids)),
                     key=lambda t: t.timestamp() if t else 0, default=None)
    open_count = session.scalar(
        select(func.count(WorkOrder.id)).where(*_open_orders(filters.unit_ids)))
    stamp = latest.timestamp() if latest else 0
    return f"{stamp:.3f}:{open_count}:{int(now.timestamp() // 60)}"


# -- station head: operations --------------------------------------------------------------
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
    return Operations(points, counts, sla_counts, at_risk,
                      arrivals[["area_type", "limit", "done", "late", "avg_minutes"]],
                      waiting_frame, received, total > MAP_DETAIL, areas)


# -- grid manager: workload --------------------------------------------------------------
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
    days = pd.DataFrame({"day": [first + timedelta(days=i)
                                 for i in range((last - first).days + 1)]})
    out = days.merge(frame, on="day", how="left").fillna({"received": 0})
    return out.astype({"received": int})


# -- account manager: clients and park cases ---------------------------------------------------
@dataclass(frozen=True)
class Clients:
    cases: pd.DataFrame  # id, code, client, park, milestone, status, load_kw, projected_date, ...
    pipeline: pd.DataFrame  # milestone, n, load_kw
    visits: pd.DataFrame  # case, client, planned_for, done_at, state (upcoming/overdue/done),
    # overdue_days: see client_visits
    parks: pd.DataFrame  # park, lat, lon, load_kw, cases
    clients: int


def clients(session: Session, scope: Scope, filters: Filters, now: datetime,
            locale: str) -> Clients:
    zh = locale.startswith("zh")
    in_scope = (WorkOrder.kind == Kind.PARK_CASE, scope.client_filter(WorkOrder.client_id),
                in_units(WorkOrder.unit_id, filters.unit_ids))
    rows = session.execute(
        select(WorkOrder.id, WorkOrder.code, Client.name_zh, Client.name_en,
               IndustrialPark.name_zh, IndustrialPark.name_en, WorkOrder.current_stage,
               WorkOrder.status, WorkOrder.projected_load_kw, WorkOrder.projected_date,
               WorkOrder.created_at, WorkOrder.closed_at, WorkOrder.sla_status)
        .join(Client, Client.id == WorkOrder.client_id)
        .outerjoin(IndustrialPark, IndustrialPark.id == WorkOrder.park_id)
        .where(*in_scope).order_by(WorkOrder.projected_date, WorkOrder.id)).all()
    cases = pd.DataFrame([
        {"id": r[0], "code": r[1], "client": r[2] if zh else r[3],
         "park": (r[4] if zh else r[5]) or "", "milestone": r[6] or "", "status": r[7],
         "load_kw": r[8] or 0.0, "projected_date": r[9], "created_at": r[10],
         "closed_at": r[11], "sla": r[12]} for r in rows],
        columns=["id", "code", "client", "park", "milestone", "status", "load_kw",
                 "projected_date", "created_at", "closed_at", "sla"])
    open_cases = cases[cases["closed_at"].isna() & (cases["status"] != "applied")]
    stages = [*PARK_MILESTONES, "applied"]
    pipe = pd.DataFrame({"milestone": stages})
    counts = open_cases.groupby("milestone").agg(n=("id", "count"), load_kw=("load_kw", "sum"))
    applied = cases[cases["status"] == "applied"]
    pipe["n"] = [int(counts["n"].get(m, 0)) if m != "applied" else len(applied) for m in stages]
    pipe["load_kw"] = [float(counts["load_kw"].get(m, 0.0)) if m != "applied"
                       else float(applied["load_kw"].sum()) for m in stages]
    visits = client_visits(session, scope, filters, now, locale)
    park_rows = session.execute(
        select(IndustrialPark.name_zh, IndustrialPark.name_en, IndustrialPark.lat,
               IndustrialPark.lon, func.sum(WorkOrder.projected_load_kw), func.count(WorkOrder.id))
        .join(WorkOrder, WorkOrder.park_id == IndustrialPark.id)
        .where(*in_scope, WorkOrder.closed_at.is_(None))
        .group_by(IndustrialPark.id, IndustrialPark.name_zh, IndustrialPark.name_en,
                  IndustrialPark.lat, IndustrialPark.lon)).all()
    parks = pd.DataFrame([{"park": r[0] if zh else r[1], "lat": r[2], "lon": r[3],
                           "load_kw": float(r[4] or 0), "cases": r[5]} for r in park_rows],
                         columns=["park", "lat", "lon", "load_kw", "cases"])
    n_clients = session.scalar(select(func.count(Client.id)).where(
        scope.client_filter(Client.id), in_units(Client.unit_id, filters.unit_ids))) or 0
    return Clients(cases, pipe, visits, parks, int(n_clients))


VISIT_COLUMNS = ["id", "order_id", "case", "client", "planned_for", "done_at", "note", "state",
                 "overdue_days"]


def client_visits(session: Session, scope: Scope, filters: Filters, now: datetime,
                  locale: str) -> pd.DataFrame:
    """The visits panel of the clients in scope and units: each client's next visit when it
    is overdue (whatever the period: one row per overdue client, by the definition in
    ``workorders/visit_due.py``) or falls in the period, other visits planned in the
    period, and the visits made in it. A plan overtaken by a later visit made is left out."""
    zh = locale.startswith("zh")
    names = {cid: name_zh if zh else name_en for cid, name_zh, name_en in session.execute(
        select(Client.id, Client.name_zh, Client.name_en)
        .where(scope.client_filter(Client.id), in_units(Client.unit_id, filters.unit_ids)))}
    if not names:
        return pd.DataFrame(columns=VISIT_COLUMNS)
    status = next_visits(session, names, now)
    today = now.astimezone(SHANGHAI).date()
    start = local_midnight(filters.start).astimezone(UTC)
    end = local_midnight(filters.end + timedelta(days=1)).astimezone(UTC)
    visit_rows = session.execute(
        select(ParkVisit.id, ParkVisit.work_order_id, WorkOrder.code, ParkVisit.client_id,
               ParkVisit.planned_for, ParkVisit.done_at, ParkVisit.note)
        .outerjoin(WorkOrder, WorkOrder.id == ParkVisit.work_order_id)
        .where(ParkVisit.client_id.in_(sorted(names)),
               ((ParkVisit.planned_for >= start) & (ParkVisit.planned_for < end))
               | ((ParkVisit.done_at >= start) & (ParkVisit.done_at < end))
               | ParkVisit.done_at.is_(None))
        .order_by(ParkVisit.planned_for, ParkVisit.id)).all()
    rows, standing = [], set()
    for vid, order_id, code, cid, planned, done, note in visit_rows:
        state, days = visit_state(vid, planned, done, status.get(cid), today)
        if state == "missed" or (state == "upcoming" and planned >= end):
            continue
        standing |= {cid} if state == "overdue" else set()
        rows.append({"id": vid, "order_id": order_id, "case": code, "client": names[cid],
                     "planned_for": planned, "done_at": done, "note": note, "state": state,
                     "overdue_days": days})
    # an overdue client with no visit planned for it yet: the day it was due
    rows += [{"id": None, "order_id": None, "case": None, "client": names[cid],
              "planned_for": nxt.due_at, "done_at": None, "note": "", "state": "overdue",
              "overdue_days": nxt.overdue_days}
             for cid, nxt in status.items() if nxt.overdue and cid not in standing]
    frame = pd.DataFrame(rows, columns=VISIT_COLUMNS)
    return frame.sort_values("planned_for", kind="stable").reset_index(drop=True)


def case_timeline(session: Session, scope: Scope, order_id: object
                  ) -> tuple[str, pd.DataFrame]:
    """A park case's code, milestones (planned, done) and visits, if the case is in scope."""
    empty = pd.DataFrame(columns=["what", "kind", "planned", "done"])
    order_id = as_id(order_id)
    order = session.get(WorkOrder, order_id) if order_id is not None else None
    if (order is None or order.kind != Kind.PARK_CASE or not scope.sees_client(order.client_id)
            or not scope.sees_unit(order.unit_id)):
        return "", empty
    rows = [{"what": c.stage, "kind": "milestone", "planned": c.planned_at or c.due_at,
             "done": c.ended_at} for c in session.scalars(
                 select(StageClock).where(StageClock.work_order_id == order.id)
                 .order_by(StageClock.seq))]
    rows += [{"what": "visit", "kind": "visit", "planned": v.planned_for, "done": v.done_at}
             for v in session.scalars(select(ParkVisit).where(ParkVisit.work_order_id == order.id)
                                      .order_by(ParkVisit.planned_for))]
    return order.code, pd.DataFrame(rows, columns=["what", "kind", "planned", "done"])


# -- company manager: KPIs -------------------------------------------------------------------
@dataclass(frozen=True)
class Kpis:
    compliance: pd.DataFrame  # stage, category, done, late, on_time (share), avg_used
    attribution: pd.DataFrame  # holder, late, late_by (working days)
    electricity: pd.DataFrame  # category, procedures, completed, avg_workdays, counter_visits
    repairs: pd.DataFrame  # stage, area_type, limit, done, timed, late, on_time, avg_minutes
    league: pd.DataFrame  # rank, unit, arrival, restoration, stages, overdue, score
    received: int


def _share(done: pd.Series, late: pd.Series) -> pd.Series:
    return ((done - late) / done.where(done > 0)).astype(float)


def kpis(session: Session, filters: Filters, now: datetime, locale: str) -> Kpis:
    names = Names.load(session)
    daily = Daily(session, filters.unit_ids, filters.start, filters.end, now)
    stages = daily.stages(["kind", "stage", "category", "unit_id", "holder_unit_id"])
    apps = stages[stages["kind"] == Kind.APPLICATION] if len(stages) else stages
    book = stage_book()
    utility_stages = [c for c, s in book.stages.items() if s.holder == UTILITY]
    app_unit = apps[apps["stage"].isin([*utility_stages, "total"])] if len(apps) else apps
    compliance = (app_unit.groupby(["stage", "category"], as_index=False)
                  [["done", "timed", "late", "used"]].sum() if len(app_unit)
                  else pd.DataFrame(columns=["stage", "category", "done", "timed", "late",
                                             "used"]))
    compliance["on_time"] = _share(compliance["timed"], compliance["late"])
    compliance["avg_used"] = compliance["used"] / compliance["done"].where(compliance["done"] > 0)
    # in the order of the process (the stage book), the whole process last; classes small first
    stage_rank = {code: i for i, code in enumerate(book.stages)} | {"total": len(book.stages)}
    class_rank = {klass: i for i, klass in enumerate(CLASSES)}
    compliance = compliance.sort_values(
        ["stage", "category"], key=lambda col: col.map(
            stage_rank if col.name == "stage" else class_rank).fillna(99)).reset_index(drop=True)
    late = app_unit[(app_unit["stage"] != "total") & (app_unit["late"] > 0)] if len(app_unit) \
        else app_unit
    attribution = (late.groupby("holder_unit_id", as_index=False, dropna=False)
                   [["late", "late_by"]].sum() if len(late)
                   else pd.DataFrame(columns=["holder_unit_id", "late", "late_by"]))
    attribution["holder"] = [names.unit(int(u), locale) if pd.notna(u) else ""
                             for u in attribution["holder_unit_id"]]
    attribution = attribution.sort_values("late_by", ascending=False)
    orders = daily.orders(["kind", "category"])
    app_orders = orders[orders["kind"] == Kind.APPLICATION] if len(orders) else orders
    totals = compliance[compliance["stage"] == "total"].set_index("category")
    electricity = []
    for klass in CLASSES:
        path = book.path_for("new_connection", klass, important=False)  # the getting-electricity path
        procedures = sum(1 for s in path if book.stage(s).holder == UTILITY and s != "archiving")
        received = float(app_orders.loc[app_orders["category"] == klass, "received"].sum()) \
            if len(app_orders) else 0.0
        visits = float(app_orders.loc[app_orders["category"] == klass, "counter_visits"].sum()) \
            if len(app_orders) else 0.0
        done = float(totals["done"].get(klass, 0)) if len(totals) else 0.0
        timed = float(totals["timed"].get(klass, 0)) if len(totals) else 0.0
        electricity.append({
            "category": klass, "procedures": procedures, "completed": int(done),
            "avg_workdays": float(totals["avg_used"].get(klass)) if done else None,
            "on_time": float(totals["on_time"].get(klass)) if timed else None,
            "counter_visits": visits / received if received else None})
    rep = stages[stages["stage"].isin(REPAIR_CLOCKS)] if len(stages) else stages
    rules = RuleSet.in_force(now.astimezone(SHANGHAI).date())
    rep_area = daily.stages(["stage", "area_type"], {"stage": list(REPAIR_CLOCKS)})
    repair_rows = []
    for stage in REPAIR_CLOCKS:
        for area in AREA_TYPES:
            part = rep_area[(rep_area["stage"] == stage) & (rep_area["area_type"] == area)] \
                if len(rep_area) else rep_area
            done, late_n = float(part["done"].sum()), float(part["late"].sum())
            timed = float(part["timed"].sum())
            repair_rows.append({
                "stage": stage, "area_type": area, "limit": rules.limit(area, stage).amount,
                "done": int(done), "timed": int(timed), "late": int(late_n),
                "on_time": (timed - late_n) / timed if timed else None,
                "avg_minutes": float(part["used"].sum()) / done if done else None})
    league = _league(names, rep, app_unit, session, filters, now, locale)
    received = int(orders["received"].sum()) if len(orders) else 0
    return Kpis(compliance, attribution, pd.DataFrame(electricity), pd.DataFrame(repair_rows),
                league, received)


def _league(names: Names, repairs: pd.DataFrame, apps: pd.DataFrame, session: Session,
            filters: Filters, now: datetime, locale: str) -> pd.DataFrame:
    rows: dict[int, dict[str, float]] = {}

    def add(frame: pd.DataFrame, key: str) -> None:
        if not len(frame):
            return
        grouped = frame.groupby("unit_id")[["timed", "late"]].sum()
        for unit_id, row in grouped.iterrows():
            top = names.league_unit(int(unit_id))
            if top is None:
                continue
            entry = rows.setdefault(top, {})
            entry[f"{key}_done"] = entry.get(f"{key}_done", 0) + row["timed"]
            entry[f"{key}_late"] = entry.get(f"{key}_late", 0) + row["late"]

    add(repairs[repairs["stage"] == "arrival"] if len(repairs) else repairs, "arrival")
    add(repairs[repairs["stage"] == "restoration"] if len(repairs) else repairs, "restoration")
    add(apps[apps["stage"] != "total"] if len(apps) else apps, "stages")
    overdue = session.execute(
        select(WorkOrder.unit_id, func.count(WorkOrder.id))
        .where(*_open_orders(filters.unit_ids), live_sla(now) == OVERDUE)
        .group_by(WorkOrder.unit_id)).all()
    overdue_by: dict[int, int] = {}
    for unit_id, n in overdue:
        top = names.league_unit(unit_id)
        if top is not None:
            overdue_by[top] = overdue_by.get(top, 0) + n
            rows.setdefault(top, {})
    out = []
    for unit_id, entry in rows.items():
        shares = {}
        for key in ("arrival", "restoration", "stages"):
            done = entry.get(f"{key}_done", 0)
            shares[key] = (done - entry.get(f"{key}_late", 0)) / done if done else None
        known = [v for v in shares.values() if v is not None]
        out.append({"unit_id": unit_id, "unit": names.unit(unit_id, locale), **shares,
                    "overdue": overdue_by.get(unit_id, 0),
                    "score": sum(known) / len(known) if known else None})
    frame = pd.DataFrame(out, columns=["unit_id", "unit", "arrival", "restoration", "stages",
                                       "overdue", "score"])
    frame = frame.sort_values(["score", "overdue"], ascending=[False, True], na_position="last")
    frame.insert(0, "rank", range(1, len(frame) + 1))
    return frame.reset_index(drop=True)

