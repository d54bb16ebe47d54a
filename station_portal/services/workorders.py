"""Use cases of the three kinds of work: create, move along, pause, note.

Every change:
- checks the actor's role (responsibility matrix) and scope, unless ``actor``
  is None (the system: demo seed, scheduler, command line);
- claims the order's next version (a stale edit is a Conflict, nothing
  overwritten);
- recomputes the clocks, and writes a timeline event in the same transaction.
Invalid transitions and bad values raise with a message and change nothing.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session, selectinload

from station_portal.auth.models import User
from station_portal.auth.roles import Role
from station_portal.auth.scope import Scope, scope_for
from station_portal.db import claim_next_version, utcnow
from station_portal.errors import Conflict, Forbidden, NotFound, ValidationFailed
from station_portal.gridworks.queries import held_by_open_project, with_grid_works
from station_portal.i18n import _
from station_portal.labels import REPAIR_STATUSES, label
from station_portal.org.matrix import load_matrix
from station_portal.org.models import Client, Crew, Unit, UnitKind
from station_portal.org.territory import InvalidLocation, TerritoryIndex
from station_portal.org.tree import ancestor_ids
from station_portal.sla.classes import (
    CUSTOMER_TYPES,
    SUPPLY_CLASS,
    is_high_voltage,
)
from station_portal.sla.rules import RuleError, RuleSet
from station_portal.sla.stages import CUSTOMER, stage_book
from station_portal.timefmt import local
from station_portal.validate import as_id, has_control_chars
from station_portal.workorders import clocks
from station_portal.workorders.access import sees_order
from station_portal.workorders.models import (
    PARK_MILESTONES,
    PAUSE_HOLDER,
    ApplicationStatus,
    BusinessType,
    ClockPause,
    Kind,
    OrderAssignment,
    ParkStatus,
    ParkVisit,
    PauseReason,
    RepairCategory,
    RepairSource,
    StageClock,
    WorkOrder,
    WorkOrderEvent,
)
from station_portal.workorders.models import RepairStatus as RS
from station_portal.workorders.states import REPAIR_STEP_ACTION, InvalidTransition, repair_step

PHONE_RE = re.compile(r"^[0-9+\- ()]{5,20}$")
# A time reported from the field may lag (a bad connection) but not run ahead.
CLOCK_SKEW = timedelta(minutes=2)
# A step reported from the field may arrive late (no connection), but not this late.
MAX_STEP_LAG = timedelta(days=1)
CODE_PREFIX = {Kind.REPAIR: "R", Kind.APPLICATION: "A", Kind.PARK_CASE: "P"}


# -- shared helpers -------------------------------------------------------------------

def _actor_scope(session: Session, actor: User | None) -> Scope | None:
    return scope_for(session, actor) if actor is not None else None


def _require_action(actor: User | None, action: str) -> None:
    if actor is not None and not load_matrix().may(actor.role, action):
        raise Forbidden(_("Your role may not do this."))


def _load_order(session: Session, actor: User | None, order_id: object, kind: Kind | None = None,
                *, lock_version: object = None, need_version: bool = True) -> WorkOrder:
    """The order if it exists and is in the actor's scope (same answer otherwise: NotFound)."""
    oid = as_id(order_id)
    order = session.get(WorkOrder, oid, options=[selectinload(WorkOrder.clocks),
                                                 selectinload(WorkOrder.pauses)]) \
        if oid is not None else None
    scope = _actor_scope(session, actor)
    if order is None or (kind is not None and order.kind != kind) or \
            (scope is not None and not sees_order(scope, order)):
        raise NotFound(_("There is no such work order in your area."))
    if need_version:
        seen = as_id(lock_version)
        if actor is not None and seen is None:
            raise _conflict()
        if seen is not None and seen != order.version:
            raise _conflict()
    return order


def _conflict() -> Conflict:
    return Conflict(_("Someone else changed this work order a moment ago. "
                      "The page now shows its current state; check it and try again."))


def _claim(session: Session, order: WorkOrder) -> None:
    if not claim_next_version(session, order):
        raise _conflict()


def _when(at: object, now: datetime, earliest: datetime | None) -> datetime:
    """The time a step happened: given (from the field) or now; never ahead, never before the last step."""
    if at is None:
        when = now
    elif isinstance(at, datetime) and at.tzinfo is not None:
        when = at
    else:
        raise ValidationFailed({"at": _("Give the time with its time zone.")})
    if when > now + CLOCK_SKEW:
        raise ValidationFailed({"at": _("This time lies in the future.")})
    if when < now - MAX_STEP_LAG:
        raise ValidationFailed({"at": _("This time is not within the last day.")})
    if earliest is not None and when < earliest:
        raise ValidationFailed({"at": _("This time lies before the previous step.")})
    return when


def _text(value: object, field: str, max_len: int, errors: dict[str, str], *,
          required: bool = False) -> str:
    if value is None:
        value = ""
    if not isinstance(value, str) or has_control_chars(value) or len(value.strip()) > max_len:
        errors[field] = _("At most %(n)s characters of plain text.", n=max_len)
        return ""
    value = value.strip()
    if required and not value:
        errors[field] = _("This field is required.")
    return value


def _choice(value: object, options: type, field: str, errors: dict[str, str]) -> str:
    allowed = {o.value for o in options}
    if value not in allowed:
        errors[field] = _("Choose one of the listed values.")
        return ""
    return str(value)


def _event(session: Session, order: WorkOrder, actor: User | None, action: str, at: datetime, *,
           from_value: object = None, to_value: object = None, reason: str = "",
           details: dict[str, Any] | None = None, client_key: str | None = None) -> None:
    session.add(WorkOrderEvent(
        work_order_id=order.id, at=at, actor_id=actor.id if actor else None, action=action,
        from_value=None if from_value is None else str(from_value)[:64],
        to_value=None if to_value is None else str(to_value)[:64],
        reason=reason[:300], details=details, client_key=client_key,
    ))
    order.updated_at = utcnow()  # every change in the timeline is a change the dashboards see


CLIENT_KEY_RE = re.compile(r"^[A-Za-z0-9_-]{8,64}$")


def _client_key(value: object) -> str | None:
    if value in (None, ""):
        return None
    if not isinstance(value, str) or not CLIENT_KEY_RE.match(value):
        raise ValidationFailed({"client_key": _(
            "The action key has 8 to 64 letters, digits, '-' or '_'.")})
    return value


def already_applied(session: Session, actor: User | None, order_id: object,
                    client_key: str | None, action: str) -> WorkOrder | None:
    """The order, if this very step was applied before with this key (a phone retrying)."""
    if client_key is None:
        return None
    done = session.execute(select(WorkOrderEvent.work_order_id, WorkOrderEvent.action)
                           .where(WorkOrderEvent.client_key == client_key)).first()
    if done is None:
        return None
    order = _load_order(session, actor, order_id, need_version=False)
    if done.work_order_id != order.id:
        raise ValidationFailed({"client_key": _("This action key belongs to another order.")})
    if done.action != action:
        raise ValidationFailed({"client_key": _("This action key was used for another step.")})
    return order


def _refresh(order: WorkOrder, now: datetime) -> None:
    clocks.refresh_now(order, now)
    order.updated_at = now


@dataclass(frozen=True)
class Site:
    unit_id: int
    area_type: str
    rural: bool


def _route(session: Session, lat: object, lon: object, errors: dict[str, str],
           index: TerritoryIndex | None = None) -> Site | None:
    try:
        routed = (index or TerritoryIndex.load(session)).route_location(lat, lon)
    except InvalidLocation:
        errors["location"] = _("Give the location as latitude and longitude.")
        return None
    if routed is None:
        errors["location"] = _("This location lies outside the service territory.")
        return None
    return Site(routed.unit_id, routed.area_type or "urban", routed.kind == UnitKind.GRID)


def _check_site_in_scope(session: Session, actor: User | None, site: Site) -> None:
    scope = _actor_scope(session, actor)
    if scope is not None and scope.role is not Role.ACCOUNT_MANAGER and not scope.sees_unit(site.unit_id):
        raise ValidationFailed({"location": _("This location lies outside your area.")})


def _new_code(session: Session, order: WorkOrder, when: datetime) -> None:
    session.flush()  # the id makes the code unique
    order.code = f"{CODE_PREFIX[Kind(order.kind)]}{local(when).strftime('%Y%m%d')}{order.id:07d}"


def holder_unit(session: Session, territory_unit_id: int, kinds: tuple[str, ...]) -> int | None:
    """The unit of one of ``kinds`` nearest the territory unit: itself, its groups, then up."""
    unit = session.get(Unit, territory_unit_id)
    if unit is None:
        return None
    chain = [session.get(Unit, i) for i in reversed(ancestor_ids(unit.path))]  # self first
    for kind in kinds:
        for level in chain:
            if level is None:
                continue
            if level.kind == kind:
                return level.id
            for child in level.children:
                if child.kind == kind:
                    return child.id
    return None


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
    _require_action(actor, "create_repair")
    now = now or utcnow()
    errors: dict[str, str] = {}
    source = _choice(data.source, RepairSource, "source", errors)
    category = _choice(data.category, RepairCategory, "category", errors)
    if data.urgency not in (1, 2, 3):
        errors["urgency"] = _("Choose one of the listed values.")
    address = _text(data.address, "address", 200, errors, required=True)
    name = _text(data.customer_name, "customer_name", 80, errors)
    phone = _text(data.customer_phone, "customer_phone", 32, errors)
    if phone and not PHONE_RE.match(phone):
        errors["customer_phone"] = _("Enter a phone number.")
    description = _text(data.description, "description", 500, errors)
    reported = now
    if data.reported_at is not None:
        try:
            reported = _when(data.reported_at, now, None)
        except ValidationFailed as exc:
            errors["reported_at"] = exc.fields["at"]
    site = _route(session, data.lat, data.lon, errors, index)
    client_id = _client(session, data.client_id, errors)
    if errors:
        raise ValidationFailed(errors)
    assert site is not None
    _check_site_in_scope(session, actor, site)
    try:
        rules = RuleSet.in_force(local(reported).date())
    except RuleError as exc:
        raise ValidationFailed({"reported_at": _(
            "No time-limit rules are in force on that date.")}) from exc
    order = WorkOrder(
        code="", kind=Kind.REPAIR.value, status=RS.REPORTED.value, unit_id=site.unit_id,
        holder="unit", holder_unit_id=holder_unit(session, site.unit_id, (
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
    session.add(order)
    _new_code(session, order, reported)
    _refresh(order, now)
    _event(session, order, actor, "created", reported, to_value=RS.REPORTED.value,
           details={"source": source, "category": category, "urgency": data.urgency})
    return order


def _client(session: Session, client_id: object, errors: dict[str, str]) -> int | None:
    if client_id in (None, ""):
        return None
    cid = as_id(client_id)
    if cid is None or session.get(Client, cid) is None:
        errors["client_id"] = _("Choose a client from the list.")
        return None
    return cid


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
    _require_action(actor, REPAIR_STEP_ACTION[action])
    key = _client_key(client_key)
    repeated = already_applied(session, actor, order_id, key, action)
    if repeated is not None:
        return repeated
    order = _load_order(session, actor, order_id, Kind.REPAIR, lock_version=version,
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
    reason = _text(reason, "reason", 300, errors)
    if action in ("cancel", "transfer") and not reason:
        errors["reason"] = _("Say why.")
    latest = max(t for t in (order.created_at, order.dispatched_at, order.accepted_at,
                             order.en_route_at, order.on_site_at, order.restored_at) if t)
    when = _when(at, now, latest)
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
    _claim(session, order)
    before = order.status
    _book_assignments(session, order, actor, action, crew.id if action == "dispatch" else None, when)
    if action == "dispatch":
        order.crew_id = crew.id
        order.accepted_at = order.en_route_at = None  # a new crew accepts afresh
    if action == "transfer":
        assert target_unit is not None
        details = {"from_unit": order.unit_id, "to_unit": target_unit.id}
        order.unit_id = target_unit.id
        order.holder_unit_id = holder_unit(session, target_unit.id, (
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
    _refresh(order, now)
    _event(session, order, actor, action, when, from_value=before, to_value=order.status,
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


# -- connection applications ------------------------------------------------------------

@dataclass(frozen=True)
class ApplicationInput:
    """What an applicant states; the utility decides the class from it (``StageBook.classify``)."""

    business_type: str
    customer_type: str  # "resident" or "non_resident"
    load_kw: float  # the load asked for, in kW
    customer_name: str
    lat: float
    lon: float
    small_firm: bool = False  # a small or micro firm (小微企业), for a non-resident
    capacity_kva: float | None = None  # transformer capacity in kVA (high voltage), if known
    address: str = ""
    customer_phone: str = ""
    important: bool = False
    description: str = ""
    client_id: int | None = None
    applied_at: datetime | None = None
    # Taken at a counter: the applicant came once (the "counter visits" KPI; online: 0).
    at_counter: bool = False


def _amount(value: object, limit: float) -> float | None:
    if not isinstance(value, int | float) or isinstance(value, bool) or not 0 < value <= limit:
        return None
    return float(value)


def create_application(session: Session, actor: User | None, data: ApplicationInput, *,
                       accept: bool = True, now: datetime | None = None,
                       index: TerritoryIndex | None = None) -> WorkOrder:
    """A connection application with its stage path; accepted at once when taken at a counter.

    The class is the utility's: low or high voltage from the load, the three-zeros path
    for small firms, single supply for high voltage until the supply plan says otherwise.
    """
    _require_action(actor, "create_application")
    now = now or utcnow()
    errors: dict[str, str] = {}
    business = _choice(data.business_type, BusinessType, "business_type", errors)
    if data.customer_type not in CUSTOMER_TYPES:
        errors["customer_type"] = _("Choose one of the listed values.")
    load = _amount(data.load_kw, 100_000)
    if load is None:
        errors["load_kw"] = _("Give the load in kW (more than 0, at most 100,000).")
    capacity = None if data.capacity_kva in (None, "") else _amount(data.capacity_kva, 100_000)
    if data.capacity_kva not in (None, "") and capacity is None:
        errors["capacity_kva"] = _("Give the transformer capacity in kVA (more than 0, "
                                   "at most 100,000), or leave it empty.")
    name = _text(data.customer_name, "customer_name", 80, errors, required=True)
    phone = _text(data.customer_phone, "customer_phone", 32, errors)
    if phone and not PHONE_RE.match(phone):
        errors["customer_phone"] = _("Enter a phone number.")
    address = _text(data.address, "address", 200, errors, required=True)
    description = _text(data.description, "description", 500, errors)
    applied = now
    if data.applied_at is not None:
        try:
            applied = _when(data.applied_at, now, None)
        except ValidationFailed as exc:
            errors["applied_at"] = exc.fields["at"]
    site = _route(session, data.lat, data.lon, errors, index)
    client_id = _client(session, data.client_id, errors)
    if errors:
        raise ValidationFailed(errors)
    assert site is not None and load is not None
    _check_site_in_scope(session, actor, site)
    book = stage_book()
    customer_class = book.classify(customer_type=data.customer_type, load_kw=load,
                                   small_firm=bool(data.small_firm))
    path = book.path_for(business, customer_class, important=bool(data.important))
    high_voltage = is_high_voltage(customer_class)
    order = WorkOrder(
        code="", kind=Kind.APPLICATION.value, status=ApplicationStatus.PENDING.value,
        unit_id=site.unit_id, area_type=site.area_type, lat=float(data.lat), lon=float(data.lon),
        address=address, customer_name=name, customer_phone=phone, description=description,
        client_id=client_id, created_at=applied, updated_at=now, business_type=business,
        customer_class=customer_class, important=bool(data.important), load_kw=load,
        capacity_kva=capacity, current_stage=path[0],
        counter_visits=1 if data.at_counter else 0,
    )
    stage_clocks = []
    for seq, code in enumerate(path, start=1):
        stage = book.stage(code)
        unit = None if stage.holder == CUSTOMER else holder_unit(
            session, site.unit_id, stage.unit_kinds(high_voltage=high_voltage, rural=site.rural))
        stage_clocks.append(StageClock(seq=seq, stage=code,
                                       holder="customer" if stage.holder == CUSTOMER else "unit",
                                       holder_unit_id=unit))
    stage_clocks.append(StageClock(seq=len(path) + 1, stage="total", holder="unit",
                                   holder_unit_id=None))
    first = stage_clocks[0]
    first.entered_at = first.started_at = applied
    order.clocks = stage_clocks
    order.holder, order.holder_unit_id = first.holder, first.holder_unit_id
    session.add(order)
    _new_code(session, order, applied)
    _refresh(order, now)
    _event(session, order, actor, "created", applied, to_value=order.status,
           details={"class": customer_class, "business": business, "path": path,
                    "load_kw": load, "customer_type": data.customer_type,
                    "small_firm": bool(data.small_firm)})
    if accept:
        accept_application(session, actor, order.id, order.version, at=applied, now=now)
    return order


def accept_application(session: Session, actor: User | None, order_id: object, version: object,
                       *, note: str = "", at: object = None, now: datetime | None = None) -> WorkOrder:
    """Acceptance (受理): the rule set in force today is fixed, the clocks start."""
    _require_action(actor, "accept_application")
    now = now or utcnow()
    order = _load_order(session, actor, order_id, Kind.APPLICATION, lock_version=version)
    if order.status != ApplicationStatus.PENDING:
        raise ValidationFailed({"action": _("This application is already accepted.")})
    when = _when(at, now, order.created_at)
    try:
        rules = RuleSet.in_force(local(when).date())
    except RuleError as exc:
        raise ValidationFailed({"at": _("No time-limit rules are in force on that date.")}) from exc
    _claim(session, order)
    order.accepted_at = when
    order.status = ApplicationStatus.IN_PROGRESS.value
    clocks.apply_rule_set(order, rules, when)
    _event(session, order, actor, "accepted", when, from_value=ApplicationStatus.PENDING.value,
           to_value=ApplicationStatus.IN_PROGRESS.value, reason=_clean_note(note),
           details={"rule_set": rules.id})
    _finish_stage(session, order, actor, when, note="", now=now)
    return order


def _clean_note(note: object) -> str:
    errors: dict[str, str] = {}
    value = _text(note, "note", 300, errors)
    if errors:
        raise ValidationFailed(errors)
    return value


def _current_clock(order: WorkOrder) -> StageClock:
    for clock in order.clocks:
        if clock.stage == order.current_stage and clock.ended_at is None:
            return clock
    raise ValidationFailed({"action": _("This application has no open stage.")})


def _finish_stage(session: Session, order: WorkOrder, actor: User | None, when: datetime,
                  note: str, now: datetime) -> None:
    """Close the current stage and open the next (or complete the application)."""
    current = _current_clock(order)
    current.ended_at = when
    book = stage_book()
    if current.stage == book.total_end([c.stage for c in order.clocks if c.stage != "total"]):
        for clock in order.clocks:
            if clock.stage == "total":
                clock.ended_at = when
    stages = [c for c in order.clocks if c.stage != "total"]
    following = [c for c in stages if c.seq > current.seq]
    _event(session, order, actor, "stage_done", when, from_value=current.stage,
           to_value=following[0].stage if following else ApplicationStatus.COMPLETED.value,
           reason=note)
    if following:
        nxt = following[0]
        nxt.entered_at = when
        if nxt.started_at is None:
            nxt.started_at = when
        order.current_stage = nxt.stage
        order.holder, order.holder_unit_id = nxt.holder, nxt.holder_unit_id
    else:
        order.current_stage = None
        order.status = ApplicationStatus.COMPLETED.value
        order.closed_at = when
        order.holder, order.holder_unit_id = "unit", None
    _refresh(order, now)


def advance_stage(session: Session, actor: User | None, order_id: object, version: object, *,
                  note: str = "", at: object = None, supply: object = None,
                  now: datetime | None = None) -> WorkOrder:
    """The current stage is done; the next one starts (its clock as the rules say).

    ``supply`` ("single" or "dual"), given when a high-voltage supply plan is answered,
    is the utility's decision of the class: dual supply takes the dual-supply limits.
    """
    _require_action(actor, "advance_stage")
    now = now or utcnow()
    order = _load_order(session, actor, order_id, Kind.APPLICATION, lock_version=version)
    if order.status == ApplicationStatus.PENDING:
        return accept_application(session, actor, order.id, version, note=note, at=at, now=now)
    if order.status != ApplicationStatus.IN_PROGRESS:
        raise ValidationFailed({"action": _("This application is closed.")})
    if order.paused:
        raise ValidationFailed({"action": _("Resume the paused clock first.")})
    current = _current_clock(order)
    if actor is not None and actor.role not in stage_book().stage(current.stage).roles:
        raise Forbidden(_("Your role may not complete this stage."))
    decided = _supply_decision(order, current.stage, supply)
    if current.stage == stage_book().total_end([c.stage for c in order.clocks
                                                if c.stage != "total"]) \
            and waits_on_grid_works(session, order.id):
        raise ValidationFailed({"action": _(
            "This application waits on grid works: connect it when the project is energised, "
            "or unlink it from the project if the works are not needed (Grid works page).")})
    when = _when(at, now, current.entered_at)
    note = _clean_note(note)
    _claim(session, order)
    if decided is not None and decided != order.customer_class:
        before = order.customer_class
        order.customer_class = decided
        clocks.apply_rule_set(order, RuleSet.by_id(order.ruleset_id or ""), None,
                              grid_works=with_grid_works(session, order.id))
        _event(session, order, actor, "class_decided", when, from_value=before, to_value=decided,
               reason=_("Decided in the supply plan."))
    _finish_stage(session, order, actor, when, note, now)
    return order


def _supply_decision(order: WorkOrder, stage: str, supply: object) -> str | None:
    """The class a supply plan decides (None: no decision with this step)."""
    if supply in (None, ""):
        return None
    if stage != "supply_plan" or not is_high_voltage(order.customer_class):
        raise ValidationFailed({"supply": _(
            "Single or dual supply is decided with a high-voltage supply plan.")})
    if supply not in SUPPLY_CLASS:
        raise ValidationFailed({"supply": _("Choose one of the listed values.")})
    return SUPPLY_CLASS[str(supply)]


def pause(session: Session, actor: User | None, order_id: object, version: object, reason: str, *,
          note: str = "", at: object = None, now: datetime | None = None) -> WorkOrder:
    """Stop the application's clocks for a reason outside the utility's hands."""
    _require_action(actor, "advance_stage")
    now = now or utcnow()
    order = _load_order(session, actor, order_id, Kind.APPLICATION, lock_version=version)
    errors: dict[str, str] = {}
    reason_value = _choice(reason, PauseReason, "reason", errors)
    if reason_value == PauseReason.GRID_WORKS:
        errors["reason"] = _("Grid works do not stop the clocks: link the application to its "
                             "project on the Grid works page; the rule set says what applies.")
    note = _text(note, "note", 300, errors)
    if order.status != ApplicationStatus.IN_PROGRESS:
        errors["action"] = _("Only an application in progress can be paused.")
    elif order.paused:
        errors["action"] = _("The clock is already paused.")
    if errors:
        raise ValidationFailed(errors)
    last_pause_end = max((p.ended_at for p in order.pauses if p.ended_at), default=None)
    when = _when(at, now, max(t for t in (_current_clock(order).entered_at, last_pause_end) if t))
    _claim(session, order)
    order.pauses.append(ClockPause(reason=reason_value, started_at=when, note=note))
    order.holder, order.holder_unit_id = PAUSE_HOLDER[PauseReason(reason_value)], None
    _refresh(order, now)
    _event(session, order, actor, "paused", when, to_value=reason_value, reason=note)
    return order


def resume(session: Session, actor: User | None, order_id: object, version: object, *,
           note: str = "", at: object = None, now: datetime | None = None) -> WorkOrder:
    _require_action(actor, "advance_stage")
    now = now or utcnow()
    order = _load_order(session, actor, order_id, Kind.APPLICATION, lock_version=version)
    open_pause = next((p for p in order.pauses
                       if p.ended_at is None and clocks.stops_clocks(p.reason)), None)
    if open_pause is None:
        raise ValidationFailed({"action": _("The clock is not paused.")})
    note = _clean_note(note)
    when = _when(at, now, open_pause.started_at)
    _claim(session, order)
    open_pause.ended_at = when
    current = _current_clock(order)
    order.holder, order.holder_unit_id = current.holder, current.holder_unit_id
    _refresh(order, now)
    _event(session, order, actor, "resumed", when, from_value=open_pause.reason, reason=note)
    return order


def waits_on_grid_works(session: Session, order_id: int) -> bool:
    """Whether an open grid-works project holds the application now."""
    return held_by_open_project(session, order_id)


def set_grid_works_wait(session: Session, actor: User | None, order: WorkOrder, *, waiting: bool,
                        note: str, now: datetime) -> WorkOrder:
    """The application starts or stops waiting on supporting grid works.

    Never a pause: the clocks run on. While the application needs grid works (linked to
    an open or energised project: ``gridworks.queries.with_grid_works``) the rule set's
    grid-works rule for the class applies to the whole-process limit (a separate limit,
    an extension, or nothing); an unlink or a cancelled project takes it back. The
    waiting time is recorded for the delay attribution (held by grid works). Called by
    the grid-works services, after they changed the link or the project, which check
    the actor's rights on the project.
    """
    _claim(session, order)
    rules = RuleSet.by_id(order.ruleset_id) if order.ruleset_id else None
    total = next((c for c in order.clocks if c.stage == "total"), None)
    before = total.limit_amount if total is not None else None
    if waiting:
        order.pauses.append(ClockPause(reason=PauseReason.GRID_WORKS.value, started_at=now,
                                       note=note[:300]))
    else:
        for p in order.pauses:
            if p.ended_at is None and p.reason == PauseReason.GRID_WORKS:
                p.ended_at = now
    if rules is not None and total is not None and total.ended_at is None:
        clocks.apply_rule_set(order, rules, None, grid_works=with_grid_works(session, order.id))
    _refresh(order, now)
    rule = rules.grid_works_rule(order.customer_class or "") if rules else None
    after = total.limit_amount if total is not None else None
    moved = before != after  # the whole-process limit, when the rule changed it
    _event(session, order, actor, "grid_works_waiting" if waiting else "grid_works_done", now,
           from_value=f"{before:g}" if moved and before is not None else None,
           to_value=f"{after:g}" if moved and after is not None else None, reason=note[:300],
           details={"rule": rule.rule if rule else None, "source": rule.source if rule else ""})
    return order


def cancel_application(session: Session, actor: User | None, order_id: object, version: object,
                       reason: str, *, now: datetime | None = None) -> WorkOrder:
    _require_action(actor, "accept_application")
    now = now or utcnow()
    order = _load_order(session, actor, order_id, Kind.APPLICATION, lock_version=version)
    errors: dict[str, str] = {}
    reason = _text(reason, "reason", 300, errors, required=True)
    if order.status in (ApplicationStatus.COMPLETED, ApplicationStatus.CANCELLED):
        errors["action"] = _("This application is closed.")
    if errors:
        raise ValidationFailed(errors)
    _claim(session, order)
    before = order.status
    for p in order.pauses:
        if p.ended_at is None:
            p.ended_at = now
    for clock in order.clocks:
        if clock.started_at is not None and clock.ended_at is None:
            clock.ended_at = now
    order.status, order.closed_at, order.current_stage = ApplicationStatus.CANCELLED.value, now, None
    _refresh(order, now)
    _event(session, order, actor, "cancelled", now, from_value=before, to_value=order.status,
           reason=reason)
    return order


# -- notes (any kind) ------------------------------------------------------------------

def add_note(session: Session, actor: User | None, order_id: object, note: str, *,
             now: datetime | None = None, client_key: object = None) -> WorkOrder:
    """A remark on the timeline; it changes no field, so it needs no version.

    Sent again with the same ``client_key`` (a phone retrying), it is not added twice.
    """
    _require_action(actor, "add_note")
    now = now or utcnow()
    key = _client_key(client_key)
    repeated = already_applied(session, actor, order_id, key, "note")
    if repeated is not None:
        return repeated
    order = _load_order(session, actor, order_id, need_version=False)
    errors: dict[str, str] = {}
    text = _text(note, "note", 300, errors, required=True)
    if errors:
        raise ValidationFailed(errors)
    _event(session, order, actor, "note", now, reason=text, client_key=key)
    return order


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
    _require_action(actor, "manage_park_cases")
    now = now or utcnow()
    errors: dict[str, str] = {}
    client = session.get(Client, as_id(data.client_id)) if as_id(data.client_id) else None
    scope = _actor_scope(session, actor)
    if client is None or (scope is not None and not scope.sees_client(client.id)):
        errors["client_id"] = _("Choose one of your clients.")
    load = data.projected_load_kw
    if not isinstance(load, int | float) or isinstance(load, bool) or not 0 < load <= 1_000_000:
        errors["projected_load_kw"] = _("Give the projected load in kW (more than 0).")
    if not isinstance(data.projected_date, date) or data.projected_date < now.date() - timedelta(days=3650):
        errors["projected_date"] = _("Give the date the load is expected.")
    description = _text(data.description, "description", 500, errors)
    plan = data.milestone_plan or {}
    if set(plan) - set(PARK_MILESTONES) or not all(isinstance(v, datetime) and v.tzinfo
                                                   for v in plan.values()):
        errors["milestone_plan"] = _("Plan the milestones with dates.")
    if errors:
        raise ValidationFailed(errors)
    assert client is not None
    order = WorkOrder(
        code="", kind=Kind.PARK_CASE.value, status=ParkStatus.OPEN.value, unit_id=client.unit_id,
        holder="unit", holder_unit_id=holder_unit(session, client.unit_id,
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
    _new_code(session, order, now)
    if data.visit_planned_for is not None:
        session.add(ParkVisit(work_order_id=order.id, client_id=client.id,
                              planned_for=data.visit_planned_for, user_id=order.owner_user_id))
    _refresh(order, now)
    _event(session, order, actor, "created", now, to_value=order.status,
           details={"client": client.code, "load_kw": float(load)})
    return order


def complete_milestone(session: Session, actor: User | None, order_id: object, version: object,
                       milestone: str, *, note: str = "", application_id: object = None,
                       at: object = None, now: datetime | None = None) -> WorkOrder:
    """A milestone of a park case is done; the formal application links the case to it."""
    _require_action(actor, "manage_park_cases")
    now = now or utcnow()
    order = _load_order(session, actor, order_id, Kind.PARK_CASE, lock_version=version)
    clock = next((c for c in order.clocks if c.stage == milestone), None)
    errors: dict[str, str] = {}
    if clock is None:
        errors["milestone"] = _("Choose one of the listed values.")
    elif clock.ended_at is not None:
        errors["milestone"] = _("This milestone is already done.")
    note = _text(note, "note", 300, errors)
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
    when = _when(at, now, order.created_at)
    _claim(session, order)
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
    _refresh(order, now)
    _event(session, order, actor, "milestone_done", when, to_value=milestone, reason=note,
           details={"application": linked.code} if linked else None)
    return order


def plan_visit(session: Session, actor: User | None, order_id: object, planned_for: object, *,
               note: str = "", now: datetime | None = None) -> ParkVisit:
    _require_action(actor, "manage_park_cases")
    now = now or utcnow()
    order = _load_order(session, actor, order_id, Kind.PARK_CASE, need_version=False)
    errors: dict[str, str] = {}
    if not isinstance(planned_for, datetime) or planned_for.tzinfo is None:
        errors["planned_for"] = _("Give the date of the visit.")
    note = _text(note, "note", 500, errors)
    if errors:
        raise ValidationFailed(errors)
    visit = ParkVisit(work_order_id=order.id, client_id=order.client_id, planned_for=planned_for,
                      user_id=actor.id if actor else order.owner_user_id, note=note)
    session.add(visit)
    _event(session, order, actor, "visit_planned", now,
           to_value=local(planned_for).strftime("%Y-%m-%d %H:%M"), reason=note)
    return visit


def record_visit(session: Session, actor: User | None, order_id: object, visit_id: object, *,
                 note: str = "", at: object = None, now: datetime | None = None) -> ParkVisit:
    _require_action(actor, "manage_park_cases")
    now = now or utcnow()
    order = _load_order(session, actor, order_id, Kind.PARK_CASE, need_version=False)
    visit = session.get(ParkVisit, as_id(visit_id)) if as_id(visit_id) else None
    if visit is None or visit.work_order_id != order.id:
        raise NotFound(_("There is no such visit."))
    errors: dict[str, str] = {}
    note = _text(note, "note", 500, errors)
    if errors:
        raise ValidationFailed(errors)
    done_at = _when(at, now, None)
    # Recorded once: of two people recording it at the same moment, one wins.
    recorded = session.execute(
        update(ParkVisit).where(ParkVisit.id == visit.id, ParkVisit.done_at.is_(None))
        .values(done_at=done_at, note=note or visit.note)
        .execution_options(synchronize_session=False)
    ).rowcount
    if recorded != 1:
        raise ValidationFailed({"visit": _("This visit is already recorded.")})
    session.refresh(visit)
    _event(session, order, actor, "visit_done", done_at, reason=note)
    return visit


# -- the system ------------------------------------------------------------------------

def recompute_open_clocks(session: Session, *, now: datetime | None = None,
                          batch: int = 500) -> int:
    """Recompute the clocks of every open order (after the calendar or a rule file changed).

    An order whose due times moved claims a new version and gets a timeline event
    saying so; the others are left untouched. Returns how many changed.
    """
    now = now or utcnow()
    changed = 0
    last_id = 0
    while True:
        orders = session.scalars(
            select(WorkOrder).where(WorkOrder.closed_at.is_(None), WorkOrder.id > last_id)
            .options(selectinload(WorkOrder.clocks), selectinload(WorkOrder.pauses))
            .order_by(WorkOrder.id).limit(batch)).all()
        if not orders:
            return changed
        for order in orders:
            before = [(c.due_at, c.provisional) for c in order.clocks]
            clocks.refresh_now(order, now)
            after = [(c.due_at, c.provisional) for c in order.clocks]
            if before != after:
                _claim(session, order)
                order.updated_at = now
                _event(session, order, None, "clocks_recomputed", now,
                       reason="calendar or time-limit rules changed",
                       details={"moved": sum(1 for a, b in zip(before, after, strict=True)
                                             if a != b)})
                changed += 1
        last_id = orders[-1].id
        session.flush()
