"""Use cases of connection applications (业扩报装): create, accept, move along the
stage path, pause and resume the clocks, wait on grid works, cancel.

Every change checks the actor's role and scope (``actor`` None is the system), claims
the order's next version, recomputes the clocks and writes the timeline event in the
same transaction (``services.changes``). Invalid steps and bad values raise and change
nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import Session

from station_portal.auth.models import User
from station_portal.db import utcnow
from station_portal.errors import Forbidden, ValidationFailed
from station_portal.gridworks.queries import held_by_open_project, with_grid_works
from station_portal.i18n import _
from station_portal.org.territory import TerritoryIndex
from station_portal.services import orders
from station_portal.services.changes import (
    claim_version,
    load_order,
    one_of,
    plain_text,
    record_event,
    refresh_clocks,
    require_action,
    step_time,
)
from station_portal.sla.classes import (
    CUSTOMER_TYPES,
    SUPPLY_CLASS,
    is_high_voltage,
)
from station_portal.sla.rules import RuleError, RuleSet
from station_portal.sla.stages import CUSTOMER, stage_book
from station_portal.timefmt import local
from station_portal.workorders import clocks
from station_portal.workorders.models import (
    PAUSE_HOLDER,
    ApplicationStatus,
    BusinessType,
    ClockPause,
    Kind,
    PauseReason,
    StageClock,
    WorkOrder,
)

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
    require_action(actor, "create_application")
    now = now or utcnow()
    errors: dict[str, str] = {}
    business = one_of(data.business_type, BusinessType, "business_type", errors)
    if data.customer_type not in CUSTOMER_TYPES:
        errors["customer_type"] = _("Choose one of the listed values.")
    load = _amount(data.load_kw, 100_000)
    if load is None:
        errors["load_kw"] = _("Give the load in kW (more than 0, at most 100,000).")
    capacity = None if data.capacity_kva in (None, "") else _amount(data.capacity_kva, 100_000)
    if data.capacity_kva not in (None, "") and capacity is None:
        errors["capacity_kva"] = _("Give the transformer capacity in kVA (more than 0, "
                                   "at most 100,000), or leave it empty.")
    name = plain_text(data.customer_name, "customer_name", 80, errors, required=True)
    phone = plain_text(data.customer_phone, "customer_phone", 32, errors)
    if phone and not orders.PHONE_RE.match(phone):
        errors["customer_phone"] = _("Enter a phone number.")
    address = plain_text(data.address, "address", 200, errors, required=True)
    description = plain_text(data.description, "description", 500, errors)
    applied = now
    if data.applied_at is not None:
        try:
            applied = step_time(data.applied_at, now, None)
        except ValidationFailed as exc:
            errors["applied_at"] = exc.fields["at"]
    site = orders.route_site(session, data.lat, data.lon, errors, index)
    client_id = orders.client_of(session, data.client_id, errors)
    if errors:
        raise ValidationFailed(errors)
    assert site is not None and load is not None
    orders.check_site_in_scope(session, actor, site)
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
        unit = None if stage.holder == CUSTOMER else orders.holder_unit(
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
    orders.link_area(session, order, site.unit_id, applied)
    session.add(order)
    orders.new_code(session, order, applied)
    refresh_clocks(order, now)
    record_event(session, order, actor, "created", applied, to_value=order.status,
                 details={"class": customer_class, "business": business, "path": path,
                          "load_kw": load, "customer_type": data.customer_type,
                          "small_firm": bool(data.small_firm)})
    if accept:
        accept_application(session, actor, order.id, order.version, at=applied, now=now)
    return order


def accept_application(session: Session, actor: User | None, order_id: object, version: object,
                       *, note: str = "", at: object = None, now: datetime | None = None) -> WorkOrder:
    """Acceptance (受理): the rule set in force today is fixed, the clocks start."""
    require_action(actor, "accept_application")
    now = now or utcnow()
    order = load_order(session, actor, order_id, Kind.APPLICATION, lock_version=version)
    if order.status != ApplicationStatus.PENDING:
        raise ValidationFailed({"action": _("This application is already accepted.")})
    when = step_time(at, now, order.created_at)
    try:
        rules = RuleSet.in_force(local(when).date())
    except RuleError as exc:
        raise ValidationFailed({"at": _("No time-limit rules are in force on that date.")}) from exc
    claim_version(session, order)
    order.accepted_at = when
    order.status = ApplicationStatus.IN_PROGRESS.value
    clocks.apply_rule_set(order, rules, when)
    record_event(session, order, actor, "accepted", when, from_value=ApplicationStatus.PENDING.value,
                 to_value=ApplicationStatus.IN_PROGRESS.value, reason=_clean_note(note),
                 details={"rule_set": rules.id})
    _finish_stage(session, order, actor, when, note="", now=now)
    return order


def _clean_note(note: object) -> str:
    errors: dict[str, str] = {}
    value = plain_text(note, "note", 300, errors)
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
    record_event(session, order, actor, "stage_done", when, from_value=current.stage,
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
    refresh_clocks(order, now)


def advance_stage(session: Session, actor: User | None, order_id: object, version: object, *,
                  note: str = "", at: object = None, supply: object = None,
                  now: datetime | None = None) -> WorkOrder:
    """The current stage is done; the next one starts (its clock as the rules say).

    ``supply`` ("single" or "dual"), given when a high-voltage supply plan is answered,
    is the utility's decision of the class: dual supply takes the dual-supply limits.
    """
    require_action(actor, "advance_stage")
    now = now or utcnow()
    order = load_order(session, actor, order_id, Kind.APPLICATION, lock_version=version)
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
    when = step_time(at, now, current.entered_at)
    note = _clean_note(note)
    claim_version(session, order)
    if decided is not None and decided != order.customer_class:
        before = order.customer_class
        order.customer_class = decided
        clocks.apply_rule_set(order, RuleSet.by_id(order.ruleset_id or ""), None,
                              grid_works=with_grid_works(session, order.id))
        record_event(session, order, actor, "class_decided", when, from_value=before, to_value=decided,
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
    require_action(actor, "advance_stage")
    now = now or utcnow()
    order = load_order(session, actor, order_id, Kind.APPLICATION, lock_version=version)
    errors: dict[str, str] = {}
    reason_value = one_of(reason, PauseReason, "reason", errors)
    if reason_value == PauseReason.GRID_WORKS:
        errors["reason"] = _("Grid works do not stop the clocks: link the application to its "
                             "project on the Grid works page; the rule set says what applies.")
    note = plain_text(note, "note", 300, errors)
    if order.status != ApplicationStatus.IN_PROGRESS:
        errors["action"] = _("Only an application in progress can be paused.")
    elif order.paused:
        errors["action"] = _("The clock is already paused.")
    if errors:
        raise ValidationFailed(errors)
    last_pause_end = max((p.ended_at for p in order.pauses if p.ended_at), default=None)
    when = step_time(at, now, max(t for t in (_current_clock(order).entered_at, last_pause_end) if t))
    claim_version(session, order)
    order.pauses.append(ClockPause(reason=reason_value, started_at=when, note=note))
    order.holder, order.holder_unit_id = PAUSE_HOLDER[PauseReason(reason_value)], None
    refresh_clocks(order, now)
    record_event(session, order, actor, "paused", when, to_value=reason_value, reason=note)
    return order


def resume(session: Session, actor: User | None, order_id: object, version: object, *,
           note: str = "", at: object = None, now: datetime | None = None) -> WorkOrder:
    require_action(actor, "advance_stage")
    now = now or utcnow()
    order = load_order(session, actor, order_id, Kind.APPLICATION, lock_version=version)
    open_pause = next((p for p in order.pauses
                       if p.ended_at is None and clocks.stops_clocks(p.reason)), None)
    if open_pause is None:
        raise ValidationFailed({"action": _("The clock is not paused.")})
    note = _clean_note(note)
    when = step_time(at, now, open_pause.started_at)
    claim_version(session, order)
    open_pause.ended_at = when
    current = _current_clock(order)
    order.holder, order.holder_unit_id = current.holder, current.holder_unit_id
    refresh_clocks(order, now)
    record_event(session, order, actor, "resumed", when, from_value=open_pause.reason, reason=note)
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
    claim_version(session, order)
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
    refresh_clocks(order, now)
    rule = rules.grid_works_rule(order.customer_class or "") if rules else None
    after = total.limit_amount if total is not None else None
    moved = before != after  # the whole-process limit, when the rule changed it
    record_event(session, order, actor, "grid_works_waiting" if waiting else "grid_works_done", now,
                 from_value=f"{before:g}" if moved and before is not None else None,
                 to_value=f"{after:g}" if moved and after is not None else None, reason=note[:300],
                 details={"rule": rule.rule if rule else None, "source": rule.source if rule else ""})
    return order


def cancel_application(session: Session, actor: User | None, order_id: object, version: object,
                       reason: str, *, now: datetime | None = None) -> WorkOrder:
    require_action(actor, "accept_application")
    now = now or utcnow()
    order = load_order(session, actor, order_id, Kind.APPLICATION, lock_version=version)
    errors: dict[str, str] = {}
    reason = plain_text(reason, "reason", 300, errors, required=True)
    if order.status in (ApplicationStatus.COMPLETED, ApplicationStatus.CANCELLED):
        errors["action"] = _("This application is closed.")
    if errors:
        raise ValidationFailed(errors)
    claim_version(session, order)
    before = order.status
    for p in order.pauses:
        if p.ended_at is None:
            p.ended_at = now
    for clock in order.clocks:
        if clock.started_at is not None and clock.ended_at is None:
            clock.ended_at = now
    order.status, order.closed_at, order.current_stage = ApplicationStatus.CANCELLED.value, now, None
    refresh_clocks(order, now)
    record_event(session, order, actor, "cancelled", now, from_value=before, to_value=order.status,
                 reason=reason)
    return order
