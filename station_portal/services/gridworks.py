"""Use cases of supporting grid works (业扩配套电网工程).

A project is created with a plan for its six milestones; managers replan and
complete milestones in order, record the funds that arrive and finally energise
it. Applications that wait on a project are linked to it. Linking never pauses
their clocks: the rule set's grid-works rule for the class applies to the
whole-process limit, and the waiting time is attributed to grid works
(``services.applications.set_grid_works_wait``); unlinking, energising or
cancelling the project ends the wait of every application that no other open
project still holds.

Every change:
- checks the responsibility matrix (``manage_grid_works`` for the project
  itself, ``link_grid_works`` for links) and the caller's scope, unless
  ``actor`` is None (the system: demo seed, command line);
- claims the project's next version (a stale form is a Conflict, nothing
  written);
- writes an audit row (project changes) and, through the work-order services,
  the applications' timeline events, in the caller's transaction.
Bad input raises ``ValidationFailed`` before anything is changed.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, selectinload

from station_portal import validate
from station_portal.auth.models import User
from station_portal.db import serialize_on, utcnow
from station_portal.errors import Conflict, NotFound, ValidationFailed
from station_portal.gridworks.labels import MILESTONE_NAMES
from station_portal.gridworks.models import (
    ENERGISED,
    MILESTONES,
    OPEN_STATUSES,
    GridWorksFunds,
    GridWorksLink,
    GridWorksMilestone,
    GridWorksProject,
    ProjectStatus,
)
from station_portal.gridworks.queries import project_visible
from station_portal.gridworks.schedule import push_later
from station_portal.i18n import _
from station_portal.labels import label
from station_portal.org.matrix import load_matrix
from station_portal.org.models import Unit
from station_portal.org.tree import ancestor_ids
from station_portal.services import applications, changes, orders
from station_portal.timefmt import local
from station_portal.validate import as_id
from station_portal.workorders.access import sees_order
from station_portal.workorders.models import (
    ApplicationStatus,
    Kind,
    WorkOrder,
)

CODE_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9-]{2,23}$")
AUTO_CODE_RE = re.compile(r"^GW\d{4}-\d+$", re.IGNORECASE)  # the portal's own codes
MAX_FUNDS = 1_000_000.0  # 10,000 yuan: ten billion yuan is beyond any one project
ENTITY = "grid_works_project"


# -- helpers -----------------------------------------------------------------------------

def _stale() -> Conflict:
    return Conflict(_("Someone else changed this project a moment ago. "
                      "The page now shows its current state; check it and try again."))


def load_project(session: Session, actor: User | None, project_id: object, *,
                 version: object = None, need_version: bool = True) -> GridWorksProject:
    """The project if it exists and the actor sees it (NotFound otherwise, the same answer)."""
    pid = as_id(project_id)
    project = session.get(GridWorksProject, pid, options=[
        selectinload(GridWorksProject.milestones), selectinload(GridWorksProject.links)]) \
        if pid is not None else None
    scope = changes.actor_scope(session, actor)
    if project is None or (scope is not None and not project_visible(session, scope, project.id)):
        raise NotFound(_("There is no such grid works project in your area."))
    if need_version:
        changes.check_version(version, project.version, _stale, required=actor is not None)
    return project


def _claim(session: Session, project: GridWorksProject, now: datetime) -> None:
    changes.claim_version(session, project, _stale)
    project.updated_at = now


def _audit(session: Session, actor: User | None, action: str, project: GridWorksProject,
           now: datetime, **details: Any) -> None:
    changes.record_audit(
        session, actor, action, subject=project.code, entity_type=ENTITY, entity_id=project.id,
        at=now, details={k: (v.isoformat() if isinstance(v, date) else v) for k, v in details.items()})


def _date(value: object, name: str, errors: dict[str, str]) -> date | None:
    """A day from a form or the API (a date, an aware datetime's local day, ISO text), within the
    working-day calendar's range; the problem goes in ``errors``."""
    if isinstance(value, datetime) and value.tzinfo:
        value = local(value).date()
    day = validate.day(value)
    if day is None:
        errors[name] = _("Give a date as YYYY-MM-DD, from %(first)s to %(last)s.",
                         first=validate.FIRST_DAY.isoformat(), last=validate.LAST_DAY.isoformat())
    return day


def _amount(value: object, name: str, errors: dict[str, str], *, positive: bool) -> float:
    try:
        amount = float(value) if not isinstance(value, bool) and value not in (None, "") else None
    except (TypeError, ValueError):
        amount = None
    if amount is None or amount != amount or amount < 0 or amount > MAX_FUNDS or \
            (positive and amount <= 0):
        errors[name] = (_("Give an amount above zero, in 10,000 yuan.") if positive
                        else _("Give an amount of zero or more, in 10,000 yuan."))
        return 0.0
    return round(amount, 2)


def _milestone_name(code: str) -> str:
    return label(MILESTONE_NAMES, code)


def _milestone(project: GridWorksProject, code: object, errors: dict[str, str]) -> GridWorksMilestone | None:
    found = next((m for m in project.milestones if m.code == code), None)
    if found is None:
        errors["milestone"] = _("Choose one of the listed values.")
    return found


def _is_open(project: GridWorksProject) -> bool:
    return project.status in OPEN_STATUSES


def _require_open(project: GridWorksProject) -> None:
    if not _is_open(project):
        raise ValidationFailed({"action": _("This project is energised or cancelled; "
                                            "it cannot change any more.")})


# -- create ------------------------------------------------------------------------------

@dataclass(frozen=True)
class ProjectInput:
    name: str
    unit_id: int
    planned: dict[str, Any] = field(default_factory=dict)  # milestone code -> date
    description: str = ""
    funds_expected: float | str = 0.0
    code: str = ""  # blank: one is given (GW, the year, '-', a number)


def create_project(session: Session, actor: User | None, data: ProjectInput, *,
                   now: datetime | None = None) -> GridWorksProject:
    changes.require_action(actor, "manage_grid_works")
    now = now or utcnow()
    errors: dict[str, str] = {}
    name = changes.plain_text(data.name, "name", 120, errors, required=True)
    description = changes.plain_text(data.description, "description", 500, errors)
    funds = _amount(data.funds_expected, "funds_expected", errors, positive=False)
    code = changes.plain_text(data.code, "code", 24, errors)
    if code and not CODE_RE.match(code):
        errors["code"] = _("A code has 3 to 24 letters, digits or '-'.")
    elif code and AUTO_CODE_RE.match(code):
        errors["code"] = _("Codes like GW2026-00001 are given by the portal; leave the code "
                           "empty or choose another.")
    elif code and session.scalar(select(GridWorksProject.id).where(GridWorksProject.code == code)):
        errors["code"] = _("Another project has this code.")
    unit_id = as_id(data.unit_id)
    scope = changes.actor_scope(session, actor)
    unit = session.get(Unit, unit_id) if unit_id is not None else None
    if unit is None or (scope is not None and not scope.sees_unit(unit.id)):
        errors["unit_id"] = _("Choose a unit in your area.")
    planned: list[date] = []
    planned_map = data.planned if isinstance(data.planned, dict) else {}
    for code_ in MILESTONES:
        day = _date(planned_map.get(code_), f"planned.{code_}", errors)
        if day is not None:
            planned.append(day)
    if len(planned) == len(MILESTONES):
        for i in range(1, len(planned)):
            if planned[i] < planned[i - 1]:
                errors[f"planned.{MILESTONES[i]}"] = _(
                    "A milestone cannot be planned before the one it follows (%(date)s).",
                    date=planned[i - 1].isoformat())
                break
    if errors:
        raise ValidationFailed(errors)
    project = GridWorksProject(
        code=code or f"tmp-{now.timestamp()}", name=name, unit_id=unit.id, description=description,
        status=ProjectStatus.PLANNED.value, funds_expected=funds, funds_arrived=0.0,
        created_at=now, updated_at=now, created_by=actor.id if actor else None, version=1)
    project.milestones = [GridWorksMilestone(seq=i, code=c, baseline_on=d, planned_on=d, replans=0)
                          for i, (c, d) in enumerate(zip(MILESTONES, planned, strict=True))]
    session.add(project)
    try:
        session.flush()
    except IntegrityError:  # typed at the same moment by someone else
        raise ValidationFailed({"code": _("Another project has this code.")}) from None
    if not code:
        project.code = f"GW{local(now).year}-{project.id:05d}"
    _audit(session, actor, "grid_works.created", project, now, name=name, unit_id=unit.id,
           funds_expected=funds, planned={c: d.isoformat() for c, d in zip(MILESTONES, planned,
                                                                            strict=True)})
    return project


# -- milestones ----------------------------------------------------------------------------

def _milestone_change(session: Session, actor: User | None, project_id: object, version: object,
                      milestone: object, day_value: object, day_field: str, note: object
                      ) -> tuple[GridWorksProject, GridWorksMilestone, date, str]:
    """What replanning and completing a milestone both check first: the right, an open
    project at the version the form saw, the milestone, the date and the note."""
    changes.require_action(actor, "manage_grid_works")
    project = load_project(session, actor, project_id, version=version)
    _require_open(project)
    errors: dict[str, str] = {}
    target = _milestone(project, milestone, errors)
    day = _date(day_value, day_field, errors)
    reason = changes.plain_text(note, "note", 300, errors)
    if errors:
        raise ValidationFailed(errors)
    assert target is not None and day is not None
    return project, target, day, reason


def replan_milestone(session: Session, actor: User | None, project_id: object, version: object,
                     milestone: object, planned_on: object, *, note: object = "",
                     now: datetime | None = None) -> GridWorksProject:
    """A new planned date for an open milestone; later open milestones move only as far as needed."""
    now = now or utcnow()
    project, target, day, reason = _milestone_change(session, actor, project_id, version,
                                                     milestone, planned_on, "planned_on", note)
    if target.actual_on is not None:
        raise ValidationFailed({"milestone": _("This milestone is done; it cannot be replanned.")})
    index = project.milestones.index(target)
    if index > 0:
        before = project.milestones[index - 1]
        floor = before.actual_on or before.planned_on
        if day < floor:
            raise ValidationFailed({"planned_on": _(
                "A milestone cannot be planned before the one it follows (%(date)s).",
                date=floor.isoformat())})
    if day == target.planned_on:
        raise ValidationFailed({"planned_on": _("This is already the planned date.")})
    _claim(session, project, now)
    old = [m.planned_on for m in project.milestones]
    new = push_later(old, index, day, [m.actual_on is not None for m in project.milestones])
    moved = {}
    for m, was, now_planned in zip(project.milestones, old, new, strict=True):
        if was != now_planned:
            m.planned_on = now_planned
            m.replans += 1
            moved[m.code] = [was.isoformat(), now_planned.isoformat()]
    _audit(session, actor, "grid_works.replanned", project, now, milestone=target.code,
           moved=moved, note=reason)
    return project


def complete_milestone(session: Session, actor: User | None, project_id: object, version: object,
                       milestone: object, actual_on: object, *, note: object = "",
                       now: datetime | None = None) -> GridWorksProject:
    """The next open milestone happened on ``actual_on``; the last one energises the project."""
    now = now or utcnow()
    project, target, day, reason = _milestone_change(session, actor, project_id, version,
                                                     milestone, actual_on, "actual_on", note)
    if target.actual_on is not None:
        raise ValidationFailed({"milestone": _("This milestone is already done.")})
    nxt = next(m for m in project.milestones if m.actual_on is None)
    if nxt is not target:
        raise ValidationFailed({"milestone": _("Complete %(name)s first.",
                                               name=_milestone_name(nxt.code))})
    if day > local(now).date():
        raise ValidationFailed({"actual_on": _("The actual date cannot lie in the future.")})
    index = project.milestones.index(target)
    if index > 0 and day < project.milestones[index - 1].actual_on:
        raise ValidationFailed({"actual_on": _(
            "The actual date cannot lie before the previous milestone's (%(date)s).",
            date=project.milestones[index - 1].actual_on.isoformat())})
    _claim(session, project, now)
    target.actual_on = day
    before = project.status
    project.status = (ProjectStatus.ENERGISED if target.code == ENERGISED
                      else ProjectStatus.IN_PROGRESS).value
    if target.code == ENERGISED:
        project.closed_at = now
    _audit(session, actor, "grid_works.milestone_done", project, now, milestone=target.code,
           actual_on=day, planned_on=target.planned_on, note=reason,
           status=[before, project.status])
    if target.code == ENERGISED:
        _release_waiting(session, actor, project, now, _(
            "Grid works %(code)s energised on %(date)s.", code=project.code, date=day.isoformat()))
    return project


def cancel_project(session: Session, actor: User | None, project_id: object, version: object,
                   reason: object, *, now: datetime | None = None) -> GridWorksProject:
    """The project will not be built; the applications waiting on it resume."""
    changes.require_action(actor, "manage_grid_works")
    now = now or utcnow()
    project = load_project(session, actor, project_id, version=version)
    _require_open(project)
    errors: dict[str, str] = {}
    why = changes.plain_text(reason, "reason", 300, errors, required=True)
    if errors:
        raise ValidationFailed(errors)
    _claim(session, project, now)
    before, project.status = project.status, ProjectStatus.CANCELLED.value
    project.closed_at = now
    _audit(session, actor, "grid_works.cancelled", project, now, reason=why,
           status=[before, project.status])
    _release_waiting(session, actor, project, now, _(
        "Grid works %(code)s cancelled: %(reason)s", code=project.code, reason=why))
    return project


# -- funds --------------------------------------------------------------------------------

def record_funds(session: Session, actor: User | None, project_id: object, version: object,
                 amount: object, arrived_on: object, *, note: object = "",
                 now: datetime | None = None) -> GridWorksProject:
    """Funds that arrived for the project (a receipt, added to the total)."""
    changes.require_action(actor, "manage_grid_works")
    now = now or utcnow()
    project = load_project(session, actor, project_id, version=version)
    _require_open(project)
    errors: dict[str, str] = {}
    value = _amount(amount, "amount", errors, positive=True)
    day = _date(arrived_on, "arrived_on", errors)
    text = changes.plain_text(note, "note", 300, errors)
    if day is not None and day > local(now).date():
        errors["arrived_on"] = _("The date cannot lie in the future.")
    if not errors and project.funds_arrived + value > MAX_FUNDS:
        cap = f"{MAX_FUNDS:,.0f}"
        errors["amount"] = _("With this amount the funds arrived would pass %(max)s (10,000 "
                             "yuan); check the figure.", max=cap)
    if errors:
        raise ValidationFailed(errors)
    _claim(session, project, now)
    session.add(GridWorksFunds(project_id=project.id, amount=value, arrived_on=day, note=text,
                               recorded_at=now, recorded_by=actor.id if actor else None))
    project.funds_arrived = round(project.funds_arrived + value, 2)
    _audit(session, actor, "grid_works.funds_arrived", project, now, amount=value,
           arrived_on=day, total=project.funds_arrived, note=text)
    return project


# -- links --------------------------------------------------------------------------------

def _find_application(session: Session, actor: User | None, order: object) -> WorkOrder:
    """An application by id or by code, in the actor's scope (NotFound otherwise)."""
    oid = as_id(order)
    if oid is None and isinstance(order, str) and order.strip():
        oid = session.scalar(select(WorkOrder.id).where(WorkOrder.code == order.strip().upper()))
    return changes.load_order(session, actor, oid, Kind.APPLICATION, need_version=False)


def _in_project_area(session: Session, project: GridWorksProject, order: WorkOrder) -> bool:
    unit = session.get(Unit, order.unit_id)
    return unit is not None and project.unit_id in ancestor_ids(unit.path)


def _active_link(project: GridWorksProject, order_id: int) -> GridWorksLink | None:
    return next((k for k in project.links if k.work_order_id == order_id and k.unlinked_at is None),
                None)


def _held_elsewhere(session: Session, order_id: int, project_id: int) -> bool:
    """Whether another open project still holds the order."""
    return bool(session.scalar(
        select(func.count()).select_from(GridWorksLink)
        .join(GridWorksProject, GridWorksProject.id == GridWorksLink.project_id)
        .where(GridWorksLink.work_order_id == order_id, GridWorksLink.unlinked_at.is_(None),
               GridWorksLink.project_id != project_id,
               GridWorksProject.status.in_(OPEN_STATUSES))))


def _lock_order(session: Session, order: WorkOrder) -> None:
    """Serialise the hold decisions on one order (link, unlink, release by another project)
    and read it afresh: two projects let go at once must not both think the other holds it."""
    serialize_on(session, f"order:{order.id}")
    session.expire(order)


def link_application(session: Session, actor: User | None, project_id: object, version: object,
                     order: object, *, now: datetime | None = None) -> GridWorksLink:
    """The application (id or code) waits on the project from now.

    Its clocks run on: the rule set's grid-works rule for its class applies (a separate
    whole-process limit, an extension or nothing), and the wait is attributed to grid works.
    """
    changes.require_action(actor, "link_grid_works")
    now = now or utcnow()
    project = load_project(session, actor, project_id, version=version)
    if not _is_open(project):
        raise ValidationFailed({"action": _("This project is energised or cancelled; "
                                            "no application can wait on it.")})
    application = _find_application(session, actor, order)
    _lock_order(session, application)
    if application.status == ApplicationStatus.PENDING:
        raise ValidationFailed({"order": _(
            "Accept the application first: only an application in progress can wait on grid works.")})
    if application.status != ApplicationStatus.IN_PROGRESS:
        raise ValidationFailed({"order": _("This application is closed.")})
    if not _in_project_area(session, project, application):
        raise ValidationFailed({"order": _("This application lies outside the project's area.")})
    if _active_link(project, application.id) is not None:
        raise ValidationFailed({"order": _("This application already waits on this project.")})
    already_waiting = applications.waits_on_grid_works(session, application.id)
    _claim(session, project, now)
    link = GridWorksLink(project_id=project.id, work_order_id=application.id, linked_at=now,
                         linked_by=actor.id if actor else None, unlink_reason="")
    project.links.append(link)
    if not already_waiting:
        applications.set_grid_works_wait(session, actor, application, waiting=True, note=_(
            "Waiting on grid works %(code)s %(name)s", code=project.code, name=project.name),
            now=now)
    else:  # already waiting on another project: the same wait goes on
        orders.add_note(session, actor if _may_note(actor) else None, application.id, _(
            "Also waiting on grid works %(code)s %(name)s", code=project.code,
            name=project.name)[:300], now=now)
    _audit(session, actor, "grid_works.linked", project, now, work_order_id=application.id,
           order_code=application.code)
    return link


def _may_note(actor: User | None) -> bool:
    return actor is not None and load_matrix().may(actor.role, "add_note")


def unlink_application(session: Session, actor: User | None, project_id: object, version: object,
                       order: object, *, reason: object = "",
                       now: datetime | None = None) -> GridWorksProject:
    """The application no longer waits on the project; its clocks resume unless another holds it."""
    changes.require_action(actor, "link_grid_works")
    now = now or utcnow()
    project = load_project(session, actor, project_id, version=version)
    errors: dict[str, str] = {}
    why = changes.plain_text(reason, "reason", 300, errors)
    if errors:
        raise ValidationFailed(errors)
    application = _find_application(session, actor, order)
    _lock_order(session, application)
    link = _active_link(project, application.id)
    if link is None:
        raise ValidationFailed({"order": _("This application does not wait on this project.")})
    _claim(session, project, now)
    link.unlinked_at, link.unlinked_by, link.unlink_reason = now, actor.id if actor else None, why
    if _is_open(project) and application.is_open and \
            not _held_elsewhere(session, application.id, project.id):
        applications.set_grid_works_wait(session, actor, application, waiting=False, note=_(
            "No longer waiting on grid works %(code)s.", code=project.code), now=now)
    _audit(session, actor, "grid_works.unlinked", project, now, work_order_id=application.id,
           order_code=application.code, reason=why)
    return project


def _release_waiting(session: Session, actor: User | None, project: GridWorksProject,
                     now: datetime, note: str) -> list[int]:
    """End the wait of every linked open application that no other open project holds.

    Recorded under the actor's name when the matrix lets the actor move applications
    on and the application is in the actor's scope; otherwise (an administrator) as
    the system, with the note naming the project.
    """
    scope = changes.actor_scope(session, actor)
    may_move = actor is not None and load_matrix().may(actor.role, "advance_stage")
    resumed: list[int] = []
    for link in project.links:
        if link.unlinked_at is not None:
            continue
        order = session.get(WorkOrder, link.work_order_id)
        if order is not None:
            _lock_order(session, order)
        if order is None or not order.is_open or \
                _held_elsewhere(session, order.id, project.id):
            continue
        by = actor if may_move and scope is not None and sees_order(scope, order) else None
        applications.set_grid_works_wait(session, by, order, waiting=False, note=note, now=now)
        resumed.append(order.id)
    if resumed:
        _audit(session, actor, "grid_works.resumed_waiting", project, now, work_order_ids=resumed)
    return resumed
