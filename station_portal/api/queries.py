"""Reads of the REST API: the filtered, paged order list, crews, and orders as JSON-ready dicts.

Every read is filtered by the caller's scope (``order_filter``, ``Scope.unit_filter``).
The live SLA state comes from ``workorders.queries.live_sla``/``sla_condition``
and one order in full from ``workorders.queries.order_detail``, as in the portal.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from station_portal.auth.roles import Role
from station_portal.auth.scope import Scope
from station_portal.dispatch.board import FRESH_POSITION, crew_jobs
from station_portal.org.models import Client, Crew, CrewMember, Staff, Unit
from station_portal.org.tree import subtree_ids
from station_portal.services.attachments import photos_of
from station_portal.timefmt import SHANGHAI
from station_portal.workorders.access import order_filter
from station_portal.workorders.actions import available_actions
from station_portal.workorders.models import OrderAssignment, WorkOrder
from station_portal.workorders.queries import OrderDetail, live_sla, sla_condition, stage_clocks

URL_PREFIX = "/api/v1"


@dataclass(frozen=True)
class OrderQuery:
    kind: str | None = None
    statuses: tuple[str, ...] = ()
    sla: tuple[str, ...] = ()
    unit_id: int | None = None
    crew_id: int | None = None
    created_from: date | None = None
    created_to: date | None = None
    q: str = ""
    sort: str = "-created_at"
    page: int = 1
    per_page: int = 50


def _day_start(day: date) -> datetime:
    return datetime.combine(day, time(0), SHANGHAI)


def _like(text: str) -> str:
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def list_orders(session: Session, scope: Scope, query: OrderQuery, now: datetime
                ) -> tuple[list[dict[str, Any]], int]:
    """One page of the caller's orders matching ``query``, and how many match in all."""
    conditions = [order_filter(scope)]
    if query.kind:
        conditions.append(WorkOrder.kind == query.kind)
    if query.statuses:
        conditions.append(WorkOrder.status.in_(query.statuses))
    if query.sla:
        conditions.append(sla_condition(list(query.sla), now))
    if query.unit_id is not None:
        conditions.append(WorkOrder.unit_id.in_(sorted(subtree_ids(session, query.unit_id))))
    if query.crew_id is not None:
        conditions.append(WorkOrder.crew_id == query.crew_id)
    if query.created_from is not None:
        conditions.append(WorkOrder.created_at >= _day_start(query.created_from))
    if query.created_to is not None:
        conditions.append(WorkOrder.created_at < _day_start(query.created_to) + timedelta(days=1))
    text = query.q.strip()
    if text:
        conditions.append(or_(WorkOrder.code.like(_like(text.upper()), escape="\\"),
                              WorkOrder.address.like(_like(text), escape="\\")))
    total = session.scalar(select(func.count()).select_from(WorkOrder).where(*conditions)) or 0
    column = WorkOrder.due_at if query.sort.lstrip("-") == "due_at" else WorkOrder.created_at
    key = column.desc() if query.sort.startswith("-") else column.asc()
    offset = (query.page - 1) * query.per_page
    orders = list(session.scalars(
        select(WorkOrder).where(*conditions)
        .order_by(key.nulls_last(), WorkOrder.id.desc() if query.sort.startswith("-")
                  else WorkOrder.id.asc())
        .offset(offset).limit(query.per_page)))
    return summaries(session, orders, now), total


def summaries(session: Session, orders: Sequence[WorkOrder], now: datetime) -> list[dict[str, Any]]:
    """List rows of orders: their live SLA state, territory and crew, in a few queries."""
    if not orders:
        return []
    ids = [o.id for o in orders]
    sla = dict(session.execute(select(WorkOrder.id, live_sla(now)).where(WorkOrder.id.in_(ids))).all())
    units = _units(session, {o.unit_id for o in orders})
    crews = _crews(session, {o.crew_id for o in orders if o.crew_id})
    return [summary(o, sla.get(o.id, o.sla_status), units, crews) for o in orders]


def _units(session: Session, ids: Iterable[int | None]) -> dict[int, Unit]:
    wanted = sorted({i for i in ids if i is not None})
    return {u.id: u for u in session.scalars(select(Unit).where(Unit.id.in_(wanted)))} if wanted else {}


def _crews(session: Session, ids: Iterable[int | None]) -> dict[int, Crew]:
    wanted = sorted({i for i in ids if i is not None})
    return {c.id: c for c in session.scalars(select(Crew).where(Crew.id.in_(wanted)))} if wanted else {}


def unit_ref(unit: Unit | Client | None) -> dict[str, Any] | None:
    if unit is None:
        return None
    return {"id": unit.id, "code": unit.code, "name": unit.name()}


def crew_ref(crew: Crew | None) -> dict[str, Any] | None:
    return {"id": crew.id, "code": crew.code} if crew is not None else None


def summary(order: WorkOrder, sla: str | None, units: dict[int, Unit], crews: dict[int, Crew]
            ) -> dict[str, Any]:
    return {
        "id": order.id, "code": order.code, "kind": order.kind, "status": order.status,
        "sla": sla, "version": order.version, "unit": unit_ref(units.get(order.unit_id)),
        "holder": order.holder, "crew": crew_ref(crews.get(order.crew_id or 0)),
        "urgency": order.urgency, "category": order.category, "source": order.source,
        "business_type": order.business_type, "customer_class": order.customer_class,
        "load_kw": order.load_kw,
        "current_stage": order.current_stage, "paused": bool(order.paused),
        "address": order.address, "customer_name": order.customer_name,
        "lat": order.lat, "lon": order.lon, "created_at": order.created_at,
        "updated_at": order.updated_at, "due_at": order.due_at, "closed_at": order.closed_at,
    }


def detail(session: Session, found: OrderDetail, role: Role, now: datetime) -> dict[str, Any]:
    """One order in full: clocks, crew and assignments, timeline, photos, next actions."""
    order = found.order  # its clocks and SLA summary already brought up to ``now``
    out = summary(order, order.sla_status, {found.territory.id: found.territory},
                  {found.crew.id: found.crew} if found.crew else {})
    assignments = session.execute(
        select(OrderAssignment, Crew).outerjoin(Crew, Crew.id == OrderAssignment.crew_id)
        .where(OrderAssignment.work_order_id == order.id)
        .order_by(OrderAssignment.assigned_at, OrderAssignment.id)).all()
    out.update({
        "description": order.description, "customer_phone": order.customer_phone,
        "holder_unit": unit_ref(found.holder_unit), "client": unit_ref(found.client),
        "ruleset_id": order.ruleset_id, "dispatched_at": order.dispatched_at,
        "accepted_at": order.accepted_at, "en_route_at": order.en_route_at,
        "on_site_at": order.on_site_at, "restored_at": order.restored_at,
        "capacity_kva": order.capacity_kva, "important": bool(order.important),
        "projected_load_kw": order.projected_load_kw, "projected_date": order.projected_date,
        "clocks": [{
            "seq": c.seq, "stage": c.stage, "status": c.status, "due_at": c.due_at,
            "warn_at": c.warn_at, "entered_at": c.entered_at, "started_at": c.started_at,
            "ended_at": c.ended_at, "planned_at": c.planned_at, "limit_amount": c.limit_amount,
            "limit_unit": c.limit_unit, "limit_source": c.limit_source,
            "provisional": bool(c.provisional),
        } for c in [*stage_clocks(order), *(c for c in order.clocks if c.stage == "total")]],
        "assignments": [{"crew": crew_ref(crew), "role": a.role, "assigned_at": a.assigned_at,
                         "released_at": a.released_at} for a, crew in assignments],
        "events": [{"at": e.at, "action": e.action, "actor": e.actor, "from_value": e.from_value,
                    "to_value": e.to_value, "reason": e.reason, "details": e.details}
                   for e in found.events],
        "attachments": [attachment_out(a) for a in photos_of(session, order.id)],
        "actions": available_actions(order, role),
    })
    return out


def attachment_out(attachment: Any) -> dict[str, Any]:
    return {"id": attachment.id, "content_type": attachment.content_type, "size": attachment.size,
            "sha256": attachment.sha256, "original_name": attachment.original_name,
            "uploaded_at": attachment.uploaded_at,
            "url": f"{URL_PREFIX}/attachments/{attachment.id}"}


# -- crews ---------------------------------------------------------------------------------

def crews_in_scope(session: Session, scope: Scope, now: datetime) -> list[dict[str, Any]]:
    """Active crews the caller sees: duty, unit, members, last position, open orders led."""
    crews = list(session.scalars(select(Crew).where(Crew.active.is_(True),
                                                    scope.unit_filter(Crew.unit_id))
                                 .order_by(Crew.code)))
    if not crews:
        return []
    ids = [c.id for c in crews]
    units = _units(session, {c.unit_id for c in crews})
    members: dict[int, list[dict[str, Any]]] = {i: [] for i in ids}
    for member, staff in session.execute(
            select(CrewMember, Staff).join(Staff, Staff.id == CrewMember.staff_id)
            .where(CrewMember.crew_id.in_(ids))
            .order_by(CrewMember.crew_id, CrewMember.is_leader.desc(), Staff.employee_no)):
        members[member.crew_id].append({"staff_id": staff.id, "name": staff.name(),
                                        "is_leader": bool(member.is_leader), "phone": staff.phone})
    load = dict(session.execute(
        select(WorkOrder.crew_id, func.count()).where(WorkOrder.crew_id.in_(ids),
                                                      WorkOrder.closed_at.is_(None))
        .group_by(WorkOrder.crew_id)).all())
    out = []
    for crew in crews:
        position = None
        if crew.last_seen_at is not None and crew.last_lat is not None and crew.last_lon is not None:
            position = {"lat": crew.last_lat, "lon": crew.last_lon, "at": crew.last_seen_at,
                        "fresh": now - crew.last_seen_at <= FRESH_POSITION}
        out.append({"id": crew.id, "code": crew.code, "unit": unit_ref(units.get(crew.unit_id)),
                    "vehicle": crew.vehicle, "on_duty": bool(crew.on_duty),
                    "members": members[crew.id], "position": position,
                    "open_orders": int(load.get(crew.id, 0))})
    return out


def crew_open_orders(session: Session, scope: Scope, now: datetime) -> list[dict[str, Any]]:
    """The caller's crew's open repairs, in the order the phone view shows them
    (``dispatch.board.working_order``)."""
    ids = [job.id for job in crew_jobs(session, scope, now)]
    found = {o.id: o for o in session.scalars(select(WorkOrder).where(WorkOrder.id.in_(ids)))} if ids else {}
    return summaries(session, [found[i] for i in ids], now)
