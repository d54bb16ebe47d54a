"""Reading work orders: the scoped, server-side paged list, and one order in full.

The list sorts, filters and pages in SQL (``LIMIT``/``OFFSET`` on indexed
columns), so it stays fast at a million orders. The SLA status of an open
order is computed in the query from its due and warning times, so it is
right at the moment of reading, not at the moment of the last change.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta
from typing import Any

from sqlalchemy import ColumnElement, and_, case, func, literal, or_, select
from sqlalchemy.orm import Session, aliased, selectinload

from station_portal.auth.models import User
from station_portal.auth.scope import Scope
from station_portal.network.models import Outage, TransformerArea
from station_portal.org.models import Client, Crew, IndustrialPark, Unit
from station_portal.sla.calendar import WorkCalendar
from station_portal.sla.clock import AT_RISK, ON_TRACK, OVERDUE, late_amount, left_amount
from station_portal.sla.rules import WORKDAY, GridWorksRule, RuleError, RuleSet
from station_portal.timefmt import SHANGHAI
from station_portal.validate import as_id, day, has_control_chars
from station_portal.workorders.access import order_filter, sees_order
from station_portal.workorders.attribution import Share, current_hold, shares
from station_portal.workorders.clocks import refresh_now
from station_portal.workorders.models import (
    Kind,
    ParkVisit,
    PauseReason,
    StageClock,
    WorkOrder,
    WorkOrderEvent,
)

MAX_PAGE = 500

HOLDER_UNIT = aliased(Unit, name="holder_unit")
TERRITORY = aliased(Unit, name="territory")


def _running() -> ColumnElement[bool]:
    """Open, and its clocks running: no pause open, the customer not holding it.

    A stopped order keeps the status it had when it stopped: its stored due time
    is where the clock would end if it ran again now, so it must not escalate.
    """
    return and_(WorkOrder.closed_at.is_(None), WorkOrder.holder == "unit")


def live_sla(now: datetime) -> ColumnElement[str]:
    """The SLA status as of ``now``: running orders past their warning or due time move on."""
    return case(
        (and_(_running(), WorkOrder.due_at <= now), literal(OVERDUE)),
        (and_(_running(), WorkOrder.warn_at <= now), literal(AT_RISK)),
        else_=WorkOrder.sla_status,
    )


# Columns a grid may sort and filter on: name → (SQL expression, filter type).
def _columns(now: datetime, locale: str = "zh_CN") -> dict[str, tuple[Any, str]]:
    zh = locale.startswith("zh")
    return {
        "code": (WorkOrder.code, "text"),
        "status": (WorkOrder.status, "text"),
        "sla": (live_sla(now), "text"),
        "created_at": (WorkOrder.created_at, "date"),
        "due_at": (WorkOrder.due_at, "date"),
        "closed_at": (WorkOrder.closed_at, "date"),
        "unit": (TERRITORY.name_zh if zh else TERRITORY.name_en, "text"),
        "holder": (HOLDER_UNIT.name_zh if zh else HOLDER_UNIT.name_en, "text"),
        "category": (WorkOrder.category, "text"),
        "source": (WorkOrder.source, "text"),
        "urgency": (WorkOrder.urgency, "number"),
        "address": (WorkOrder.address, "text"),
        "customer_name": (WorkOrder.customer_name, "text"),
        "customer_class": (WorkOrder.customer_class, "text"),
        "business_type": (WorkOrder.business_type, "text"),
        "current_stage": (WorkOrder.current_stage, "text"),
        "capacity_kva": (WorkOrder.capacity_kva, "number"),
        "load_kw": (WorkOrder.load_kw, "number"),
        "crew": (Crew.code, "text"),
        "client": (Client.name_zh if zh else Client.name_en, "text"),
        "projected_load_kw": (WorkOrder.projected_load_kw, "number"),
    }


# A filter the server built itself: the codes a label filter matched. A browser
# cannot send it (GridRequest.parse drops the key).
CODES = "__codes"
MAX_NUMBER = 1e12


@dataclass(frozen=True)
class GridRequest:
    """What AG Grid's infinite row model asks for (sanitised)."""

    start: int = 0
    end: int = 100
    sort: tuple[tuple[str, bool], ...] = ()  # (column, descending)
    filters: dict[str, dict[str, Any]] = field(default_factory=dict)

    @classmethod
    def parse(cls, raw: object) -> GridRequest:
        raw = raw if isinstance(raw, dict) else {}
        start = raw.get("startRow") if _is_int(raw.get("startRow")) else 0
        end = raw.get("endRow") if _is_int(raw.get("endRow")) else start + 100
        start = max(0, min(start, 10_000_000))
        end = max(start, min(end, start + MAX_PAGE))
        sort = []
        sort_model = raw.get("sortModel")
        for item in sort_model if isinstance(sort_model, list) else []:
            if isinstance(item, dict) and isinstance(item.get("colId"), str):
                sort.append((item["colId"], item.get("sort") == "desc"))
        filter_model = raw.get("filterModel")
        filters = {k: {key: value for key, value in v.items() if key != CODES}
                   for k, v in (filter_model.items() if isinstance(filter_model, dict) else [])
                   if isinstance(k, str) and isinstance(v, dict)}
        return cls(start, end, tuple(sort[:3]), filters)


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _number(value: object) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    if value != value or abs(value) > MAX_NUMBER:  # NaN, or beyond any stored value
        return None
    return value


def _condition(expr: Any, kind: str, spec: dict[str, Any], nested: bool = False
               ) -> ColumnElement[bool] | None:
    """One AG Grid filter as SQL; None for what cannot be applied (it is ignored)."""
    conditions = spec.get("conditions")
    if conditions is not None:
        if nested or not isinstance(conditions, list) or not 0 < len(conditions) <= 2:
            return None
        parts = [c for c in (_condition(expr, kind, item, True) for item in conditions
                             if isinstance(item, dict)) if c is not None]
        if not parts:
            return None
        return or_(*parts) if spec.get("operator") == "OR" else and_(*parts)
    op = spec.get("type")
    if not isinstance(op, str):
        return None
    if op == "blank":
        return expr.is_(None)
    if op == "notBlank":
        return expr.is_not(None)
    if kind == "text":
        value = spec.get("filter")
        if not isinstance(value, str) or not value or len(value) > 100 or has_control_chars(value):
            return None
        escaped = value.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        if op == "equals":
            return expr == value
        if op == "notEqual":
            return expr != value
        pattern = {"contains": f"%{escaped}%", "notContains": f"%{escaped}%",
                   "startsWith": f"{escaped}%", "endsWith": f"%{escaped}"}.get(op)
        if pattern is None:
            return None
        like = expr.like(pattern, escape="\\")
        return ~like if op == "notContains" else like
    if kind == "number":
        value, upper = _number(spec.get("filter")), _number(spec.get("filterTo"))
        if value is None:
            return None
        if op == "inRange":
            return and_(expr >= min(value, upper), expr <= max(value, upper)) \
                if upper is not None else None
        return {"equals": expr == value, "notEqual": expr != value, "lessThan": expr < value,
                "lessThanOrEqual": expr <= value, "greaterThan": expr > value,
                "greaterThanOrEqual": expr >= value}.get(op)
    if kind == "date":
        lo, hi = _day(spec.get("dateFrom")), _day(spec.get("dateTo"))
        if op == "inRange" and lo and hi:
            return and_(expr >= lo, expr < hi + timedelta(days=1))
        if op == "lessThan" and lo:
            return expr < lo
        if op == "greaterThan" and lo:
            return expr >= lo + timedelta(days=1)
        if op == "equals" and lo:
            return and_(expr >= lo, expr < lo + timedelta(days=1))
    return None


def _day(text: object) -> datetime | None:
    """Midnight Shanghai of the day AG Grid's date filter sends ("2026-03-02 00:00:00"); None
    (no condition) for anything not a day of the working-day calendar's range."""
    value = day(text) if isinstance(text, str) else None
    return datetime.combine(value, time(), SHANGHAI) if value else None


def sla_condition(codes: list[str], now: datetime) -> ColumnElement[bool]:
    """Orders whose live SLA status is one of ``codes``, in terms indexes can serve."""
    still_open, running = WorkOrder.closed_at.is_(None), _running()
    stopped = and_(still_open, WorkOrder.holder != "unit")
    parts = []
    for code in codes:
        if code == OVERDUE:
            parts.append(and_(running, WorkOrder.due_at <= now))
        elif code == AT_RISK:
            parts.append(and_(running, WorkOrder.due_at > now, WorkOrder.warn_at <= now))
        elif code == ON_TRACK:
            parts.append(and_(running, WorkOrder.sla_status == ON_TRACK,
                              or_(WorkOrder.due_at.is_(None), WorkOrder.due_at > now),
                              or_(WorkOrder.warn_at.is_(None), WorkOrder.warn_at > now)))
        else:  # met, missed, no_limit, cancelled: results of closed orders
            parts.append(and_(WorkOrder.closed_at.is_not(None), WorkOrder.sla_status == code))
        if code in (OVERDUE, AT_RISK, ON_TRACK):
            parts.append(and_(stopped, WorkOrder.sla_status == code))
    return or_(*parts) if parts else literal(False)


# Joined tables a column needs (for filtering or sorting on it).
_NEEDS_JOIN = {"unit": "territory", "holder": "holder", "crew": "crew", "client": "client"}


def _joined(stmt, names: set[str]):
    if "territory" in names:
        stmt = stmt.join(TERRITORY, TERRITORY.id == WorkOrder.unit_id)
    if "holder" in names:
        stmt = stmt.outerjoin(HOLDER_UNIT, HOLDER_UNIT.id == WorkOrder.holder_unit_id)
    if "crew" in names:
        stmt = stmt.outerjoin(Crew, Crew.id == WorkOrder.crew_id)
    if "client" in names:
        stmt = stmt.outerjoin(Client, Client.id == WorkOrder.client_id)
    return stmt


def list_orders(session: Session, scope: Scope, kind: Kind, request: GridRequest,
                now: datetime, locale: str = "zh_CN") -> tuple[list[dict[str, Any]], int]:
    """One page of the caller's orders of a kind, and how many match in all.

    The count joins only what the filters need; the page is read with every join
    but only for its own rows (the ORDER BY runs on indexed work-order columns).
    """
    columns = _columns(now, locale)
    conditions = [WorkOrder.kind == kind.value, order_filter(scope)]
    needed: set[str] = set()
    for name, spec in request.filters.items():
        if name not in columns:
            continue
        if CODES in spec:  # a label filter, translated into codes by the server
            codes = spec[CODES]
            condition = sla_condition(codes, now) if name == "sla" else columns[name][0].in_(codes)
        else:
            expr, filter_kind = columns[name]
            condition = _condition(expr, filter_kind, spec)
        if condition is not None:
            conditions.append(condition)
            if name in _NEEDS_JOIN:
                needed.add(_NEEDS_JOIN[name])
    count_stmt = _joined(select(func.count()).select_from(WorkOrder), needed).where(*conditions)
    total = session.scalar(count_stmt) or 0
    order_by = []
    for name, descending in request.sort:
        if name in columns:
            expr = columns[name][0]
            order_by.append(expr.desc() if descending else expr.asc())
            if name in _NEEDS_JOIN:
                needed.add(_NEEDS_JOIN[name])
    order_by += [WorkOrder.created_at.desc(), WorkOrder.id.desc()]
    page_ids = select(WorkOrder.id).where(*conditions).order_by(*order_by) \
        .offset(request.start).limit(request.end - request.start)
    ids = list(session.scalars(_joined(page_ids, needed)))
    if not ids:
        return [], total
    rows = session.execute(
        _joined(select(WorkOrder.id, WorkOrder.code, WorkOrder.status, live_sla(now).label("sla"),
                       WorkOrder.created_at, WorkOrder.due_at, WorkOrder.closed_at,
                       TERRITORY.name_zh.label("unit_zh"), TERRITORY.name_en.label("unit_en"),
                       HOLDER_UNIT.name_zh.label("holder_zh"),
                       HOLDER_UNIT.name_en.label("holder_en"), WorkOrder.holder,
                       WorkOrder.category, WorkOrder.source, WorkOrder.urgency,
                       WorkOrder.address, WorkOrder.customer_name, WorkOrder.customer_class,
                       WorkOrder.business_type, WorkOrder.current_stage,
                       WorkOrder.capacity_kva, WorkOrder.load_kw, WorkOrder.paused,
                       Crew.code.label("crew"), WorkOrder.kind,
                       Client.name_zh.label("client_zh"), Client.name_en.label("client_en"),
                       WorkOrder.projected_load_kw, WorkOrder.projected_date),
                {"territory", "holder", "crew", "client"})
        .where(WorkOrder.id.in_(ids))
    ).mappings().all()
    by_id = {r["id"]: dict(r) for r in rows}
    return [by_id[i] for i in ids], total


# -- one order in full -------------------------------------------------------------------

@dataclass(frozen=True)
class EventRow:
    at: datetime
    action: str
    actor: str | None
    from_value: str | None
    to_value: str | None
    reason: str
    details: dict[str, Any] | None


@dataclass(frozen=True)
class Lateness:
    """One figure of where a clock stands: whole working days or minutes (``unit``)."""

    unit: str  # "workday" or "minute"
    late: float  # past the due time (0: not late)
    left: float  # before the due time (0: due or past)


def lateness(clock: StageClock, now: datetime, calendar: WorkCalendar) -> Lateness | None:
    """How late a clock is (finished: its recorded figure) or how long it has left."""
    if clock.due_at is None or clock.started_at is None:
        return None
    unit = clock.limit_unit or WORKDAY
    if clock.ended_at is not None:
        late = clock.late_by if clock.late_by is not None else \
            late_amount(unit, clock.due_at, clock.ended_at, calendar)
        return Lateness(unit, late, 0.0)
    return Lateness(unit, late_amount(unit, clock.due_at, now, calendar),
                    left_amount(unit, clock.due_at, now, calendar))


@dataclass(frozen=True)
class GridWorksStanding:
    """What the rule set says of grid works for this application, and whether it waits now."""

    rule: GridWorksRule
    waiting: bool


@dataclass
class OrderDetail:
    order: WorkOrder
    territory: Unit
    holder_unit: Unit | None
    crew: Crew | None
    client: Client | None
    park: IndustrialPark | None
    units: dict[int, Unit]  # every unit the clocks and events mention
    events: list[EventRow]
    shares: list[Share]
    holder_since: datetime | None
    visits: list[ParkVisit]
    linked_application: WorkOrder | None
    # Each clock's lateness (by its seq), and the one the order is next due on.
    lateness: dict[int, Lateness] = field(default_factory=dict)
    due: Lateness | None = None
    grid_works: GridWorksStanding | None = None
    area: TransformerArea | None = None  # the site's transformer area (台区)
    outage: Outage | None = None  # the outage that explains a repair / serves a hook-up


def order_detail(session: Session, scope: Scope, order_id: object, now: datetime,
                 calendar: WorkCalendar | None = None) -> OrderDetail | None:
    """The order with clocks brought up to ``now`` (in memory only), or None if out of scope."""
    oid = as_id(order_id)
    if oid is None:
        return None
    order = session.get(WorkOrder, oid, options=[selectinload(WorkOrder.clocks),
                                                 selectinload(WorkOrder.pauses)])
    if order is None or not sees_order(scope, order):
        return None
    # Bring the clocks up to now for display only: detached, nothing is ever written back.
    session.expunge(order)
    refresh_now(order, now)
    calendar = calendar or WorkCalendar.default()
    unit_ids = {order.unit_id, order.holder_unit_id} | {c.holder_unit_id for c in order.clocks}
    units = {u.id: u for u in session.scalars(select(Unit).where(
        Unit.id.in_([i for i in unit_ids if i is not None])))}
    actor = aliased(User)
    events = [
        EventRow(e.at, e.action, username, e.from_value, e.to_value, e.reason, e.details)
        for e, username in session.execute(
            select(WorkOrderEvent, actor.username)
            .outerjoin(actor, actor.id == WorkOrderEvent.actor_id)
            .where(WorkOrderEvent.work_order_id == order.id)
            .order_by(WorkOrderEvent.at, WorkOrderEvent.id))
    ]
    hold = current_hold(order, now) if order.kind == Kind.APPLICATION else None
    figures = {c.seq: f for c in order.clocks
               if c.planned_at is None and (f := lateness(c, now, calendar)) is not None}
    next_due = next((c for c in order.clocks if c.ended_at is None and c.due_at is not None
                     and c.due_at == order.due_at and c.seq in figures), None)
    return OrderDetail(
        order=order,
        territory=units[order.unit_id],
        holder_unit=units.get(order.holder_unit_id) if order.holder_unit_id else None,
        crew=session.get(Crew, order.crew_id) if order.crew_id else None,
        client=session.get(Client, order.client_id) if order.client_id else None,
        park=session.get(IndustrialPark, order.park_id) if order.park_id else None,
        units=units,
        events=events,
        shares=shares(order, now, calendar) if order.kind == Kind.APPLICATION else [],
        holder_since=hold.start if hold else None,
        area=session.get(TransformerArea, order.area_id) if order.area_id else None,
        outage=session.get(Outage, order.outage_id) if order.outage_id else None,
        visits=list(session.scalars(select(ParkVisit).where(ParkVisit.work_order_id == order.id)
                                    .order_by(ParkVisit.planned_for))),
        linked_application=session.get(WorkOrder, order.application_id)
        if order.application_id else None,
        lateness=figures,
        due=figures[next_due.seq] if next_due is not None else None,
        grid_works=_grid_works_standing(order),
    )


def _grid_works_standing(order: WorkOrder) -> GridWorksStanding | None:
    if order.kind != Kind.APPLICATION or not order.ruleset_id:
        return None
    try:
        rule = RuleSet.by_id(order.ruleset_id).grid_works_rule(order.customer_class or "")
    except RuleError:
        return None
    waiting = any(p.ended_at is None and p.reason == PauseReason.GRID_WORKS for p in order.pauses)
    return GridWorksStanding(rule, waiting)


def crews_for_dispatch(session: Session, scope: Scope) -> Sequence[Crew]:
    """Active crews in the caller's scope (to pick one when dispatching)."""
    return session.scalars(select(Crew).where(Crew.active.is_(True), scope.unit_filter(Crew.unit_id))
                           .order_by(Crew.code)).all()


def stage_clocks(order: WorkOrder) -> list[StageClock]:
    return [c for c in order.clocks if c.stage != "total"]
