"""Reads of grid-works projects.

``works_for_order`` is plain (no scope): callers decide who may ask about an
order (the staff detail page checks the order's scope, the public tracking page
the customer's case). Every other query takes the caller's ``Scope``: a user
sees a project owned by a unit in their scope, or one that an order they see
waits on.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import ColumnElement, exists, func, or_, select, true
from sqlalchemy.orm import Session

from station_portal.auth.scope import Scope
from station_portal.db import utcnow
from station_portal.gridworks.models import (
    OPEN_STATUSES,
    GridWorksFunds,
    GridWorksLink,
    GridWorksMilestone,
    GridWorksProject,
    ProjectStatus,
)
from station_portal.gridworks.schedule import Progress, progress
from station_portal.org.models import Unit, UnitKind
from station_portal.sla.calendar import WorkCalendar
from station_portal.timefmt import local
from station_portal.validate import as_id
from station_portal.workorders.access import order_filter, sees_order
from station_portal.workorders.models import WorkOrder


def today_local() -> date:
    return local(utcnow()).date()


@dataclass(frozen=True)
class OrderWorks:
    """A project an order waits on, as the order's pages show it."""

    project_id: int
    code: str
    name: str
    status: str  # planned | in_progress | energised | cancelled
    milestone: str | None  # the next open milestone; None once energised
    milestone_planned_on: date | None
    expected_energise_on: date | None
    late: bool
    late_by_days: int


def works_for_order(session: Session, order_id: int) -> list[OrderWorks]:
    """The projects the order is linked to now (active links), oldest link first."""
    oid = as_id(order_id)
    if oid is None:
        return []
    rows = session.execute(
        select(GridWorksProject)
        .join(GridWorksLink, GridWorksLink.project_id == GridWorksProject.id)
        .where(GridWorksLink.work_order_id == oid, GridWorksLink.unlinked_at.is_(None))
        .order_by(GridWorksLink.linked_at, GridWorksProject.id)
    ).scalars().unique().all()
    if not rows:
        return []
    plans = milestones_of(session, [p.id for p in rows])
    today = today_local()
    out: list[OrderWorks] = []
    for project in rows:
        state = progress(plans.get(project.id, []), today)
        out.append(OrderWorks(
            project_id=project.id, code=project.code, name=project.name, status=project.status,
            milestone=state.next_code, milestone_planned_on=state.next_planned_on,
            expected_energise_on=state.expected_energise_on, late=state.late,
            late_by_days=state.late_by_days))
    return out


def held_by_open_project(session: Session, order_id: int) -> bool:
    """Whether an open project holds the order now (an active link): its grid-works pause
    is then the project's to end (unlink, energise, cancel), not a hand on the order page."""
    return session.scalar(
        select(func.count()).select_from(GridWorksLink)
        .join(GridWorksProject, GridWorksProject.id == GridWorksLink.project_id)
        .where(GridWorksLink.work_order_id == order_id, GridWorksLink.unlinked_at.is_(None),
               GridWorksProject.status.in_(OPEN_STATUSES))) > 0


def with_grid_works(session: Session, order_id: int) -> bool:
    """Whether the application needs grid works: linked (not unlinked) to a project that is
    open or energised. The rule set's grid-works limit applies to it (a cancelled project
    or an unlink — the works not needed — takes it back)."""
    return session.scalar(
        select(func.count()).select_from(GridWorksLink)
        .join(GridWorksProject, GridWorksProject.id == GridWorksLink.project_id)
        .where(GridWorksLink.work_order_id == order_id, GridWorksLink.unlinked_at.is_(None),
               GridWorksProject.status.in_((*OPEN_STATUSES, ProjectStatus.ENERGISED.value)))) > 0


def milestones_of(session: Session, project_ids: list[int]) -> dict[int, list[GridWorksMilestone]]:
    """Each project's milestones in order, in one query."""
    out: dict[int, list[GridWorksMilestone]] = defaultdict(list)
    if not project_ids:
        return out
    for m in session.scalars(select(GridWorksMilestone)
                             .where(GridWorksMilestone.project_id.in_(project_ids))
                             .order_by(GridWorksMilestone.project_id, GridWorksMilestone.seq)):
        out[m.project_id].append(m)
    return out


# -- scoped reads ---------------------------------------------------------------------------

def visible_filter(scope: Scope) -> ColumnElement[bool]:
    """WHERE clause on ``GridWorksProject``: owned by a unit in scope, or awaited by an order
    the caller sees (a station head sees the county's project his applications wait on)."""
    if scope.is_global:
        return true()
    awaited = exists(
        select(GridWorksLink.id)
        .join(WorkOrder, WorkOrder.id == GridWorksLink.work_order_id)
        .where(GridWorksLink.project_id == GridWorksProject.id,
               GridWorksLink.unlinked_at.is_(None), order_filter(scope)))
    return or_(scope.unit_filter(GridWorksProject.unit_id), awaited)


def project_visible(session: Session, scope: Scope, project_id: int) -> bool:
    return session.scalar(select(GridWorksProject.id).where(
        GridWorksProject.id == project_id, visible_filter(scope))) is not None


def _unit_name(zh: str, en: str, locale: str) -> str:
    return zh if locale.startswith("zh") else en


@dataclass(frozen=True)
class ProjectRow:
    id: int
    code: str
    name: str
    unit_id: int
    unit: str
    status: str
    next_milestone: str | None
    next_planned_on: date | None
    expected_energise_on: date | None
    late_by_days: int
    waiting: int  # applications waiting on it now
    funds_expected: float
    funds_arrived: float
    version: int


def _waiting_counts(session: Session, project_ids: list[int]) -> dict[int, int]:
    if not project_ids:
        return {}
    return dict(session.execute(
        select(GridWorksLink.project_id, func.count(GridWorksLink.id))
        .join(WorkOrder, WorkOrder.id == GridWorksLink.work_order_id)
        .join(GridWorksProject, GridWorksProject.id == GridWorksLink.project_id)
        .where(GridWorksLink.project_id.in_(project_ids), GridWorksLink.unlinked_at.is_(None),
               WorkOrder.closed_at.is_(None), GridWorksProject.status.in_(OPEN_STATUSES))
        .group_by(GridWorksLink.project_id)).all())


def list_projects(session: Session, scope: Scope, locale: str, *, today: date | None = None,
                  limit: int = 2000) -> list[ProjectRow]:
    """The projects the caller sees, open ones first, then by code."""
    today = today or today_local()
    rows = session.execute(
        select(GridWorksProject, Unit.name_zh, Unit.name_en)
        .join(Unit, Unit.id == GridWorksProject.unit_id)
        .where(visible_filter(scope))
        .order_by(GridWorksProject.status.in_(OPEN_STATUSES).desc(), GridWorksProject.code)
        .limit(limit)).all()
    ids = [r[0].id for r in rows]
    plans = milestones_of(session, ids)
    waiting = _waiting_counts(session, ids)
    out = []
    for project, name_zh, name_en in rows:
        state = progress(plans.get(project.id, []), today)
        is_open = project.status in OPEN_STATUSES
        out.append(ProjectRow(
            id=project.id, code=project.code, name=project.name, unit_id=project.unit_id,
            unit=_unit_name(name_zh, name_en, locale), status=project.status,
            next_milestone=state.next_code if is_open else None,
            next_planned_on=state.next_planned_on if is_open else None,
            expected_energise_on=state.expected_energise_on,
            late_by_days=state.late_by_days if is_open else 0,
            waiting=waiting.get(project.id, 0), funds_expected=project.funds_expected,
            funds_arrived=project.funds_arrived, version=project.version))
    return out


@dataclass(frozen=True)
class LinkedApplication:
    order_id: int
    code: str
    customer: str
    stage: str | None
    status: str
    linked_at: datetime
    unlinked_at: datetime | None
    waited_workdays: float  # from linking until unlinked, the project closed or now
    waiting: bool  # still waiting on this project
    visible: bool = True  # in the caller's scope (else no customer name, no actions)


@dataclass(frozen=True)
class ProjectDetail:
    project: GridWorksProject
    unit: str
    milestones: list[GridWorksMilestone]
    progress: Progress
    receipts: list[GridWorksFunds]
    applications: list[LinkedApplication]


def project_detail(session: Session, scope: Scope, project_id: object, locale: str, *,
                   now: datetime | None = None,
                   calendar: WorkCalendar | None = None) -> ProjectDetail | None:
    """The project with its plan, funds and applications; None if absent or out of scope.

    Applications are listed whether or not the caller sees them one by one: a
    station head needs the whole picture of the county's project. Those outside
    the caller's scope show their code and stage only, no customer (and their
    order pages stay closed to the caller).
    """
    pid = as_id(project_id)
    if pid is None or not project_visible(session, scope, pid):
        return None
    project = session.get(GridWorksProject, pid)
    if project is None:
        return None
    now = now or utcnow()
    calendar = calendar or WorkCalendar.default()
    unit = session.get(Unit, project.unit_id)
    milestones = milestones_of(session, [pid]).get(pid, [])
    receipts = list(session.scalars(select(GridWorksFunds).where(GridWorksFunds.project_id == pid)
                                    .order_by(GridWorksFunds.arrived_on, GridWorksFunds.id)))
    apps = []
    for link, order in session.execute(
            select(GridWorksLink, WorkOrder).join(WorkOrder, WorkOrder.id == GridWorksLink.work_order_id)
            .where(GridWorksLink.project_id == pid)
            .order_by(GridWorksLink.unlinked_at.is_not(None), GridWorksLink.linked_at)).all():
        end = min(t for t in (link.unlinked_at, project.closed_at, order.closed_at, now) if t)
        waiting = link.unlinked_at is None and order.closed_at is None and \
            project.status in OPEN_STATUSES
        visible = sees_order(scope, order)
        apps.append(LinkedApplication(
            order_id=order.id, code=order.code, customer=order.customer_name if visible else "",
            stage=order.current_stage, status=order.status, linked_at=link.linked_at,
            unlinked_at=link.unlinked_at,
            waited_workdays=round(max(0.0, calendar.workdays_between(link.linked_at, end)), 1),
            waiting=waiting, visible=visible))
    return ProjectDetail(project, _unit_name(unit.name_zh, unit.name_en, locale) if unit else "",
                         milestones, progress(milestones, local(now).date()), receipts, apps)


def units_for_new_project(session: Session, scope: Scope, locale: str) -> list[tuple[int, str]]:
    """Units that may own a project: county companies, stations and supply offices in scope."""
    kinds = (UnitKind.COUNTY_COMPANY, UnitKind.SERVICE_STATION, UnitKind.SUPPLY_OFFICE)
    rows = session.execute(select(Unit.id, Unit.name_zh, Unit.name_en)
                           .where(Unit.kind.in_(kinds), scope.unit_filter(Unit.id))
                           .order_by(Unit.path)).all()
    return [(r.id, _unit_name(r.name_zh, r.name_en, locale)) for r in rows]
