"""Keeping a work order's clocks and its SLA summary current.

``refresh`` recomputes every clock from its start, limit and the order's
pauses (so a pause or a new rule set never leaves a stale due time), then the
order's summary: the earliest running due time and the worst status.
No queries here: it works on the objects it is given.
"""

from __future__ import annotations

from datetime import datetime

import numpy as np

from station_portal.sla.calendar import WorkCalendar
from station_portal.sla.clock import (
    AT_RISK,
    MET,
    MISSED,
    NO_LIMIT,
    ON_TRACK,
    OVERDUE,
    Pause,
    compute_clock,
)
from station_portal.sla.rules import DEFAULT_WARN_SHARE, START_ACCEPTED, WORKDAY, Limit, RuleSet
from station_portal.workorders.models import PauseReason, StageClock, WorkOrder

# A clock stopped because its order was cancelled: neither met nor missed.
CANCELLED = "cancelled"
# Worst first: the order shows the worst of its clocks.
SEVERITY = {OVERDUE: 0, MISSED: 1, AT_RISK: 2, ON_TRACK: 3, MET: 4, NO_LIMIT: 5, CANCELLED: 6}
# Repair clocks run 24/7 and are not stopped by an application's pauses.
UNPAUSED_STAGES = ("arrival", "restoration")


def apply_rule_set(order: WorkOrder, rules: RuleSet, accepted: datetime | None, *,
                   grid_works: bool = False) -> None:
    """Limits from the rule set in force at acceptance; clocks that start at acceptance start.

    Applied again when the class changes (the supply plan) or the application starts or
    stops waiting on grid works (``grid_works``: the rule set's rule for them applies).
    """
    order.ruleset_id = rules.id
    klass = order.customer_class or ""
    for clock in order.clocks:
        limit = rules.total_for(order.business_type, klass, grid_works=grid_works) \
            if clock.stage == "total" else \
            rules.stage_limit(order.business_type, klass, clock.stage, grid_works=grid_works)
        clock.limit_amount, clock.limit_source = limit.amount, limit.source[:300]
        clock.limit_unit = limit.unit or (WORKDAY if clock.stage == "total" else None)
        if accepted is not None and (clock.stage == "total" or
                                     (limit.exists and limit.start == START_ACCEPTED)):
            clock.started_at = accepted


def limit_of(clock: StageClock) -> Limit:
    return Limit(clock.limit_amount, clock.limit_unit, clock.limit_source)


def stops_clocks(reason: str) -> bool:
    """Waiting on grid works never stops a clock (the rule set gives its limit instead);
    every other pause (the customer's documents, works or request) does."""
    return reason != PauseReason.GRID_WORKS


def pauses_of(order: WorkOrder) -> list[Pause]:
    """The pauses that stop the order's clocks."""
    return [Pause(p.started_at, p.ended_at, p.reason) for p in order.pauses
            if stops_clocks(p.reason)]


SHANGHAI_OFFSET = 8 * 3600  # Asia/Shanghai has kept UTC+8 without summer time since 1991
DAY = 86_400


def end_of_local_day(timestamps: np.ndarray) -> np.ndarray:
    """24:00 Shanghai of each instant's day, as Unix seconds (an instant at midnight is
    24:00 of the day before, as for a period's start: ``sla.calendar.start_days``)."""
    return np.ceil((timestamps + SHANGHAI_OFFSET) / DAY) * DAY - SHANGHAI_OFFSET


def outcomes(started: np.ndarray, ended: np.ndarray, due: np.ndarray, paused: np.ndarray,
             in_minutes: np.ndarray, calendar: WorkCalendar) -> tuple[np.ndarray, np.ndarray]:
    """What finished clocks used and how late they were, vectorised over Unix seconds.

    Repair clocks count clock minutes. Application stages count whole working days as
    the Civil Code counts a period (the start day not counted, the end day counted),
    their paused working days deducted; lateness is :func:`sla.clock.late_amount`.
    ``due`` is NaN for a clock without a limit (never late).
    """
    started, ended, due = (np.asarray(a, dtype=float) for a in (started, ended, due))
    paused = np.asarray(paused, dtype=float)
    in_minutes = np.asarray(in_minutes, dtype=bool)
    has_due = ~np.isnan(due)
    safe_due = np.where(has_due, due, ended)
    used = (ended - started) / 60.0
    late = np.maximum(ended - safe_due, 0.0) / 60.0
    days = ~in_minutes
    if days.any():
        whole = calendar.ordinals(end_of_local_day(ended[days])) \
            - calendar.ordinals(end_of_local_day(started[days]))
        used[days] = np.maximum(np.round(whole) - paused[days], 0.0)
        past = np.ceil(np.round(calendar.ordinals(ended[days])
                                - calendar.ordinals(safe_due[days]), 6))
        is_late = ended[days] > safe_due[days]
        late[days] = np.where(is_late, np.maximum(past, 1.0), 0.0)
    return np.round(used, 6), np.round(late, 6)


def settle_clock(clock: StageClock, calendar: WorkCalendar) -> None:
    """Record what a finished clock used and how late it was (None while it runs)."""
    if clock.ended_at is None or clock.started_at is None or \
            (clock.planned_at is not None and clock.limit_amount is None):
        clock.used = clock.late_by = None
        return
    used, late = outcomes(
        np.array([clock.started_at.timestamp()]), np.array([clock.ended_at.timestamp()]),
        np.array([clock.due_at.timestamp() if clock.due_at else np.nan]),
        np.array([clock.paused_amount or 0.0]), np.array([clock.stage in UNPAUSED_STAGES]),
        calendar)
    clock.used, clock.late_by = float(used[0]), float(late[0])


def refresh_clock(clock: StageClock, pauses: list[Pause], now: datetime,
                  calendar: WorkCalendar, warn_share: float) -> None:
    if clock.started_at is None:  # not started yet
        clock.due_at = clock.warn_at = clock.status = None
        clock.provisional = False
        clock.paused_amount = 0.0
        clock.used = clock.late_by = None
        return
    if clock.planned_at is not None and clock.limit_amount is None:  # a planned milestone
        clock.due_at, clock.warn_at = clock.planned_at, None
        if clock.ended_at is not None:
            clock.status = MET if clock.ended_at <= clock.planned_at else MISSED
        else:
            clock.status = OVERDUE if now >= clock.planned_at else ON_TRACK
        clock.used = clock.late_by = None
        return
    applicable = [] if clock.stage in UNPAUSED_STAGES else pauses
    state = compute_clock(start=clock.started_at, limit=limit_of(clock), pauses=applicable,
                          ended=clock.ended_at, now=now, calendar=calendar,
                          warn_share=warn_share)
    clock.due_at, clock.warn_at, clock.status = state.due, state.warn, state.status
    clock.provisional = state.provisional
    clock.paused_amount = round(state.paused_amount, 6)
    settle_clock(clock, calendar)


def customer_stage_pauses(order: WorkOrder) -> list[Pause]:
    """Stages the customer holds (their construction): the whole-process clock stops then."""
    return [Pause(c.entered_at, c.ended_at, "customer_stage") for c in order.clocks
            if c.holder == "customer" and c.entered_at is not None]


def refresh(order: WorkOrder, now: datetime, calendar: WorkCalendar, warn_share: float) -> None:
    """Recompute all clocks of ``order`` and its SLA summary."""
    pauses = pauses_of(order)
    total_pauses = pauses + customer_stage_pauses(order)
    for clock in order.clocks:
        refresh_clock(clock, total_pauses if clock.stage == "total" else pauses, now, calendar,
                      warn_share)
        if order.status == CANCELLED and clock.ended_at is not None \
                and clock.ended_at == order.closed_at:
            clock.status = CANCELLED  # stopped by the cancellation, not a result
    order.paused = any(p.end is None for p in pauses)
    running = [c for c in order.clocks
               if c.started_at is not None and c.ended_at is None and c.due_at is not None]
    if running:
        first = min(running, key=lambda c: c.due_at)
        order.due_at, order.warn_at = first.due_at, first.warn_at
    else:
        order.due_at = order.warn_at = None
    # An open order shows its worst running clock; a closed one its worst result.
    considered = running if order.closed_at is None else order.clocks
    statuses = [c.status for c in considered if c.status and c.status not in (NO_LIMIT, CANCELLED)]
    order.sla_status = min(statuses, key=SEVERITY.__getitem__) if statuses else None


def refresh_now(order: WorkOrder, now: datetime) -> None:
    """:func:`refresh` with the default calendar and the order's own rule set."""
    rule_set = RuleSet.by_id(order.ruleset_id) if order.ruleset_id else None
    refresh(order, now, WorkCalendar.default(), rule_set.warn_share if rule_set else DEFAULT_WARN_SHARE)
