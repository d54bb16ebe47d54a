"""Queue rules as plain functions: local day and hour, opening hours, labels, the
kiosk's wait estimate and the counter timer's state. No database, no web."""

from __future__ import annotations

import math
from datetime import date, datetime

from station_portal.hall.models import ServiceHall
from station_portal.sla.calendar import WorkCalendar
from station_portal.sla.rules import DEFAULT_WARN_SHARE
from station_portal.timefmt import local


def local_day(at: datetime) -> date:
    return local(at).date()


def local_hour(at: datetime) -> int:
    return local(at).hour


def ticket_label(letter: str, number: int) -> str:
    """"A012": the group's letter and the ticket's number in the group that day."""
    return f"{letter}{number:03d}"


def opens_on(hall: ServiceHall, day: date, calendar: WorkCalendar | None = None) -> bool:
    """Whether the hall opens on ``day``: its weekdays, make-up working days (调休) like a
    working day, statutory holidays only if it opens on holidays."""
    calendar = calendar or WorkCalendar.default()
    weekday, workday = day.weekday(), calendar.is_workday(day)
    if weekday < 5 and not workday:  # a statutory holiday on a weekday
        return bool(hall.open_on_holidays)
    if weekday >= 5 and workday:  # a make-up working day on a weekend
        return True
    days = hall.open_days or ""
    return len(days) == 7 and days[weekday] == "1"


def is_open(hall: ServiceHall, at: datetime, calendar: WorkCalendar | None = None) -> bool:
    shown = local(at)
    if not hall.active or not opens_on(hall, shown.date(), calendar):
        return False
    clock = shown.time().replace(microsecond=0, tzinfo=None)
    return hall.opens_at <= clock <= hall.closes_at


def opening_hours_text(hall: ServiceHall) -> str:
    return f"{hall.opens_at.strftime('%H:%M')}–{hall.closes_at.strftime('%H:%M')}"


def estimate_wait_minutes(ahead: int, service_minutes: float, counters: int) -> int:
    """The wait of a customer with ``ahead`` people before them, served by ``counters``
    counters taking ``service_minutes`` each: whole minutes, rounded up."""
    if ahead <= 0:
        return 0
    return math.ceil(ahead * max(service_minutes, 0.5) / max(counters, 1))


def timer_state(elapsed_seconds: float, standard_minutes: int | None) -> str:
    """"ok", "warning" (past ``DEFAULT_WARN_SHARE`` of the standard, the clocks' warning
    share) or "over" (past it); "none" without one."""
    if not standard_minutes:
        return "none"
    share = elapsed_seconds / (standard_minutes * 60)
    if share > 1:
        return "over"
    return "warning" if share >= DEFAULT_WARN_SHARE else "ok"
