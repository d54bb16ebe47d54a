"""Work orders: list, read, create repairs, applications and park cases, assign crews, post
field steps (the steps and assignments through the command table, ``services.commands``)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from typing import Any

from station_portal.api import queries
from station_portal.api.core import Blueprint, caller, order_access, order_unavailable, roles, write
from station_portal.api.errors import ApiError
from station_portal.api.schemas import (
    ApplicationCreateSchema,
    AssignmentCreateSchema,
    ConflictSchema,
    EventCreateSchema,
    EventResultSchema,
    OrderDetailSchema,
    OrderListQuerySchema,
    OrderPageSchema,
    OrderSummarySchema,
    ParkCaseCreateSchema,
    RepairCreateSchema,
)
from station_portal.auth.roles import ALL_STAFF
from station_portal.db import utcnow
from station_portal.errors import Conflict, ValidationFailed
from station_portal.i18n import _
from station_portal.services import applications, changes, commands, parks, repairs
from station_portal.validate import as_id
from station_portal.web.context import read_session
from station_portal.workorders.access import sees_order
from station_portal.workorders.models import Kind, WorkOrder
from station_portal.workorders.queries import order_detail

blp = Blueprint("work-orders", __name__, description=(
    "Fault repairs, connection applications and industrial-park cases in the caller's scope."))

LOCATION_HEADER = {"Location": {"description": "The new order's address in the API.",
                                "schema": {"type": "string"}}}


def order_json(order_id: object) -> dict[str, Any]:
    """The order in full as the caller may see it; the 404/403 rule otherwise."""
    user, now = caller(), utcnow()
    found = order_detail(read_session(), user.scope(), as_id(order_id), now)
    if found is None:
        raise order_unavailable()
    return queries.detail(read_session(), found, user.role, now)


def fresh_summary(order_id: object) -> dict[str, Any] | None:
    """The order as it is now (after a lost race), if the caller sees it, ready for JSON."""
    order = read_session().get(WorkOrder, as_id(order_id)) if as_id(order_id) else None
    if order is None or not sees_order(caller().scope(), order):
        return None
    return OrderSummarySchema().dump(queries.summaries(read_session(), [order], utcnow())[0])


@contextmanager
def acting_on(order_id: object) -> Iterator[None]:
    """The 404/403 rule, and a conflict answered with the order's fresh state."""
    with order_access():
        try:
            yield
        except Conflict as exc:
            raise ApiError(409, exc.message, code="conflict",
                           extra={"order": fresh_summary(order_id)}) from exc


def brief(order: WorkOrder) -> dict[str, Any]:
    return {"id": order.id, "code": order.code, "kind": order.kind, "status": order.status,
            "version": order.version}


def order_after(order_id: int, known: dict[str, Any]) -> dict[str, Any]:
    """The order in full after a change, or what the caller knew of it if the change took
    it out of their sight (a transfer to another station, an application for a client of
    someone else)."""
    try:
        return order_json(order_id)
    except ApiError:
        return known


def _created(order: dict[str, Any]):
    """201 with the new order and its Location."""
    return (order_after(order["id"], order), 201,
            {"Location": f"{queries.URL_PREFIX}/work-orders/{order['id']}"})


# -- reading -------------------------------------------------------------------------------

@blp.route("/work-orders", methods=["GET"])
@roles(ALL_STAFF)
@blp.arguments(OrderListQuerySchema, location="query")
@blp.response(200, OrderPageSchema)
@blp.errors(401, 403)
def list_work_orders(args: dict[str, Any]):
    """List the work orders in the caller's scope, filtered, sorted and paged.

    A crew member sees its crew's orders; a station head or grid manager their
    units'; an account manager their clients'; managers and admins everything.
    """
    query = queries.OrderQuery(
        kind=args.get("kind"), statuses=tuple(args.get("status") or ()),
        sla=tuple(args.get("sla") or ()), unit_id=args.get("unit_id"),
        crew_id=args.get("crew_id"), created_from=args.get("created_from"),
        created_to=args.get("created_to"), q=args.get("q") or "", sort=args["sort"],
        page=args["page"], per_page=args["per_page"])
    items, total = queries.list_orders(read_session(), caller().scope(), query, utcnow())
    return {"items": items, "total": total, "page": query.page, "per_page": query.per_page}


@blp.route("/work-orders/<int:order_id>", methods=["GET"])
@roles(ALL_STAFF)
@blp.response(200, OrderDetailSchema)
@blp.errors(401, 403, 404)
def get_work_order(order_id: int):
    """One work order in full: stage clocks, crew and assignments, timeline, photos.

    An unknown id is 404 for a caller who sees everything; for a caller with a
    limited scope an unknown id and one outside the scope are both 403, with the
    same message.
    """
    return order_json(order_id)


# -- creating -----------------------------------------------------------------------------

@blp.route("/repairs", methods=["POST"])
@roles(action="create_repair")
@blp.arguments(RepairCreateSchema, example={
    "source": "hotline_95598", "category": "low_voltage", "urgency": 1, "lat": 43.8817,
    "lon": 126.5744, "address": "吉林市昌邑区通江路12号", "customer_name": "王先生",
    "customer_phone": "13900000000", "reported_at": "2026-03-02T08:30:00+08:00"})
@blp.response(201, OrderDetailSchema, headers=LOCATION_HEADER)
@blp.errors(401, 403, 422)
def create_repair(args: dict[str, Any]):
    """Register a fault repair; it is routed to the station or grid whose territory holds
    its location, and its arrival clock starts."""
    with write() as (session, actor):
        created = brief(repairs.create_repair(session, actor, repairs.RepairInput(**args)))
    return _created(created)


@blp.route("/applications", methods=["POST"])
@roles(action="create_application")
@blp.arguments(ApplicationCreateSchema, example={
    "business_type": "new_connection", "customer_type": "resident", "load_kw": 8,
    "customer_name": "张三", "customer_phone": "13900000001", "lat": 43.8817, "lon": 126.5744,
    "address": "吉林市昌邑区通江路14号"})
@blp.response(201, OrderDetailSchema, headers=LOCATION_HEADER)
@blp.errors(401, 403, 422)
def create_application(args: dict[str, Any]):
    """Register a connection application (业扩报装) with its stage path; accepted at once
    unless `accept` is false."""
    accept = args.pop("accept", True)
    try:
        with write() as (session, actor):
            created = brief(applications.create_application(
                session, actor, applications.ApplicationInput(**args), accept=accept))
    except ValidationFailed as exc:
        if "at" in exc.fields:  # acceptance at the application time: the caller's applied_at
            exc.fields["applied_at"] = exc.fields.pop("at")
        raise
    return _created(created)


@blp.route("/park-cases", methods=["POST"])
@roles(action="manage_park_cases")
@blp.arguments(ParkCaseCreateSchema, example={
    "client_id": 1, "projected_load_kw": 2500, "projected_date": "2027-06-01",
    "description": "新厂房一期", "visit_planned_for": "2026-03-10",
    "milestone_plan": {"first_contact": "2026-03-06", "load_survey": "2026-03-20"}})
@blp.response(201, OrderDetailSchema, headers=LOCATION_HEADER)
@blp.errors(401, 403, 422)
def create_park_case(args: dict[str, Any]):
    """Open an industrial-park or VIP client's early-engagement case (园区前期介入) with its
    milestones (first contact, load survey, supply pre-plan, formal application), the
    milestones' planned days and the first visit, followed by an account manager."""
    with write() as (session, actor):
        created = brief(parks.create_park_case(session, actor, parks.ParkCaseInput(**args)))
    return _created(created)


# -- dispatching and field steps ----------------------------------------------------------

@blp.route("/work-orders/<int:order_id>/assignments", methods=["POST"])
@roles(action="dispatch_repair")
@blp.arguments(AssignmentCreateSchema, example={"crew_id": 1, "version": 1, "role": "lead"})
@blp.response(201, OrderDetailSchema)
@blp.alt_response(409, schema=ConflictSchema,
                  description="The version is stale: someone changed the order first.")
@blp.errors(401, 403, 404, 422)
def assign_crew(args: dict[str, Any], order_id: int):
    """Send a crew to a repair (lead: dispatch or re-dispatch), or add a support crew.

    Carries the order's version as the caller saw it; if someone changed the order
    since, nothing is written and the answer is 409 with the order's current state.
    """
    action = "dispatch" if args["role"] == "lead" else "support"
    with acting_on(order_id), write() as (session, actor):
        changed = brief(commands.run(session, actor, order_id, args["version"], action,
                                     commands.ActionValues(crew_id=args["crew_id"])))
    return order_after(order_id, changed)


def _applied(order_id: int, key: str | None, action: str) -> bool:
    """Whether the step with this key is on the order's timeline (read afresh)."""
    if key is None:
        return False
    return changes.already_applied(read_session(), caller().model(), order_id, key, action) is not None


@blp.route("/work-orders/<int:order_id>/events", methods=["POST"])
@roles(ALL_STAFF)
@blp.arguments(EventCreateSchema, example={
    "action": "arrive", "at": "2026-03-02T09:05:00+08:00",
    "client_key": "3f9a1c0b-arrive-0001"})
@blp.response(201, EventResultSchema)
@blp.alt_response(200, schema=EventResultSchema, success=True, description=(
    "This client_key was applied before: nothing was done again (`replayed` is true)."))
@blp.alt_response(409, schema=ConflictSchema,
                  description="The version is stale: someone changed the order first.")
@blp.errors(401, 403, 404, 422)
def post_event(args: dict[str, Any], order_id: int):
    """Report a step of a repair from the field (accept, depart, arrive, restore), close,
    cancel or transfer it, or add a note to any order.

    Send the version you saw, or a client_key (8–64 letters, digits, '-' or '_')
    chosen for this step: a phone that lost the answer sends the same request
    again and gets the order back with `replayed: true`, without the step being
    applied twice. `at` is the time on the phone when the button was pressed; or send
    `age_s`, the seconds since then by the phone's own clock, which stays right
    when the phone's clock is wrong.
    """
    key = args.get("client_key")
    known: dict[str, Any] = {"id": order_id}
    with acting_on(order_id):
        try:
            with write() as (session, actor):
                done = changes.already_applied(session, actor, order_id, key, args["action"])
                replayed = done is not None
                known = brief(done if done is not None else _apply_step(session, actor, order_id,
                                                                         args))
        except Conflict:
            if not _applied(order_id, key, args["action"]):  # lost a race to the same key
                raise
            replayed = True
    body = {"replayed": replayed, "order": order_after(order_id, known)}
    return (body, 200) if replayed else (body, 201)


def _apply_step(session, actor, order_id: int, args: dict[str, Any]) -> WorkOrder:
    """The step through the command table: a note on any order, the other steps on repairs."""
    action = args["action"]
    if action != "note" and commands.order_kind(
            session, order_id, changes.actor_scope(session, actor)) not in (None, Kind.REPAIR):
        raise ValidationFailed({"action": _("Only a note can be added to this order here.")})
    at = args.get("at")
    if args.get("age_s") is not None:  # the phone's own clock may be wrong; elapsed time is not
        at = utcnow() - timedelta(seconds=args["age_s"])
    return commands.run(session, actor, order_id, args.get("version"), action, commands.ActionValues(
        note=args.get("note") or args.get("reason") or "",
        reason=args.get("reason") or args.get("note") or "", unit_id=args.get("unit_id"), at=at,
        client_key=args.get("client_key")))
