"""Actions on a work order by name: the one table that the staff order page and the REST
API dispatch through.

An action name (``dispatch``, ``accept``, ``pause``, ``note``, ``record_visit:<visit id>``,
``milestone:<milestone code>`` …) maps to a command: a function of ``(session, actor,
order_id, version, values)`` that calls the service making the change. A face turns what
it received into :class:`ActionValues` (values of the right type; their meaning, the role,
the scope and the version are the services' to check, and each service writes the
order's timeline event in the caller's transaction). The command chooses the service by
the action and, where one name serves two kinds of order (accept, cancel), by the kind of
the order as the actor sees it.

Which actions a role may take on an order now (the page's choices, the API's ``actions``)
is ``workorders.actions``; this table says what each of them does.

This module must not import Dash or Flask.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from datetime import date, datetime
from types import MappingProxyType
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from station_portal.auth.models import User
from station_portal.auth.scope import Scope
from station_portal.errors import PortalError
from station_portal.i18n import _
from station_portal.services import (
    applications,
    customer,
    dispatch,
    orders,
    outages,
    parks,
    repairs,
    visits,
)
from station_portal.services.changes import actor_scope
from station_portal.validate import as_id
from station_portal.workorders.access import sees_order
from station_portal.workorders.actions import (
    COUNTER_VISIT,
    HOOKUP_OUTAGE,
    NOTE,
    SET_AREA,
    SUPPLY_PLAN,
    TRACKING_CODE,
)
from station_portal.workorders.models import Kind, WorkOrder


@dataclass(frozen=True)
class ActionValues:
    """What came with an action, typed by the face (the page's fields, the API's body)."""

    note: str = ""
    reason: str = ""  # why: to cancel or hand over
    crew_id: int | None = None  # dispatch, support: the crew to send
    unit_id: int | None = None  # transfer: the station or grid to hand the repair to
    pause_reason: str = ""
    supply: str = ""  # supply_plan: "single" or "dual"
    visit_day: date | None = None  # plan_visit: the day of the visit
    application_code: str = ""  # milestone:formal_application: the application's number
    at: datetime | None = None  # when it happened (from the field); None: now
    client_key: str | None = None  # a phone's key, so that a retry is not applied twice
    target: str = ""  # the part of the action after its colon (a visit id, a milestone)
    area_id: int | None = None  # set_area: the transformer area the order lies on
    outage_id: int | None = None  # hookup_outage: the outage of an application's hook-up


Command = Callable[[Session, User | None, object, object, ActionValues], Any]


def order_kind(session: Session, order_id: object, scope: Scope | None = None) -> Kind | None:
    """The kind of the order with this id; None if there is none or, given a ``scope``,
    it lies outside it."""
    oid = as_id(order_id)
    order = session.get(WorkOrder, oid) if oid is not None else None
    if order is None or (scope is not None and not sees_order(scope, order)):
        return None
    return Kind(order.kind)


def _kind_for(session: Session, actor: User | None, order_id: object) -> Kind | None:
    """The kind of the order as the actor sees it (an order outside their area has none,
    so the answer never depends on what lies there)."""
    return order_kind(session, order_id, actor_scope(session, actor))


def _repair_step(action: str) -> Command:
    def step(session: Session, actor: User | None, order_id: object, version: object,
             v: ActionValues) -> WorkOrder:
        return repairs.repair_action(session, actor, order_id, version, action,
                                     crew_id=v.crew_id, unit_id=v.unit_id, reason=v.reason,
                                     at=v.at, client_key=v.client_key)
    return step


def _accept(session: Session, actor: User | None, order_id: object, version: object,
            v: ActionValues) -> WorkOrder:
    """An application's acceptance (受理), or a crew taking on its repair."""
    if _kind_for(session, actor, order_id) == Kind.APPLICATION:
        return applications.accept_application(session, actor, order_id, version, note=v.note,
                                               at=v.at)
    return _repair_step("accept")(session, actor, order_id, version, v)


def _cancel(session: Session, actor: User | None, order_id: object, version: object,
            v: ActionValues) -> WorkOrder:
    if _kind_for(session, actor, order_id) == Kind.APPLICATION:
        return applications.cancel_application(session, actor, order_id, version, v.reason)
    return _repair_step("cancel")(session, actor, order_id, version, v)


def _support(session: Session, actor: User | None, order_id: object, version: object,
             v: ActionValues) -> WorkOrder:
    return dispatch.add_support(session, actor, order_id, version, v.crew_id)


def _advance(session: Session, actor: User | None, order_id: object, version: object,
             v: ActionValues) -> WorkOrder:
    return applications.advance_stage(session, actor, order_id, version, note=v.note, at=v.at)


def _supply_plan(session: Session, actor: User | None, order_id: object, version: object,
                 v: ActionValues) -> WorkOrder:
    return applications.advance_stage(session, actor, order_id, version, note=v.note, at=v.at,
                                      supply=v.supply)


def _pause(session: Session, actor: User | None, order_id: object, version: object,
           v: ActionValues) -> WorkOrder:
    return applications.pause(session, actor, order_id, version, v.pause_reason, note=v.note,
                              at=v.at)


def _resume(session: Session, actor: User | None, order_id: object, version: object,
            v: ActionValues) -> WorkOrder:
    return applications.resume(session, actor, order_id, version, note=v.note, at=v.at)


def _note(session: Session, actor: User | None, order_id: object, _version: object,
          v: ActionValues) -> WorkOrder:
    return orders.add_note(session, actor, order_id, v.note, client_key=v.client_key)


def _counter_visit(session: Session, actor: User | None, order_id: object, version: object,
                   v: ActionValues) -> WorkOrder:
    return customer.record_counter_visit(session, actor, order_id, version, note=v.note)


def _tracking_code(session: Session, actor: User | None, order_id: object, _version: object,
                   _v: ActionValues) -> tuple[WorkOrder, str]:
    """A new code for the customer to track the case online: (the order, the code)."""
    return customer.issue_code(session, actor, order_id)


def _plan_visit(session: Session, actor: User | None, order_id: object, _version: object,
                v: ActionValues) -> Any:
    planned = parks.visit_time(v.visit_day) if v.visit_day is not None else None
    return visits.plan(session, actor, order_id, planned, note=v.note)


def _record_visit(session: Session, actor: User | None, order_id: object, _version: object,
                  v: ActionValues) -> Any:
    return visits.record(session, actor, v.target, case_id=order_id, note=v.note)


def _milestone(session: Session, actor: User | None, order_id: object, version: object,
               v: ActionValues) -> WorkOrder:
    """A park case's milestone done; the formal application is named by its number."""
    application_id = session.scalar(select(WorkOrder.id).where(
        WorkOrder.code == v.application_code)) if v.application_code else None
    return parks.complete_milestone(session, actor, order_id, version, v.target, note=v.note,
                                    application_id=application_id)


def _set_area(session: Session, actor: User | None, order_id: object, version: object,
              v: ActionValues) -> WorkOrder:
    return orders.set_area(session, actor, order_id, version, v.area_id)


def _hookup_outage(session: Session, actor: User | None, order_id: object, version: object,
                   v: ActionValues) -> WorkOrder:
    return outages.link_hookup(session, actor, order_id, version, v.outage_id)


COMMANDS: Mapping[str, Command] = MappingProxyType({
    "dispatch": _repair_step("dispatch"),
    "support": _support,
    "accept": _accept,
    "depart": _repair_step("depart"),
    "arrive": _repair_step("arrive"),
    "restore": _repair_step("restore"),
    "close": _repair_step("close"),
    "cancel": _cancel,
    "transfer": _repair_step("transfer"),
    "advance": _advance,
    SUPPLY_PLAN: _supply_plan,
    "pause": _pause,
    "resume": _resume,
    NOTE: _note,
    COUNTER_VISIT: _counter_visit,
    TRACKING_CODE: _tracking_code,
    "plan_visit": _plan_visit,
    "record_visit": _record_visit,
    "milestone": _milestone,
    SET_AREA: _set_area,
    HOOKUP_OUTAGE: _hookup_outage,
})
# Actions named with what they act on: record_visit:<visit id>, milestone:<milestone code>.
TARGETED = frozenset({"record_visit", "milestone"})


def run(session: Session, actor: User | None, order_id: object, version: object, action: str,
        values: ActionValues | None = None) -> Any:
    """Take ``action`` on the order through its command; what the service returns (the
    order; the visit for a visit; the order and the code for a tracking code)."""
    name, colon, target = action.partition(":")
    command = COMMANDS.get(name)
    if command is None or bool(colon) != (name in TARGETED):
        raise PortalError(_("Unknown action."))
    return command(session, actor, order_id, version, replace(values or ActionValues(),
                                                              target=target))
