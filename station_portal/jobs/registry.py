"""The scheduler's jobs: what runs, when, and the function each run calls.

Times are local (Asia/Shanghai). Each function gets the run's session (one
transaction with the run's record) and its :class:`RunContext`, and returns a
small summary for the job-runs page.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from station_portal.config import Config
from station_portal.jobs.runner import Job, RunContext
from station_portal.jobs.schedule import Schedule


def sla_watch(session: Session, context: RunContext) -> dict[str, Any]:
    from station_portal.notify.escalation import watch

    return watch(session, context.now).as_dict()


def mail(session: Session, context: RunContext) -> dict[str, Any]:
    from station_portal.notify.mail import deliver

    return deliver(session, context.config, context.now).as_dict()


def visits(session: Session, context: RunContext) -> dict[str, Any]:
    from station_portal.jobs.visits import run

    return run(session, context.now)


def snapshots(session: Session, context: RunContext) -> dict[str, Any]:
    from station_portal.analytics.snapshots import refresh

    report = refresh(session, context.now)
    return {"through": str(report.through or ""), "order_rows": report.order_rows,
            "stage_rows": report.stage_rows, "crew_rows": report.crew_rows,
            "settled": report.settled}


def briefing(session: Session, context: RunContext) -> dict[str, Any]:
    from station_portal.analytics.briefing import last_full_week, make_briefings
    from station_portal.auth.models import User
    from station_portal.auth.roles import Role
    from station_portal.notify.service import notify
    from station_portal.org.models import Unit, UnitKind

    week = last_full_week(context.now)
    made = make_briefings(session, week, context.now)
    session.flush()
    city = [u.id for u in session.scalars(select(Unit).where(Unit.kind == UnitKind.CITY_COMPANY))]
    sent = 0
    for item in made:
        if item.unit_id is None:
            people = session.scalars(select(User).where(
                User.active.is_(True), User.role == Role.COMPANY_MANAGER,
                or_(User.scope_unit_id.is_(None), User.scope_unit_id.in_(city))))
            names = None
        else:
            people = session.scalars(select(User).where(
                User.active.is_(True), User.scope_unit_id == item.unit_id,
                User.role.in_([Role.STATION_HEAD, Role.GRID_MANAGER])))
            unit = session.get(Unit, item.unit_id)
            names = {"zh": unit.name_zh, "en": unit.name_en} if unit else None
        for person in people:
            if notify(session, person, "briefing_ready", now=context.now, params={
                    "briefing_id": item.id, "unit_id": item.unit_id, "unit": names,
                    "week_start": week.isoformat()}):
                sent += 1
    return {"week": week.isoformat(), "briefings": len(made), "notified": sent}


def simulate(session: Session, context: RunContext) -> dict[str, Any]:
    from station_portal.jobs.simulate import simulate as step

    # Up to the slot, never ahead of the clock (a user's real step must not land "before"
    # a simulated one); a catch-up covers the gap up to the simulation's one-hour window.
    return step(session, context.slot, seconds=context.period * (1 + context.coalesced))


def jobs(config: Config, intervals: dict[str, int] | None = None) -> list[Job]:
    """Every job, with ``intervals`` (job -> seconds) replacing a schedule (tests, tuning)."""
    intervals = intervals or {}
    table = [
        Job("sla_watch", Schedule.every(60), sla_watch),
        Job("mail", Schedule.every(60, offset=30), mail),
        Job("visits", Schedule.daily(6, 30), visits),
        Job("snapshots", Schedule.daily(1, 30), snapshots),
        Job("briefing", Schedule.weekly(0, 6, 0), briefing),
        Job("simulate", Schedule.every(60, offset=15), simulate,
            enabled=lambda c: c.simulation_on),
    ]
    unknown = set(intervals) - {job.name for job in table}
    if unknown:
        raise ValueError("unknown job: " + ", ".join(sorted(unknown)))
    return [Job(job.name, Schedule.every(intervals[job.name]), job.run, job.enabled)
            if job.name in intervals else job for job in table]


NAMES = ("sla_watch", "mail", "visits", "snapshots", "briefing", "simulate")
