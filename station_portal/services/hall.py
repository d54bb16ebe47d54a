"""Service-hall queue use cases (营业厅排队叫号): take a ticket, call the next one,
recall, start and finish the service, mark a no-show, transfer; the night closes
what is left open.

Every change writes its audit row in the same transaction. ``actor=None`` is the
system (the demo simulation's clerks), as everywhere in the services. A ticket changes
by claiming its next ``version`` (``services.changes``): of two clerks acting on one
ticket exactly one wins, the other gets a clear message and nothing is written. ``call_next``
claims the longest-waiting ticket of the counter's groups the same way; a
clerk who loses a ticket to a colleague gets the next one.

Finishing a ticket with a work-order code records a counter visit on that
order (``counter_visits`` + 1 and a timeline event, through
``services.customer.count_counter_visit``), so the KPI "counter visits per application" counts it.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from station_portal.auth.models import User
from station_portal.auth.scope import SYSTEM_SCOPE, Scope, scope_for
from station_portal.db import serialize_on, utcnow
from station_portal.errors import Conflict, NotFound, PortalError, ValidationFailed
from station_portal.hall.catalog import BusinessType, load_catalog
from station_portal.hall.models import HallTicket, ServiceHall, TicketStatus

# The reads live in hall.queries; the hall dashboard and the demo's clerks call them here.
from station_portal.hall.queries import current_ticket as current_ticket
from station_portal.hall.queries import halls_in_scope as halls_in_scope
from station_portal.hall.queue import (
    is_open,
    local_day,
    local_hour,
    opening_hours_text,
    ticket_label,
)
from station_portal.i18n import _
from station_portal.services import changes
from station_portal.services.customer import count_counter_visit
from station_portal.validate import as_id, has_control_chars
from station_portal.workorders.access import sees_order
from station_portal.workorders.models import WorkOrder

SERVE = "serve_counter"
# Work-order codes look like "A2026110100123"; anything longer is not one.
MAX_CODE = 32
# How many times call_next moves on to the next ticket after losing one to a colleague.
CALL_ATTEMPTS = 20


class HallClosed(PortalError):
    status = 409


class NoTicketsLeft(Conflict):
    """The hall has given out its daily cap of tickets (``data/service_hall.toml``): the
    others got there first."""

    status = 429


# -- halls ------------------------------------------------------------------------------

def hall_by_code(session: Session, code: object) -> ServiceHall | None:
    """An active hall by its public code (kiosk and display pages); None if unknown."""
    if not isinstance(code, str) or not code or len(code) > 32 or has_control_chars(code):
        return None
    return session.scalar(select(ServiceHall).where(ServiceHall.code == code,
                                                    ServiceHall.active.is_(True)))


def _require(session: Session, actor: User | None) -> Scope:
    if actor is None:  # the system: the demo simulation's clerks
        return SYSTEM_SCOPE
    changes.require_action(actor, SERVE, _("Your role may not serve at a counter."))
    return scope_for(session, actor)


def _hall_in_scope(session: Session, scope: Scope, hall_id: object) -> ServiceHall:
    hid = as_id(hall_id)
    hall = session.get(ServiceHall, hid) if hid is not None else None
    if hall is None or not hall.active or not scope.sees_unit(hall.unit_id):
        raise NotFound(_("There is no such service hall in your area."))
    return hall


def _counter(hall: ServiceHall, counter: object) -> int:
    number = as_id(counter)
    if number is None or number > hall.counters:
        raise ValidationFailed({"counter": _("Choose a counter from 1 to %(n)s.", n=hall.counters)})
    return number


def _groups(hall: ServiceHall, counter: int, groups: Iterable[object] | None) -> tuple[str, ...]:
    letters = load_catalog().letters
    if groups is None:
        chosen = hall.groups_of_counter(counter, letters)
    elif isinstance(groups, list | tuple | set | frozenset):
        chosen = tuple(x for x in letters if x in set(groups))
        if len(chosen) != len(set(groups)):
            raise ValidationFailed({"groups": _("Choose business groups from the list.")})
    else:
        raise ValidationFailed({"groups": _("Choose business groups from the list.")})
    if not chosen:
        raise ValidationFailed({"groups": _("Choose at least one business group to serve.")})
    return chosen


def _business(code: object) -> BusinessType:
    business = load_catalog().business(code)
    if business is None:
        raise ValidationFailed({"business": _("Choose one of the listed businesses.")})
    return business


# -- taking a ticket (the kiosk: no account) ---------------------------------------------

@dataclass(frozen=True)
class TakenTicket:
    ticket: HallTicket
    ahead: int


def take_ticket(session: Session, hall: ServiceHall, business_code: object, *,
                now: datetime | None = None, ip: str | None = None) -> TakenTicket:
    """A new ticket for ``business_code`` at ``hall``, numbered per hall, day and group; at
    most the hall level's daily cap (``data/service_hall.toml`` ``[daily_tickets]``) a day."""
    now = now or utcnow()
    business = _business(business_code)
    if not is_open(hall, now):
        raise HallClosed(_("The hall is closed now. Opening hours: %(hours)s.",
                           hours=opening_hours_text(hall)))
    day = local_day(now)
    serialize_on(session, f"hall-tickets:{hall.id}:{day.isoformat()}")
    seq = (session.scalar(select(func.max(HallTicket.seq)).where(
        HallTicket.hall_id == hall.id, HallTicket.day == day)) or 0) + 1
    cap = load_catalog().daily_cap(hall.level)
    if seq > cap:
        raise NoTicketsLeft(_("This hall has given out all %(n)s queue tickets it can serve "
                              "today. Please come back on its next opening day, or call the "
                              "95598 hotline.", n=cap))
    # Numbered by label letter, not by the current group: a transferred ticket keeps its label.
    in_group = session.scalar(select(func.count()).select_from(HallTicket).where(
        HallTicket.hall_id == hall.id, HallTicket.day == day,
        HallTicket.label.like(f"{business.group}%"))) or 0
    ticket = HallTicket(
        hall_id=hall.id, day=day, seq=seq, label=ticket_label(business.group, in_group + 1),
        group=business.group, business=business.code, standard_minutes=business.standard_minutes,
        hour=local_hour(now), taken_at=now, status=TicketStatus.WAITING.value, recalls=0,
        transfers=0, version=1)
    session.add(ticket)
    session.flush()
    ahead = people_ahead(session, ticket)
    changes.record_audit(session, None, "hall_ticket_taken", entity_type="hall_ticket",
                         entity_id=ticket.id, ip=ip, at=now, subject=hall.code,
                         details={"label": ticket.label, "business": business.code})
    return TakenTicket(ticket, ahead)


def people_ahead(session: Session, ticket: HallTicket) -> int:
    """Waiting tickets of the same group taken before this one."""
    return session.scalar(select(func.count()).select_from(HallTicket).where(
        HallTicket.hall_id == ticket.hall_id, HallTicket.day == ticket.day,
        HallTicket.status == TicketStatus.WAITING.value, HallTicket.group == ticket.group,
        (HallTicket.taken_at < ticket.taken_at)
        | ((HallTicket.taken_at == ticket.taken_at) & (HallTicket.id < ticket.id)))) or 0


# -- at the counter --------------------------------------------------------------------

def call_next(session: Session, actor: User | None, hall_id: object, counter: object,
              groups: Iterable[object] | None = None, *,
              now: datetime | None = None) -> HallTicket | None:
    """Call the longest-waiting ticket of the counter's groups to ``counter``; None if
    nobody waits. Two clerks calling at once never get the same ticket."""
    now = now or utcnow()
    scope = _require(session, actor)
    hall = _hall_in_scope(session, scope, hall_id)
    number = _counter(hall, counter)
    letters = _groups(hall, number, groups)
    day = local_day(now)
    serialize_on(session, f"hall-counter:{hall.id}:{number}")
    busy = current_ticket(session, hall.id, number, day)
    if busy is not None:
        raise Conflict(_("Counter %(n)s still has ticket %(label)s. Finish it or mark it a "
                         "no-show first.", n=number, label=busy.label))
    for _attempt in range(CALL_ATTEMPTS):
        ticket = session.scalars(
            select(HallTicket)
            .where(HallTicket.hall_id == hall.id, HallTicket.day == day,
                   HallTicket.status == TicketStatus.WAITING.value, HallTicket.group.in_(letters))
            .order_by(HallTicket.taken_at, HallTicket.id).limit(1)
            .execution_options(populate_existing=True)).first()
        if ticket is None:
            return None
        values: dict[str, Any] = {
            "status": TicketStatus.CALLED.value, "called_at": now, "counter": number,
            "served_by": actor.id if actor else None, "started_at": None}
        if ticket.first_called_at is None:
            values["first_called_at"] = now
            values["wait_seconds"] = max(0, int((now - ticket.taken_at).total_seconds()))
        try:
            # Any change of a ticket claims its version: still at the version read, it still waits.
            _claim(session, ticket, values)
        except Conflict:
            continue  # a colleague called it a moment ago: the next one
        _audit(session, actor, "hall_ticket_called", ticket, now, hall)
        return ticket
    raise Conflict(_("Many counters are calling at once. Press call again."))


def _audit(session: Session, actor: User | None, action: str, ticket: HallTicket, now: datetime,
           hall: ServiceHall, **details: Any) -> None:
    changes.record_audit(session, actor, action, subject=hall.code, entity_type="hall_ticket",
                         entity_id=ticket.id, at=now,
                         details={"label": ticket.label, "counter": ticket.counter, **details})


def _ticket_conflict(ticket: HallTicket) -> Conflict:
    return Conflict(_("Ticket %(label)s was changed at another counter a moment ago. "
                      "The page now shows its current state.", label=ticket.label))


def _load(session: Session, actor: User | None, ticket_id: object, version: object,
          allowed: tuple[TicketStatus, ...]) -> tuple[HallTicket, ServiceHall, Scope]:
    scope = _require(session, actor)
    tid = as_id(ticket_id, big=True)
    ticket = session.get(HallTicket, tid) if tid is not None else None
    hall = session.get(ServiceHall, ticket.hall_id) if ticket is not None else None
    if ticket is None or hall is None or not scope.sees_unit(hall.unit_id):
        raise NotFound(_("There is no such ticket in your halls."))
    changes.check_version(version, ticket.version, lambda: _ticket_conflict(ticket), required=True)
    if ticket.status not in {s.value for s in allowed}:
        raise Conflict(_("Ticket %(label)s is no longer at this step. The page now shows "
                         "its current state.", label=ticket.label))
    return ticket, hall, scope


def _claim(session: Session, ticket: HallTicket, values: dict[str, Any]) -> None:
    """The ticket's next version (or a conflict), then the new values."""
    changes.claim_version(session, ticket, lambda: _ticket_conflict(ticket))
    for name, value in values.items():
        setattr(ticket, name, value)


def recall(session: Session, actor: User | None, ticket_id: object, version: object, *,
           now: datetime | None = None) -> HallTicket:
    """Call the same ticket again (the customer did not come yet)."""
    now = now or utcnow()
    ticket, hall, _scope = _load(session, actor, ticket_id, version, (TicketStatus.CALLED,))
    _claim(session, ticket, {"called_at": now, "recalls": ticket.recalls + 1})
    _audit(session, actor, "hall_ticket_recalled", ticket, now, hall, recalls=ticket.recalls)
    return ticket


def start_service(session: Session, actor: User | None, ticket_id: object, version: object, *,
                  now: datetime | None = None) -> HallTicket:
    """The customer is at the counter: the service clock starts."""
    now = now or utcnow()
    ticket, hall, _scope = _load(session, actor, ticket_id, version, (TicketStatus.CALLED,))
    _claim(session, ticket, {"status": TicketStatus.SERVING.value, "started_at": now,
                             "served_by": actor.id if actor else None})
    _audit(session, actor, "hall_service_started", ticket, now, hall)
    return ticket


def _work_order(session: Session, scope: Scope, code: object) -> WorkOrder | None:
    if code is None or (isinstance(code, str) and not code.strip()):
        return None
    if not isinstance(code, str) or len(code.strip()) > MAX_CODE or has_control_chars(code):
        raise ValidationFailed({"work_order": _("A work-order number has at most %(n)s letters "
                                                "and digits.", n=MAX_CODE)})
    clean = code.strip().upper()
    order = session.scalar(select(WorkOrder).where(WorkOrder.code == clean))
    if order is None or not sees_order(scope, order):
        raise ValidationFailed({"work_order": _(
            "There is no work order %(code)s in your area. Check the number on the customer's "
            "receipt.", code=clean)})
    return order


def finish_service(session: Session, actor: User | None, ticket_id: object, version: object, *,
                   work_order_code: object = None, now: datetime | None = None) -> HallTicket:
    """The service is done; with a work-order code, a counter visit is recorded on that order."""
    now = now or utcnow()
    ticket, hall, scope = _load(session, actor, ticket_id, version,
                                (TicketStatus.CALLED, TicketStatus.SERVING))
    order = _work_order(session, scope, work_order_code)
    if order is not None:  # checked before the ticket changes: a refused code changes nothing
        count_counter_visit(session, actor, order, field="work_order",
                            details={"hall": hall.code, "ticket": ticket.label,
                                     "counter": ticket.counter}, now=now)
    started = ticket.started_at or ticket.called_at or now
    seconds = max(0, int((now - started).total_seconds()))
    within = seconds <= ticket.standard_minutes * 60 if ticket.standard_minutes else None
    _claim(session, ticket, {
        "status": TicketStatus.DONE.value, "started_at": started, "finished_at": now,
        "service_seconds": seconds, "within_standard": within,
        "work_order_id": order.id if order is not None else None})
    _audit(session, actor, "hall_service_finished", ticket, now, hall, seconds=seconds,
           within_standard=within, work_order=order.code if order is not None else None)
    return ticket


def mark_no_show(session: Session, actor: User | None, ticket_id: object, version: object, *,
                 now: datetime | None = None) -> HallTicket:
    """The customer did not come to the counter."""
    now = now or utcnow()
    ticket, hall, _scope = _load(session, actor, ticket_id, version, (TicketStatus.CALLED,))
    _claim(session, ticket, {"status": TicketStatus.NO_SHOW.value, "finished_at": now})
    _audit(session, actor, "hall_ticket_no_show", ticket, now, hall, recalls=ticket.recalls)
    return ticket


def transfer(session: Session, actor: User | None, ticket_id: object, version: object, business: object,
             *, now: datetime | None = None) -> HallTicket:
    """Send the customer to another business: the ticket keeps its label and its place
    (its taking time) in the queue of the new business's group."""
    now = now or utcnow()
    target = _business(business)
    ticket, hall, _scope = _load(session, actor, ticket_id, version,
                                 (TicketStatus.CALLED, TicketStatus.SERVING))
    if target.code == ticket.business:
        raise ValidationFailed({"business": _("Choose another business than the ticket's own.")})
    before = ticket.business
    # Time already spent serving the first business is kept in the audit row (the ticket's
    # own service time is the last business's).
    served = int((now - ticket.started_at).total_seconds()) \
        if ticket.status == TicketStatus.SERVING.value and ticket.started_at else None
    _claim(session, ticket, {
        "status": TicketStatus.WAITING.value, "business": target.code, "group": target.group,
        "standard_minutes": target.standard_minutes, "counter": None, "served_by": None,
        "called_at": None, "started_at": None, "transfers": ticket.transfers + 1})
    _audit(session, actor, "hall_ticket_transferred", ticket, now, hall, from_business=before,
           to_business=target.code, served_seconds=served)
    return ticket


# What the night does to a ticket still open from a past day (nobody will serve it now).
CLOSE_AT_NIGHT = {TicketStatus.WAITING: TicketStatus.CANCELLED,
                  TicketStatus.CALLED: TicketStatus.NO_SHOW,
                  TicketStatus.SERVING: TicketStatus.DONE}


def close_past_days(session: Session, now: datetime | None = None) -> int:
    """Close the tickets left open on days before today (the daily clean-up job): waiting
    ones are cancelled, called ones did not come, ones being served are done without a
    service time. One audit row per hall and day; the number of tickets closed."""
    now = now or utcnow()
    today = local_day(now)
    open_ = [s.value for s in CLOSE_AT_NIGHT]
    groups = session.execute(
        select(HallTicket.hall_id, HallTicket.day, HallTicket.status, func.count())
        .where(HallTicket.day < today, HallTicket.status.in_(open_))
        .group_by(HallTicket.hall_id, HallTicket.day, HallTicket.status)).all()
    closed = 0
    for status, target in CLOSE_AT_NIGHT.items():
        values: dict[str, Any] = {"status": target.value, "version": HallTicket.version + 1}
        if target == TicketStatus.DONE:
            values["finished_at"] = now
        closed += session.execute(
            update(HallTicket).where(HallTicket.day < today,
                                     HallTicket.status == status.value).values(**values)
            .execution_options(synchronize_session=False)).rowcount or 0
    per_day: dict[tuple[int, Any], dict[str, int]] = {}
    for hall_id, day, status, n in groups:
        per_day.setdefault((hall_id, day), {})[status] = n
    for (hall_id, day), counts in per_day.items():
        changes.record_audit(session, None, "hall_tickets_closed", entity_type="service_hall",
                             entity_id=hall_id, at=now, details={"day": day.isoformat(), **counts})
    return closed
