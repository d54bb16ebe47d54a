"""What the counter pages read, for the caller's Scope: the halls a user serves, the ticket
at a counter, the day's queue and its figures.

A hall id from the browser is checked against the scope here: a hall outside it reads
as no hall at all. Plain SQLAlchemy; no Flask, no Dash, nothing from services or pages
(``services/hall.py`` changes tickets and uses these reads too).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from station_portal.auth.scope import Scope
from station_portal.hall import stats
from station_portal.hall.models import AT_COUNTER, HallTicket, ServiceHall, TicketStatus
from station_portal.hall.queue import local_day
from station_portal.validate import as_id

# Waiting tickets listed at a counter.
QUEUE_ROWS = 30


def halls_in_scope(session: Session, scope: Scope) -> list[ServiceHall]:
    """The active halls a user may see, by level and code."""
    return list(session.scalars(
        select(ServiceHall).where(ServiceHall.active.is_(True), scope.unit_filter(ServiceHall.unit_id))
        .order_by(ServiceHall.level, ServiceHall.code)))


def hall_in_scope(session: Session, scope: Scope, hall_id: object) -> ServiceHall | None:
    """One of :func:`halls_in_scope` by its id (anything from a browser); None otherwise."""
    hid = as_id(hall_id)
    return next((h for h in halls_in_scope(session, scope) if h.id == hid), None)


def current_ticket(session: Session, hall_id: int, counter: int, day: Any) -> HallTicket | None:
    """The ticket called to or served at a counter today."""
    return session.scalars(select(HallTicket).where(
        HallTicket.hall_id == hall_id, HallTicket.day == day, HallTicket.counter == counter,
        HallTicket.status.in_([s.value for s in AT_COUNTER]))
        .order_by(HallTicket.called_at.desc())).first()


def waiting_queue(session: Session, hall_id: int, day: date,
                  limit: int = QUEUE_ROWS) -> list[HallTicket]:
    """The day's waiting tickets of a hall, longest waiting first."""
    return list(session.scalars(
        select(HallTicket).where(HallTicket.hall_id == hall_id, HallTicket.day == day,
                                 HallTicket.status == TicketStatus.WAITING.value)
        .order_by(HallTicket.taken_at, HallTicket.id).limit(limit)))


@dataclass(frozen=True)
class AtCounter:
    """A counter's screen: its hall (None: not one of the scope's halls), the counter
    (None: not one of the hall's), the ticket there, the queue and the day's figures
    (``stats.summarise``)."""

    hall: ServiceHall | None
    counter: int | None = None
    current: HallTicket | None = None
    waiting: list[HallTicket] = field(default_factory=list)
    summary: dict[str, Any] = field(default_factory=dict)


def at_counter(session: Session, scope: Scope, hall_id: object, counter: object,
               now: datetime) -> AtCounter:
    """What a clerk at ``counter`` of ``hall_id`` sees now (both as the browser sent them)."""
    hall = hall_in_scope(session, scope, hall_id)
    number = as_id(counter)
    if hall is None or number is None or number > hall.counters:
        return AtCounter(hall)
    day = local_day(now)
    return AtCounter(hall, number, current_ticket(session, hall.id, number, day),
                     waiting_queue(session, hall.id, day),
                     stats.summarise(stats.day_by_hall(session, [hall.id], day)))


def halls_waiting(session: Session, scope: Scope, now: datetime) -> list[tuple[ServiceHall, int]]:
    """The scope's halls and how many wait in each today (the clerk's home page)."""
    halls = halls_in_scope(session, scope)
    frame = stats.day_by_hall(session, [h.id for h in halls], local_day(now))
    counts = dict(zip(frame["hall_id"], frame["waiting"], strict=True)) if not frame.empty else {}
    return [(h, int(counts.get(h.id, 0))) for h in halls]
