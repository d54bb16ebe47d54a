"""Dispatching crews to repairs: assign, reassign, add support, and crews' positions.

The lead crew is set by the repair's ``dispatch`` step (services.repairs),
which checks the version and writes the timeline; the assignment rows record
who works on the order (the lead, and support crews for a big job).
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from station_portal.auth.models import User
from station_portal.auth.roles import Role
from station_portal.auth.scope import scope_for
from station_portal.db import utcnow
from station_portal.errors import Forbidden, ValidationFailed
from station_portal.i18n import _
from station_portal.org.models import Crew, CrewMember, CrewPing
from station_portal.org.territory import InvalidLocation, check_location
from station_portal.services import changes, repairs
from station_portal.validate import as_id
from station_portal.workorders.models import Kind, OrderAssignment, WorkOrder
from station_portal.workorders.states import OPEN_FOR_SUPPORT


def assign_lead(session: Session, actor: User | None, order_id: object, version: object,
                crew_id: object, *, now: datetime | None = None) -> WorkOrder:
    """Dispatch (or re-dispatch) a repair to a crew; the previous lead is released."""
    return repairs.repair_action(session, actor, order_id, version, "dispatch", crew_id=crew_id, now=now)


def add_support(session: Session, actor: User | None, order_id: object, version: object,
                crew_id: object, *, now: datetime | None = None) -> WorkOrder:
    """A second crew joins a repair that already has its lead crew (until power is restored)."""
    now = now or utcnow()
    changes.require_action(actor, "dispatch_repair")
    order = changes.load_order(session, actor, order_id, Kind.REPAIR, lock_version=version)
    errors: dict[str, str] = {}
    if order.status not in OPEN_FOR_SUPPORT:
        errors["action"] = _("Support joins a repair that has its lead crew and is not done.")
    crew = repairs.dispatchable_crew(session, actor, crew_id, errors)
    if crew is not None and (crew.id == order.crew_id or session.scalar(select(OrderAssignment.id).where(
            OrderAssignment.work_order_id == order.id, OrderAssignment.crew_id == crew.id,
            OrderAssignment.released_at.is_(None)))):
        errors["crew_id"] = _("This crew already works on this repair.")
    if errors:
        raise ValidationFailed(errors)
    assert crew is not None
    changes.claim_version(session, order)
    session.add(OrderAssignment(work_order_id=order.id, crew_id=crew.id, role="support",
                                assigned_at=now, assigned_by=actor.id if actor else None))
    order.updated_at = now
    changes.record_event(session, order, actor, "support_added", now, to_value=crew.code)
    return order


def crew_of_user(session: Session, user: User) -> Crew | None:
    if user.staff_id is None:
        return None
    return session.scalar(select(Crew).join(CrewMember).where(CrewMember.staff_id == user.staff_id))


def record_ping(session: Session, actor: User | None, lat: object, lon: object, *,
                accuracy_m: object = None, at: object = None,
                now: datetime | None = None, crew_id: int | None = None) -> CrewPing:
    """A crew member's phone reports where the crew is.

    The system (``actor`` None: the demo simulation, a vehicle tracker) names the crew
    with ``crew_id`` instead; the ping then has no staff member.
    """
    now = now or utcnow()
    if actor is None:
        crew = session.get(Crew, crew_id) if isinstance(crew_id, int) else None
        if crew is None:
            raise ValidationFailed({"crew": _("There is no such crew.")})
    else:
        if actor.role != Role.CREW:
            raise Forbidden(_("Only crew members report positions."))
        crew = crew_of_user(session, actor)
        if crew is None:
            raise ValidationFailed({"crew": _("You are not in a crew yet.")})
    errors: dict[str, str] = {}
    try:
        lat_f, lon_f = check_location(lat, lon)
    except InvalidLocation:
        errors["location"] = _("Give the location as latitude and longitude.")
        lat_f = lon_f = 0.0
    accuracy = None
    if accuracy_m is not None:
        if isinstance(accuracy_m, bool) or not isinstance(accuracy_m, int | float) \
                or not 0 <= accuracy_m <= 100_000:
            errors["accuracy_m"] = _("Give the accuracy in metres.")
        else:
            accuracy = float(accuracy_m)
    when = now
    if at is not None:
        if not isinstance(at, datetime) or at.tzinfo is None:
            errors["at"] = _("Give the time with its time zone.")
        elif at > now + changes.CLOCK_SKEW or at < now - timedelta(days=1):
            errors["at"] = _("This time is not within the last day.")
        else:
            when = at
    if errors:
        raise ValidationFailed(errors)
    ping = CrewPing(crew_id=crew.id, staff_id=actor.staff_id if actor else None, lat=lat_f,
                    lon=lon_f,
                    accuracy_m=accuracy, at=when, received_at=now)
    session.add(ping)
    if crew.last_seen_at is None or when >= crew.last_seen_at:
        crew.last_lat, crew.last_lon, crew.last_seen_at = lat_f, lon_f, when
    return ping


def set_on_duty(session: Session, actor: User | None, crew_id: object, on_duty: bool) -> Crew:
    """A station head or grid manager puts a crew on or off duty."""
    changes.require_action(actor, "dispatch_repair")
    crew = session.get(Crew, as_id(crew_id)) if as_id(crew_id) else None
    if crew is None or (actor is not None and not scope_for(session, actor).sees_unit(crew.unit_id)):
        raise ValidationFailed({"crew_id": _("Choose a crew.")})
    crew.on_duty = bool(on_duty)
    return crew
