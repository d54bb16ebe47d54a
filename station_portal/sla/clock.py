"""Stage clocks: due time, warning time and status, with pauses (pure functions).

A clock starts at an instant, has a limit (working days or clock minutes, or
none), may be paused for reasons outside the utility's hands, and ends when
its stage is done. Paused time extends the due time, measured the way the
limit is: clock minutes for a repair; for working days, whole days counted as
the Civil Code counts a period (arts. 201–203): the day a pause starts is not
counted, every working day after it up to and including the day it ends is.
So a due time always falls at 24:00 of a working day, and a pause that starts
and ends on one day moves nothing. While a pause is still open, the due time
is shown as if it ended now.

Lateness has one figure everywhere (:func:`late_amount`): whole working days
for working-day limits (any part of a working day past the due time counts as
that day; finishing on a rest day after the due time counts one), minutes for
minute limits.

Statuses: ``on_track`` → ``at_risk`` (past the warning share of the limit) →
``overdue``; once ended, ``met`` or ``missed``. A clock without a published
limit is ``no_limit``.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from station_portal.sla.calendar import WorkCalendar, end_of_day
from station_portal.sla.rules import DEFAULT_WARN_SHARE, MINUTE, WORKDAY, Limit
from station_portal.timefmt import local

ON_TRACK = "on_track"
AT_RISK = "at_risk"
OVERDUE = "overdue"
MET = "met"
MISSED = "missed"
NO_LIMIT = "no_limit"
STATUSES = (ON_TRACK, AT_RISK, OVERDUE, MET, MISSED, NO_LIMIT)
OPEN_STATUSES = (ON_TRACK, AT_RISK, OVERDUE)


@dataclass(frozen=True)
class Pause:
    start: datetime
    end: datetime | None  # None: still paused
    reason: str = ""


@dataclass(frozen=True)
class ClockState:
    due: datetime | None
    warn: datetime | None
    status: str
    paused: bool  # a pause is open now
    paused_amount: float  # in the limit's unit (working days or minutes)
    provisional: bool  # the due time depends on a year no official calendar covers


def overlap(pause: Pause, start: datetime, end: datetime) -> tuple[datetime, datetime] | None:
    """The part of a pause inside [start, end], if any."""
    a = max(pause.start, start)
    b = min(pause.end or end, end)
    return (a, b) if b > a else None


def merged(pauses: Sequence[Pause], start: datetime, end: datetime) -> list[tuple[datetime, datetime]]:
    """The pauses clipped to [start, end] and merged where they overlap (time stops once)."""
    parts = sorted(p for p in (overlap(pause, start, end) for pause in pauses) if p is not None)
    out: list[tuple[datetime, datetime]] = []
    for a, b in parts:
        if out and a <= out[-1][1]:
            out[-1] = (out[-1][0], max(out[-1][1], b))
        else:
            out.append((a, b))
    return out


def paused_amount(limit_unit: str | None, pauses: Sequence[Pause], start: datetime,
                  end: datetime, calendar: WorkCalendar) -> float:
    """Paused time within [start, end], in working days or minutes."""
    total = 0.0
    for a, b in merged(pauses, start, end):
        if limit_unit == WORKDAY:
            total += whole_workdays(a, b, calendar)
        else:
            total += (b - a).total_seconds() / 60
    return total


def whole_workdays(a: datetime, b: datetime, calendar: WorkCalendar) -> int:
    """Working days after ``a``'s day up to and including ``b``'s day (Civil Code counting).

    An instant at exactly midnight is 24:00 of the day before, as for a period's start
    (:func:`sla.calendar.start_days`).
    """
    first, last = _day_of(a), _day_of(b)
    if last <= first:
        return 0
    return round(calendar.ordinal(end_of_day(last)) - calendar.ordinal(end_of_day(first)))


def _day_of(instant: datetime) -> date:
    shown = local(instant)
    if (shown.hour, shown.minute, shown.second, shown.microsecond) == (0, 0, 0, 0):
        return shown.date() - timedelta(days=1)
    return shown.date()


def late_amount(unit: str | None, due: datetime, finish: datetime, calendar: WorkCalendar) -> float:
    """How late ``finish`` is against ``due``: whole working days or minutes (0 if on time)."""
    if finish <= due:
        return 0.0
    if unit == WORKDAY:
        days = math.ceil(round(calendar.workdays_between(due, finish), 6))
        return float(max(days, 1))
    return round((finish - due).total_seconds() / 60, 6)


def left_amount(unit: str | None, due: datetime, now: datetime, calendar: WorkCalendar) -> float:
    """Time left before ``due``: working days begun (today counts when it is one), or minutes."""
    if now >= due:
        return 0.0
    if unit == WORKDAY:
        return float(math.ceil(round(calendar.workdays_between(now, due), 6)))
    return round((due - now).total_seconds() / 60, 6)


def compute_clock(
    *,
    start: datetime,
    limit: Limit,
    pauses: Sequence[Pause] = (),
    ended: datetime | None = None,
    now: datetime,
    calendar: WorkCalendar,
    warn_share: float = DEFAULT_WARN_SHARE,
) -> ClockState:
    """Where a clock stands at ``now``."""
    horizon = ended or now
    is_paused = ended is None and any(p.start <= now and p.end is None for p in pauses)
    if not limit.exists:
        return ClockState(None, None, NO_LIMIT, is_paused, 0.0, False)
    amount = paused_amount(limit.unit, pauses, start, max(horizon, start), calendar)
    # The warning comes when the share of the *utility's* time is used up, so a
    # pause moves it exactly as it moves the due time.
    if limit.unit == WORKDAY:
        base_ordinal = calendar.ordinal(calendar.add_workdays(start, int(limit.amount)))
        start_ordinal = calendar.ordinal(start)
        due = calendar.instant(base_ordinal + amount)
        span = base_ordinal - start_ordinal
        warn = calendar.instant(start_ordinal + warn_share * span + amount) if span > 0 else due
        provisional = calendar.provisional_between(start, due)
    elif limit.unit == MINUTE:
        due = start + timedelta(minutes=limit.amount + amount)
        warn = start + timedelta(minutes=warn_share * limit.amount + amount)
        provisional = False
    else:
        raise ValueError(f"unknown limit unit {limit.unit!r}")
    if ended is not None:
        status = MET if ended <= due else MISSED
    elif now >= due:
        status = OVERDUE
    elif now >= warn:
        status = AT_RISK
    else:
        status = ON_TRACK
    return ClockState(due, warn, status, is_paused, amount, provisional)
