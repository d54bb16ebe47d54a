"""Use cases of fault repairs (故障抢修): report, and each step of the life cycle
(dispatch, accept, depart, arrive, restore, close, cancel, transfer) with the crews'
assignment rows kept in step.

Every change checks the actor's role and scope (``actor`` None is the system), claims
the order's next version and writes the timeline event in the same transaction
(``services.changes``). Invalid steps and bad values raise and change nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import update
from sqlalchemy.orm import Session

from station_portal.auth.models import User
from station_portal.auth.roles import Role
from station_portal.auth.scope import scope_for
from station_portal.db import utcnow
from station_portal.errors import Forbidden, ValidationFailed
from station_portal.i18n import _
from station_portal.labels import REPAIR_STATUSES, label
from station_portal.org.models import Crew, Unit, UnitKind
from station_portal.org.territory import TerritoryIndex
from station_portal.services import orders
from station_portal.services.changes import (
    already_applied,
    claim_version,
    load_order,
    one_of,
    parse_client_key,
    plain_text,
    record_event,
    refresh_clocks,
    require_action,
    step_time,
)
from station_portal.sla.rules import RuleError, RuleSet
from station_portal.timefmt import local
from station_portal.validate import as_id
from station_portal.workorders.models import (
    Kind,
    OrderAssignment,
    RepairCategory,
    RepairSource,
    StageClock,
    WorkOrder,
)
from station_portal.workorders.models import RepairStatus as RS
from station_portal.workorders.states import REPAIR_STEP_ACTION, InvalidTransition, repair_step

# -- fault repairs ----------------------------------------------------------------------

@dataclass(frozen=True)
class RepairInput:
    source: str
    category: str
    urgency: int
    lat: float
    lon: float
    address: str = ""
    customer_name: str = ""
    customer_phone: str = ""
    description: str = ""
    reported_at: datetime | None = None
    client_id: int | None = None


def create_repair(session: Session, actor: User | None, data: RepairInput, *,
                  now: datetime | None = None, index: TerritoryIndex | None = None) -> WorkOrder:
    """A reported fault: routed to its station or grid, its arrival clock running."""
    require_action(actor, "create_repair")
    now = now or utcnow()
    errors: dict[str, str] = {}
    source = one_of(data.source, RepairSource, "source", errors)
    category = one_of(data.category, RepairCategory, "category", errors)
    if data.urgency not in (1, 2, 3):
        errors["urgency"] = _("Choose one of the listed values.")
    address = plain_text(data.address, "address", 200, errors, required=True)
    name = plain_text(data.customer_name, "customer_name", 80, errors)
    phone = plain_text(data.customer_phone, "customer_phone", 32, errors)
    if phone and not orders.PHONE_RE.match(phone):
        errors["customer_phone"] = _("Enter a phone number.")
    description = plain_text(data.description, "description", 500, errors)
    reported = now
    if data.reported_at is not None:
        try:
            reported = step_time(data.reported_at, now, None)
        except ValidationFailed as exc:
            errors["reported_at"] = exc.fields["at"]
    site = orders.route_site(session, data.lat, data.lon, errors, index)
    client_id = orders.client_of(session, data.client_id, errors)
    if errors:
        raise ValidationFailed(errors)
    assert site is not None
    orders.check_site_in_scope(session, actor, site)
    try:
        rules = RuleSet.in_force(local(reported).date())
    except RuleError as exc:
        raise ValidationFailed({"reported_at": _(
            "No time-limit rules are in force on that date.")}) from exc
    order = WorkOrder(
        code="", kind=Kind.REPAIR.value, status=RS.REPORTED.value, unit_id=site.unit_id,
        holder="unit", holder_unit_id=orders.holder_unit(session, site.unit_id, (
            UnitKind.LV_REPAIR_GROUP, UnitKind.GRID)) or site.unit_id,
        area_type=site.area_type, lat=float(data.lat), lon=float(data.lon), address=address,
        customer_name=name, customer_phone=phone, description=description, client_id=client_id,
        created_at=reported, updated_at=now, ruleset_id=rules.id, source=source,
        category=category, urgency=data.urgency,
    )
    arrival = rules.limit(site.area_type, "arrival")
    restoration = rules.limit(site.area_type, "restoration")
    order.clocks = [
        StageClock(seq=1, stage="arrival", holder="unit", holder_unit_id=order.holder_unit_id,
                   entered_at=reported, started_at=reported, limit_amount=arrival.amount,
                   limit_unit=arrival.unit, limit_source=arrival.source),
        StageClock(seq=2, stage="restoration", holder="unit", holder_unit_id=order.holder_unit_id,
                   limit_amount=restoration.amount, limit_unit=restoration.unit,
                   limit_source=restoration.source),
    ]
    orders.link_area(session, order, site.unit_id, reported)
    session.add(order)
    orders.new_code(session, order, reported)
    refresh_clocks(order, now)
    details: dict[str, object] = {"source": source, "category": category,
                                  "urgency": data.urgency}
    if order.outage_id is not None:
        details["outage_id"] = order.outage_id
    record_event(session, order, actor, "created", reported, to_value=RS.REPORTED.value,
                 details=details)
    return order


def repair_action(session: Session, actor: User | None, order_id: object, version: object,
                  action: str, *, crew_id: object = None, unit_id: object = None,
                  reason: str = "", at: object = None, now: datetime | None = None,
                  client_key: object = None) -> WorkOrder:
    """One step of a repair's life cycle (dispatch, accept, depart, arrive, restore, close,
    cancel, transfer).

    A step reported from the field may carry a ``client_key`` instead of a version:
    sent again after a lost answer, it is recognised and not applied twice.
    """
    now = now or utcnow()
    if action not in REPAIR_STEP_ACTION:
        raise ValidationFailed({"action": _("Unknown action.")})
    require_action(actor, REPAIR_STEP_ACTION[action])
    key = parse_client_key(client_key)
    repeated = already_applied(session, actor, order_id, key, action)
    if repeated is not None:
        return repeated
    order = load_order(session, actor, order_id, Kind.REPAIR, lock_version=version,
                       need_version=key is None or version is not None)
    if actor is not None and actor.role == Role.CREW and REPAIR_STEP_ACTION[action] == "report_field_status" \
            and scope_for(session, actor).crew_id != order.crew_id:
        raise Forbidden(_("Only the lead crew reports the steps of this repair."))
    try:
        step = repair_step(order.status, action)
    except InvalidTransition as exc:
        raise ValidationFailed({"action": _(
            "This repair is %(status)s; it cannot be changed that way now.",
            status=label(REPAIR_STATUSES, order.status))}) from exc
    errors: dict[str, str] = {}
    reason = plain_text(reason, "reason", 300, errors)
    if action in ("cancel", "transfer") and not reason:
        errors["reason"] = _("Say why.")
    latest = max(t for t in (order.created_at, order.dispatched_at, order.accepted_at,
                             order.en_route_at, order.on_site_at, order.restored_at) if t)
    when = step_time(at, now, latest)
    details: dict[str, Any] = {}
    if action == "dispatch":
        crew = dispatchable_crew(session, actor, crew_id, errors)
        if crew is not None:
            details = {"crew": crew.code, "previous_crew": order.crew_id}
    target_unit = None
    if action == "transfer":
        target_unit = session.get(Unit, as_id(unit_id)) if as_id(unit_id) else None
        if target_unit is None or target_unit.kind not in (UnitKind.SERVICE_STATION, UnitKind.GRID) \
                or target_unit.id == order.unit_id:
            errors["unit_id"] = _("Choose the station or grid to hand the repair to.")
    if errors:
        raise ValidationFailed(errors)
    claim_version(session, order)
    before = order.status
    _book_assignments(session, order, actor, action, crew.id if action == "dispatch" else None, when)
    if action == "dispatch":
        order.crew_id = crew.id
        order.accepted_at = order.en_route_at = None  # a new crew accepts afresh
    if action == "transfer":
        assert target_unit is not None
        details = {"from_unit": order.unit_id, "to_unit": target_unit.id}
        order.unit_id = target_unit.id
        order.holder_unit_id = orders.holder_unit(session, target_unit.id, (
            UnitKind.LV_REPAIR_GROUP, UnitKind.GRID)) or target_unit.id
        order.crew_id = None
        order.dispatched_at = order.accepted_at = order.en_route_at = None
        for clock in order.clocks:
            if clock.ended_at is None:
                clock.holder_unit_id = order.holder_unit_id
    if step.stamp:
        setattr(order, step.stamp, when)
    order.status = step.to.value
    arrival, restoration = order.clocks[0], order.clocks[1]
    if action == "arrive":
        arrival.ended_at = when
        restoration.entered_at = restoration.started_at = when
    elif action == "restore":
        restoration.ended_at = when
    elif action == "cancel":
        for clock in order.clocks:
            if clock.started_at is not None and clock.ended_at is None:
                clock.ended_at = when
    refresh_clocks(order, now)
    record_event(session, order, actor, action, when, from_value=before, to_value=order.status,
                 reason=reason, details=details or None, client_key=key)
    return order


def dispatchable_crew(session: Session, actor: User | None, crew_id: object,
                      errors: dict[str, str]) -> Crew | None:
    """An active crew in the actor's area, or None with the reason in ``errors``."""
    crew = session.get(Crew, as_id(crew_id)) if as_id(crew_id) else None
    if crew is None or not crew.active:
        errors["crew_id"] = _("Choose a crew.")
        return None
    if actor is not None and not scope_for(session, actor).sees_unit(crew.unit_id):
        errors["crew_id"] = _("This crew is outside your area.")
        return None
    return crew


def release_assignments(session: Session, order_id: int, when: datetime, *,
                        role: str | None = None, crew_id: int | None = None) -> None:
    """End the open assignments of an order (of one role, or of one crew)."""
    stmt = update(OrderAssignment).where(OrderAssignment.work_order_id == order_id,
                                         OrderAssignment.released_at.is_(None))
    if role is not None:
        stmt = stmt.where(OrderAssignment.role == role)
    if crew_id is not None:
        stmt = stmt.where(OrderAssignment.crew_id == crew_id)
    session.execute(stmt.values(released_at=when).execution_options(synchronize_session=False))


def _book_assignments(session: Session, order: WorkOrder, actor: User | None, action: str,
                      crew_id: int | None, when: datetime) -> None:
    """Keep the assignment rows in step with a repair's life cycle.

    A dispatch ends the previous lead's row (and the new lead's support row) and
    opens a lead row; support crews leave when power is restored; a transfer, a
    cancellation or the close end every assignment.
    """
    if action == "dispatch":
        release_assignments(session, order.id, when, role="lead")
        release_assignments(session, order.id, when, crew_id=crew_id)
        session.add(OrderAssignment(work_order_id=order.id, crew_id=crew_id, role="lead",
                                    assigned_at=when, assigned_by=actor.id if actor else None))
    elif action == "restore":
        release_assignments(session, order.id, when, role="support")
    elif action in ("transfer", "cancel", "close"):
        release_assignments(session, order.id, when)
