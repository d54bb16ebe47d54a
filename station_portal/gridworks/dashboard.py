"""The company dashboard's grid-works section: aggregates in SQL, small frames out.

Projects count for a unit set when they are owned by one of its units or hold
an application of one of them. Open projects only (planned, in progress);
lateness on plain dates as in ``schedule``; the time applications have waited
in working days of the statutory calendar, from linking until now.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

import numpy as np
import pandas as pd
from sqlalchemy import ColumnElement, case, exists, func, or_, select, true
from sqlalchemy.orm import Session

from station_portal.gridworks.models import (
    MILESTONES,
    OPEN_STATUSES,
    GridWorksLink,
    GridWorksMilestone,
    GridWorksProject,
)
from station_portal.org.models import Unit
from station_portal.sla.calendar import WorkCalendar
from station_portal.timefmt import local
from station_portal.workorders.models import WorkOrder


@dataclass(frozen=True)
class GridWorksBoard:
    projects_open: int
    projects_late: int
    waiting: int  # applications waiting on an open project
    waited_workdays: float  # working days they have waited, summed
    projects: pd.DataFrame  # code, name, late_by, waiting, next_milestone, next_on
    late: pd.DataFrame  # code, name, unit, milestone, overdue_since, late_by, applications, longest
    funds: pd.DataFrame  # unit, expected, arrived


def _in_units(unit_ids: frozenset[int] | None) -> ColumnElement[bool]:
    if unit_ids is None:
        return true()
    ids = sorted(unit_ids)
    held = exists(select(GridWorksLink.id).join(WorkOrder, WorkOrder.id == GridWorksLink.work_order_id)
                  .where(GridWorksLink.project_id == GridWorksProject.id,
                         GridWorksLink.unlinked_at.is_(None), WorkOrder.unit_id.in_(ids)))
    return or_(GridWorksProject.unit_id.in_(ids), held)


def grid_works_board(session: Session, unit_ids: frozenset[int] | None, now: datetime,
                     locale: str, calendar: WorkCalendar | None = None) -> GridWorksBoard:
    calendar = calendar or WorkCalendar.default()
    today: date = local(now).date()
    open_ms = GridWorksMilestone.actual_on.is_(None)
    per_project = session.execute(
        select(GridWorksProject.id, GridWorksProject.code, GridWorksProject.name,
               GridWorksProject.funds_expected, GridWorksProject.funds_arrived,
               Unit.name_zh, Unit.name_en,
               func.min(case((open_ms, GridWorksMilestone.seq))).label("next_seq"),
               func.min(case((open_ms & (GridWorksMilestone.planned_on < today),
                              GridWorksMilestone.planned_on))).label("overdue_since"))
        .join(Unit, Unit.id == GridWorksProject.unit_id)
        .join(GridWorksMilestone, GridWorksMilestone.project_id == GridWorksProject.id)
        .where(GridWorksProject.status.in_(OPEN_STATUSES), _in_units(unit_ids))
        .group_by(GridWorksProject.id, GridWorksProject.code, GridWorksProject.name,
                  GridWorksProject.funds_expected, GridWorksProject.funds_arrived,
                  Unit.name_zh, Unit.name_en)
        .order_by(GridWorksProject.code)).all()
    zh = locale.startswith("zh")
    projects = pd.DataFrame([{
        "id": r.id, "code": r.code, "name": r.name, "unit": r.name_zh if zh else r.name_en,
        "expected": float(r.funds_expected), "arrived": float(r.funds_arrived),
        "next_milestone": MILESTONES[r.next_seq] if r.next_seq is not None else None,
        "overdue_since": _as_date(r.overdue_since),
        "late_by": (today - _as_date(r.overdue_since)).days if r.overdue_since else 0,
    } for r in per_project], columns=["id", "code", "name", "unit", "expected", "arrived",
                                      "next_milestone", "overdue_since", "late_by"])
    ids = projects["id"].tolist()
    links = session.execute(
        select(GridWorksLink.project_id, WorkOrder.id, WorkOrder.code, GridWorksLink.linked_at)
        .join(WorkOrder, WorkOrder.id == GridWorksLink.work_order_id)
        .where(GridWorksLink.project_id.in_(ids), GridWorksLink.unlinked_at.is_(None),
               WorkOrder.closed_at.is_(None))
        .order_by(GridWorksLink.linked_at)).all() if ids else []
    waits = pd.DataFrame(links, columns=["project_id", "order_id", "order_code", "linked_at"])
    if len(waits):
        stamps = np.array([t.timestamp() for t in waits["linked_at"]])
        waits["waited"] = np.maximum(
            0.0, calendar.ordinals(np.full(len(stamps), now.timestamp())) - calendar.ordinals(stamps))
    else:
        waits["waited"] = pd.Series(dtype=float)
    per_order = waits.groupby("order_id")["waited"].max() if len(waits) else pd.Series(dtype=float)
    counts = waits.groupby("project_id").agg(waiting=("order_id", "nunique"),
                                             longest=("waited", "max"),
                                             codes=("order_code", lambda c: ", ".join(c)))
    projects = projects.join(counts, on="id")
    projects["waiting"] = projects["waiting"].fillna(0).astype(int)
    projects["longest"] = projects["longest"].fillna(0.0)
    projects["codes"] = projects["codes"].fillna("")
    late = projects[projects["late_by"] > 0].sort_values(["late_by", "waiting"], ascending=False)
    funds = (projects.groupby("unit", as_index=False)[["expected", "arrived"]].sum()
             .sort_values("expected", ascending=False)) if len(projects) else \
        pd.DataFrame(columns=["unit", "expected", "arrived"])
    return GridWorksBoard(
        projects_open=len(projects), projects_late=len(late), waiting=len(per_order),
        waited_workdays=round(float(per_order.sum()), 1) if len(per_order) else 0.0,
        projects=projects.reset_index(drop=True), late=late.reset_index(drop=True), funds=funds)


def _as_date(value: object) -> date | None:
    if value is None:
        return None
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    return date.fromisoformat(str(value)[:10])  # SQLite returns MIN() of a date as text
