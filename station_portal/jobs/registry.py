"""The scheduler's jobs: what runs, when, and the function each run calls.

Times are local (Asia/Shanghai). Each function gets the run's session (one
transaction with the run's record) and its :class:`RunContext`, and returns a
small summary for the job-runs page.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from typing import Any

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from station_portal.config import Config
from station_portal.jobs.runner import Job, RunContext
from station_portal.jobs.schedule import Schedule


def sla_watch(session: Session, context: RunContext) -> dict[str, Any]:
    from station_portal.notify.escalation import watch

    return watch(session, context.now).as_dict()


def mail(_session: None, context: RunContext) -> dict[str, Any]:
    from station_portal.notify.mail import deliver

    return deliver(context.database, context.config, context.now).as_dict()


def outages(_session: None, context: RunContext) -> dict[str, Any]:
    """Escalate outages not announced by their notice deadline, then tell the customers of
    announced ones (``notify.outage_notices``; sending runs outside a transaction)."""
    from station_portal.notify.outage_notices import deliver, watch

    with context.database.write() as session:
        watched = watch(session, context.now)
    return {**watched, **deliver(context.database, context.config, context.now).as_dict()}


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
    """Briefings for every finished week since the last one made (at most
    :data:`BRIEFING_CATCH_UP` weeks back), and a notice for each one made now."""
    from station_portal.analytics.briefing import last_full_week, make_briefings
    from station_portal.analytics.models import Briefing
    from station_portal.auth.models import User
    from station_portal.auth.roles import Role
    from station_portal.notify.service import notify
    from station_portal.org.models import Unit, UnitKind

    newest = last_full_week(context.slot)
    made_before = session.scalar(select(func.max(Briefing.week_start)))
    first = newest - timedelta(weeks=BRIEFING_CATCH_UP - 1)
    if made_before is not None:
        first = max(first, made_before + timedelta(weeks=1))
    weeks = []
    week = first
    while week <= newest:
        weeks.append(week)
        week += timedelta(weeks=1)
    city = [u.id for u in session.scalars(select(Unit).where(Unit.kind == UnitKind.CITY_COMPANY))]
    made = sent = 0
    for week in weeks:
        existing = set(session.scalars(select(Briefing.id).where(Briefing.week_start == week)))
        fresh = [b for b in make_briefings(session, week, context.now) if b.id not in existing]
        session.flush()
        made += len(fresh)
        if week != newest:
            continue  # a week caught up after downtime is made quietly: only the newest is news
        for item in fresh:
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
    return {"weeks": [w.isoformat() for w in weeks], "briefings": made, "notified": sent}


def prune(_session: None, context: RunContext) -> dict[str, Any]:
    """Keep the record tables small (:mod:`station_portal.jobs.retention`: what goes after
    how long, in short batches of their own), after closing the hall tickets left open on
    past days and removing documents kept for refused online applications once their hour
    has passed. Runs outside one big transaction, like the mail job."""
    from station_portal.jobs.retention import prune as prune_old
    from station_portal.services.customer import prune_pending
    from station_portal.services.hall import close_past_days
    from station_portal.storage import for_config

    now = context.now
    with context.database.write() as session:
        closed = close_past_days(session, now)
    kept = prune_pending(for_config(context.config), now=now.timestamp())
    report = prune_old(context.database, context.config, now)
    return {**report.as_dict(), "hall_tickets": closed, "kept_uploads": kept}


def simulate(session: Session, context: RunContext) -> dict[str, Any]:
    from station_portal.demo.simulate import simulate as step

    # Up to the slot, never ahead of the clock (a user's real step must not land "before"
    # a simulated one); a catch-up covers the gap up to the simulation's one-hour window.
    return step(session, context.slot, seconds=context.period * (1 + context.coalesced))


def jobs(config: Config, intervals: dict[str, int] | None = None) -> list[Job]:
    """Every job, with ``intervals`` (job -> seconds) replacing a schedule (tests, tuning)."""
    intervals = intervals or {}
    table = [
        Job("sla_watch", Schedule.every(60), sla_watch),
        Job("mail", Schedule.every(60, offset=30), mail, transactional=False),
        Job("outages", Schedule.every(60, offset=45), outages, transactional=False),
        Job("visits", Schedule.daily(6, 30), visits),
        Job("snapshots", Schedule.daily(1, 30), snapshots),
        Job("briefing", Schedule.weekly(0, 6, 0), briefing),
        Job("prune", Schedule.daily(2, 30), prune, transactional=False),
        Job("simulate", Schedule.every(60, offset=15), simulate,
            enabled=lambda c: c.simulation_on),
    ]
    unknown = set(intervals) - {job.name for job in table}
    if unknown:
        raise ValueError("unknown job: " + ", ".join(sorted(unknown)))
    return [replace(job, schedule=Schedule.every(intervals[job.name]))
            if job.name in intervals else job for job in table]


# After downtime, briefings are made for at most this many missed weeks.
BRIEFING_CATCH_UP = 4

NAMES = ("sla_watch", "mail", "visits", "snapshots", "briefing", "prune", "simulate")
