"""Delay attribution: who held an application, for how long, and who made it late.

Every second of an application's life belongs to a holder: the unit holding
its current stage, or — while a clock is paused or the customer is at work —
the customer or grid works. Lateness is charged to the holder of each stage
that ran past its own due time. Pure functions over the order's clocks.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from station_portal.sla.calendar import WorkCalendar
from station_portal.sla.clock import late_amount
from station_portal.sla.rules import WORKDAY
from station_portal.workorders.models import PAUSE_HOLDER, PauseReason, WorkOrder


@dataclass(frozen=True)
class Hold:
    holder: str  # "unit", "customer" or "grid_works"
    unit_id: int | None
    stage: str
    start: datetime
    end: datetime
    open: bool  # still running at ``now``


@dataclass(frozen=True)
class Share:
    holder: str
    unit_id: int | None
    held_workdays: float
    late_workdays: float  # whole working days past the due times of the stages it held
    stages: tuple[str, ...]


def holds(order: WorkOrder, now: datetime) -> list[Hold]:
    """The life of an application cut into holder intervals, in time order."""
    out: list[Hold] = []
    pauses = [(p.started_at, p.ended_at or now, PAUSE_HOLDER[PauseReason(p.reason)])
              for p in order.pauses]
    for clock in order.clocks:
        if clock.stage == "total" or clock.entered_at is None:
            continue
        start, end = clock.entered_at, clock.ended_at or now
        is_open = clock.ended_at is None and order.closed_at is None
        if clock.holder != "unit":
            out.append(Hold(clock.holder, None, clock.stage, start, end, is_open))
            continue
        cursor = start
        for p_start, p_end, who in sorted(pauses):
            if p_end <= cursor or p_start >= end:
                continue
            if p_start > cursor:
                out.append(Hold("unit", clock.holder_unit_id, clock.stage, cursor, p_start, False))
            piece_end = min(p_end, end)
            out.append(Hold(who, None, clock.stage, max(p_start, cursor), piece_end,
                            is_open and piece_end == end))
            cursor = piece_end
        if cursor < end:
            out.append(Hold("unit", clock.holder_unit_id, clock.stage, cursor, end, is_open))
    return sorted(out, key=lambda h: h.start)


def shares(order: WorkOrder, now: datetime, calendar: WorkCalendar) -> list[Share]:
    """Per holder: working days held and working days late, the latest first."""
    held: dict[tuple[str, int | None], float] = {}
    late: dict[tuple[str, int | None], float] = {}
    stages: dict[tuple[str, int | None], list[str]] = {}
    for hold in holds(order, now):
        key = (hold.holder, hold.unit_id)
        held[key] = held.get(key, 0.0) + calendar.workdays_between(hold.start, hold.end)
        stages.setdefault(key, [])
        if hold.stage not in stages[key]:
            stages[key].append(hold.stage)
    for clock in order.clocks:
        if clock.stage == "total" or clock.holder != "unit" or clock.due_at is None:
            continue
        finish = clock.ended_at or now
        if finish > clock.due_at:
            key = ("unit", clock.holder_unit_id)
            late[key] = late.get(key, 0.0) + late_amount(WORKDAY, clock.due_at, finish, calendar)
            stages.setdefault(key, [])
    keys = set(held) | set(late)
    result = [Share(h, u, round(held.get((h, u), 0.0), 3), round(late.get((h, u), 0.0), 3),
                    tuple(stages.get((h, u), ()))) for h, u in keys]
    return sorted(result, key=lambda s: (-s.late_workdays, -s.held_workdays))


def current_hold(order: WorkOrder, now: datetime) -> Hold | None:
    """Who holds the application now, and since when."""
    running = [h for h in holds(order, now) if h.open]
    return running[-1] if running else None
