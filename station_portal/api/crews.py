"""Crews: who is on duty where, a crew's own orders, and its phones' position reports."""

from __future__ import annotations

from typing import Any

import marshmallow as ma

from station_portal.api import queries
from station_portal.api.core import Blueprint, caller, roles, write
from station_portal.api.schemas import (
    CrewListSchema,
    OrderSummarySchema,
    PingBodySchema,
    PingResultSchema,
)
from station_portal.auth.roles import Role
from station_portal.db import utcnow
from station_portal.errors import ValidationFailed
from station_portal.i18n import _
from station_portal.services import dispatch
from station_portal.web.context import read_session

blp = Blueprint("crews", __name__, description="Crews, their orders and their positions.")

CREW_VIEWERS = frozenset({Role.ADMIN, Role.COMPANY_MANAGER, Role.STATION_HEAD,
                          Role.GRID_MANAGER, Role.CREW})


class CrewOrdersSchema(ma.Schema):
    items = ma.fields.List(ma.fields.Nested(OrderSummarySchema))


@blp.route("/crews", methods=["GET"])
@roles(CREW_VIEWERS)
@blp.response(200, CrewListSchema)
@blp.errors(401, 403)
def list_crews():
    """The active crews in the caller's scope: on duty, unit, members, last position,
    open orders they lead."""
    return {"items": queries.crews_in_scope(read_session(), caller().scope(), utcnow())}


@blp.route("/crews/me/work-orders", methods=["GET"])
@roles({Role.CREW})
@blp.response(200, CrewOrdersSchema)
@blp.errors(401, 403)
def my_work_orders():
    """The caller's crew's open repairs in working order: the job it is on, the one it drives to,
    then the most urgent, then the earliest deadline (as on the phone view)."""
    scope = caller().scope()
    items = queries.crew_open_orders(read_session(), scope, utcnow()) if scope.crew_id else []
    return {"items": items}


@blp.route("/crews/me/pings", methods=["POST"])
@roles({Role.CREW})
@blp.arguments(PingBodySchema, examples={
    "one": {"value": {"lat": 43.8817, "lon": 126.5744, "accuracy_m": 12}},
    "batch": {"value": {"pings": [
        {"lat": 43.8801, "lon": 126.5702, "at": "2026-03-02T09:01:00+08:00"},
        {"lat": 43.8817, "lon": 126.5744, "at": "2026-03-02T09:02:00+08:00"}]}}})
@blp.response(201, PingResultSchema)
@blp.errors(401, 403, 422)
def post_pings(args: dict[str, Any]):
    """Report where the caller's crew is: one position, or a batch of up to 50 that the
    phone kept while offline (`pings`).

    In a batch, positions that cannot be stored (e.g. older than a day) are listed
    in `rejected` with why; the others are stored.
    """
    if caller().scope().crew_id is None:
        raise ValidationFailed({"crew": _("You are not in a crew yet.")})
    batch = "pings" in args
    pings = args["pings"] if batch else [args]
    rejected: list[dict[str, Any]] = []
    accepted = 0
    with write() as (session, actor):
        for index, ping in enumerate(pings):
            try:
                dispatch.record_ping(session, actor, ping["lat"], ping["lon"],
                                     accuracy_m=ping.get("accuracy_m"), at=ping.get("at"))
                accepted += 1
            except ValidationFailed as exc:
                if not batch:
                    raise
                rejected.append({"index": index, "fields": exc.fields})
    return {"accepted": accepted, "rejected": rejected}
