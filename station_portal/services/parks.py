"""Use cases of industrial-park and VIP cases (园区前期介入): open a case with its
milestone plan (and the first visit), complete milestones. The visits themselves are
``services.visits``.

Every change checks the actor's role and scope, claims the case's next version and
writes the timeline event in the same transaction (``services.changes``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from sqlalchemy.orm import Session

from station_portal.auth.models import User
from station_portal.db import utcnow
from station_portal.errors import ValidationFailed
from station_portal.i18n import _
from station_portal.org.models import Client, UnitKind
from station_portal.services import orders
from station_portal.services.changes import (
    actor_scope,
    claim_version,
    load_order,
    plain_text,
    record_event,
    refresh_clocks,
    require_action,
    step_time,
)
from station_portal.timefmt import SHANGHAI
from station_portal.validate import as_id
from station_portal.workorders.models import (
    PARK_MILESTONES,
    Kind,
    ParkStatus,
    ParkVisit,
    StageClock,
    WorkOrder,
)

# A visit planned for a day is at this hour (Beijing time).
VISIT_HOUR = time(9)


def visit_time(day: date) -> datetime:
    """The time of a visit planned for ``day``: 09:00 that day, Beijing time."""
    return datetime.combine(day, VISIT_HOUR, SHANGHAI)


# -- industrial-park cases -------------------------------------------------------------

@dataclass(frozen=True)
class ParkCaseInput:
    client_id: int
    projected_load_kw: float
    projected_date: date
    description: str = ""
    visit_planned_for: datetime | None = None
    milestone_plan: dict[str, datetime] | None = None


def create_park_case(session: Session, actor: User | None, data: ParkCaseInput, *,
                     now: datetime | None = None) -> WorkOrder:
    """Early engagement with a park or VIP client: milestones planned, the first visit set."""
    require_action(actor, "manage_park_cases")
    now = now or utcnow()
    errors: dict[str, str] = {}
    client = session.get(Client, as_id(data.client_id)) if as_id(data.client_id) else None
    scope = actor_scope(session, actor)
    if client is None or (scope is not None and not scope.sees_client(client.id)):
        errors["client_id"] = _("Choose one of your clients.")
    load = data.projected_load_kw
    if not isinstance(load, int | float) or isinstance(load, bool) or not 0 < load <= 1_000_000:
        errors["projected_load_kw"] = _("Give the projected load in kW (more than 0).")
    if not isinstance(data.projected_date, date) or data.projected_date < now.date() - timedelta(days=3650):
        errors["projected_date"] = _("Give the date the load is expected.")
    description = plain_text(data.description, "description", 500, errors)
    plan = data.milestone_plan or {}
    if set(plan) - set(PARK_MILESTONES) or not all(isinstance(v, datetime) and v.tzinfo
                                                   for v in plan.values()):
        errors["milestone_plan"] = _("Plan the milestones with dates.")
    if errors:
        raise ValidationFailed(errors)
    assert client is not None
    order = WorkOrder(
        code="", kind=Kind.PARK_CASE.value, status=ParkStatus.OPEN.value, unit_id=client.unit_id,
        holder="unit", holder_unit_id=orders.holder_unit(session, client.unit_id,
                                                         (UnitKind.COUNTY_COMPANY,)),
        area_type="urban", lat=client.lat, lon=client.lon, address=client.name_zh,
        customer_name=client.name_zh, customer_phone=client.contact_phone, client_id=client.id,
        park_id=client.park_id, owner_user_id=actor.id if actor else None,
        description=description, created_at=now, updated_at=now,
        projected_load_kw=float(load), projected_date=data.projected_date,
    )
    order.clocks = [
        StageClock(seq=i, stage=code, holder="unit", holder_unit_id=order.holder_unit_id,
                   planned_at=plan.get(code), started_at=now if plan.get(code) else None,
                   entered_at=now if i == 1 else None)
        for i, code in enumerate(PARK_MILESTONES, start=1)
    ]
    order.current_stage = PARK_MILESTONES[0]
    session.add(order)
    orders.new_code(session, order, now)
    if data.visit_planned_for is not None:
        session.add(ParkVisit(work_order_id=order.id, client_id=client.id,
                              planned_for=data.visit_planned_for, user_id=order.owner_user_id))
    refresh_clocks(order, now)
    record_event(session, order, actor, "created", now, to_value=order.status,
                 details={"client": client.code, "load_kw": float(load)})
    return order


def complete_milestone(session: Session, actor: User | None, order_id: object, version: object,
                       milestone: str, *, note: str = "", application_id: object = None,
                       at: object = None, now: datetime | None = None) -> WorkOrder:
    """A milestone of a park case is done; the formal application links the case to it."""
    require_action(actor, "manage_park_cases")
    now = now or utcnow()
    order = load_order(session, actor, order_id, Kind.PARK_CASE, lock_version=version)
    clock = next((c for c in order.clocks if c.stage == milestone), None)
    errors: dict[str, str] = {}
    if clock is None:
        errors["milestone"] = _("Choose one of the listed values.")
    elif clock.ended_at is not None:
        errors["milestone"] = _("This milestone is already done.")
    note = plain_text(note, "note", 300, errors)
    linked = None
    if milestone == "formal_application":
        linked = session.get(WorkOrder, as_id(application_id)) if as_id(application_id) else None
        if linked is None or linked.kind != Kind.APPLICATION or linked.client_id != order.client_id:
            errors["application_id"] = _("Choose this client's connection application.")
    if order.status == ParkStatus.CLOSED:
        errors["action"] = _("This case is closed.")
    if errors:
        raise ValidationFailed(errors)
    assert clock is not None
    when = step_time(at, now, order.created_at)
    claim_version(session, order)
    clock.ended_at = when
    if clock.started_at is None:
        clock.started_at = when
    clock.entered_at = clock.entered_at or when
    if linked is not None:
        order.application_id = linked.id
        order.status = ParkStatus.APPLIED.value
    remaining = [c for c in order.clocks if c.ended_at is None]
    order.current_stage = remaining[0].stage if remaining else None
    if remaining and remaining[0].entered_at is None:
        remaining[0].entered_at = when
    refresh_clocks(order, now)
    record_event(session, order, actor, "milestone_done", when, to_value=milestone, reason=note,
                 details={"application": linked.code} if linked else None)
    return order
