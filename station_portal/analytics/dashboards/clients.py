"""The account manager's board: their clients' pipeline, park cases, visits and a case's timeline."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import pandas as pd
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from station_portal.analytics.dashboards.common import Filters
from station_portal.analytics.snapshots import in_units
from station_portal.auth.scope import Scope
from station_portal.network.areas import feeder_capacity, nearest_areas
from station_portal.network.rules import network_rules
from station_portal.org.models import (
    Client,
    IndustrialPark,
)
from station_portal.sla.calendar import local_midnight
from station_portal.timefmt import SHANGHAI
from station_portal.validate import as_id
from station_portal.workorders.models import (
    PARK_MILESTONES,
    Kind,
    ParkVisit,
    StageClock,
    WorkOrder,
)
from station_portal.workorders.visit_due import next_visits, visit_state


@dataclass(frozen=True)
class Clients:
    cases: pd.DataFrame  # id, code, client, park, milestone, status, load_kw, projected_date, ...
    pipeline: pd.DataFrame  # milestone, n, load_kw
    visits: pd.DataFrame  # case, client, planned_for, done_at, state (upcoming/overdue/done),
    # overdue_days: see client_visits
    parks: pd.DataFrame  # park, lat, lon, load_kw, cases
    clients: int
    capacity: pd.DataFrame = field(default_factory=pd.DataFrame)  # see park_capacity


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
    return Clients(cases, pipe, visits, parks, int(n_clients), park_capacity(session, parks))


CAPACITY_COLUMNS = ["park", "feeder", "capacity_kva", "areas_kva", "hv_applied_kva",
                    "spare_kva", "park_kva", "takes"]
AREAS_PER_PARK = 5


def park_capacity(session: Session, parks: pd.DataFrame) -> pd.DataFrame:
    """The feeders of the transformer areas nearest each park with open cases, and their
    room against the park's projected load: whether it comes on without grid works (a
    park's load is high voltage: it takes its own transformers on a feeder). The park's
    load in kVA uses the power factor of ``data/network.toml``."""
    rows = []
    factor = network_rules().capacity.power_factor
    for park in parks.itertuples():
        if park.lat is None or park.lon is None or pd.isna(park.lat):
            continue
        feeders = list(dict.fromkeys(a.feeder_id for a in nearest_areas(
            session, float(park.lat), float(park.lon), limit=AREAS_PER_PARK)))
        park_kva = float(park.load_kw) / factor
        for feeder in feeder_capacity(session, feeders):
            rows.append({"park": park.park, "feeder": f"{feeder.name} ({feeder.code})",
                         "capacity_kva": feeder.capacity_kva, "areas_kva": feeder.areas_kva,
                         "hv_applied_kva": feeder.hv_applied_kva, "spare_kva": feeder.spare_kva,
                         "park_kva": round(park_kva, 1), "takes": feeder.spare_kva >= park_kva})
    return pd.DataFrame(rows, columns=CAPACITY_COLUMNS)


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
