"""The scheduler process: one active scheduler, every run recorded once per slot.

``station-portal scheduler`` calls :func:`serve`. It first takes the lease (the
row ``scheduler_lease/main``); while another live process holds it, this one
says so and stands by, and takes over when the lease lapses (the holder renews
it every few seconds). Then each job runs once at start for its latest slot (the
catch-up: every run missed during downtime is folded into that one), and
APScheduler fires it at each later slot.

A run inserts its ``job_runs`` row, keyed by (job, slot), in the same transaction
as the job's own changes. So a run is done and recorded, or neither (a crash
rolls both back and the next start catches up), and a second process that tries
the same slot fails on the key and skips it, even if two ever run at once.
"""

from __future__ import annotations

import logging
import os
import signal
import socket
import threading
import time
import traceback
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from station_portal.config import Config
from station_portal.db import Database, serialize_on, utcnow
from station_portal.jobs.models import JobRun, SchedulerLease
from station_portal.jobs.schedule import Schedule

log = logging.getLogger("station_portal.scheduler")

LEASE = "main"
# The error of a run that a scheduler left "running" when it died (the jobs page words it).
INTERRUPTED = "interrupted"
LEASE_SECONDS = 30


@dataclass(frozen=True)
class RunContext:
    """What a job is given besides its session."""

    slot: datetime  # the scheduled time this run belongs to
    now: datetime  # when it actually started
    config: Config
    coalesced: int = 0  # runs missed before this one
    period: int = 60  # seconds between the job's slots
    database: Database | None = None  # for a job that keeps its own transactions


@dataclass(frozen=True)
class Job:
    name: str
    schedule: Schedule
    # Called with the run's session, or with None when ``transactional`` is False.
    run: Callable[[Session | None, RunContext], dict[str, Any] | None]
    enabled: Callable[[Config], bool] = field(default=lambda _config: True)
    # False for work that talks to the outside world (email): the slot is claimed in a
    # short transaction of its own and the job keeps its own short transactions.
    transactional: bool = True


def runner_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


# -- one run ---------------------------------------------------------------------------------

class _SlotTaken(Exception):
    pass


def last_slot(session: Session, job: str) -> datetime | None:
    return session.scalar(select(func.max(JobRun.scheduled_for)).where(JobRun.job == job))


def _claim(session: Session, job: Job, slot: datetime, started: datetime, runner: str,
           status: str) -> JobRun:
    """Take the (job, slot) key in ``session``'s transaction; _SlotTaken if it is gone."""
    # Runs of one job take turns (a catch-up and the next slot can overlap): each sees
    # the one before it, so none is counted twice or run over another.
    serialize_on(session, f"job:{job.name}")
    previous = last_slot(session, job.name)
    if previous is not None and previous >= slot:
        raise _SlotTaken
    run = JobRun(job=job.name, scheduled_for=slot, started_at=started, status=status,
                 coalesced=job.schedule.missed_between(previous, slot), runner=runner)
    session.add(run)
    try:
        session.flush()  # takes the (job, slot) key now, or waits for whoever has it
    except IntegrityError as exc:
        raise _SlotTaken from exc
    return run


def run_slot(database: Database, config: Config, job: Job, slot: datetime, *,
             runner: str | None = None, now: datetime | None = None) -> JobRun | None:
    """Run ``job`` for ``slot`` unless that run exists; the recorded run, or None if taken."""
    runner = runner or runner_name()
    started = now or utcnow()
    if not job.transactional:
        return _run_outside(database, config, job, slot, runner, started)
    clock = time.monotonic()
    try:
        with database.write() as session:
            run = _claim(session, job, slot, started, runner, "ok")
            context = RunContext(slot=slot, now=started, config=config, coalesced=run.coalesced,
                                 period=job.schedule.period)
            run.summary = job.run(session, context) or {}
            run.finished_at = utcnow()
            run.seconds = round(time.monotonic() - clock, 3)
        log.info("%s %s: ok in %.2f s %s%s", job.name, slot.isoformat(), run.seconds,
                 run.summary, f" (caught up {run.coalesced} missed)" if run.coalesced else "")
        return run
    except _SlotTaken:
        log.debug("%s %s: already run", job.name, slot.isoformat())
        return None
    except Exception as exc:  # a failing job is recorded, and the scheduler goes on
        log.exception("%s %s failed", job.name, slot.isoformat())
        return _record_failure(database, job, slot, started, runner, exc,
                               time.monotonic() - clock)


def _run_outside(database: Database, config: Config, job: Job, slot: datetime, runner: str,
                 started: datetime) -> JobRun | None:
    """A non-transactional job: claim the slot (status "running"), run, record the result."""
    clock = time.monotonic()
    try:
        with database.write() as session:
            run = _claim(session, job, slot, started, runner, "running")
            run_id, coalesced = run.id, run.coalesced
    except _SlotTaken:
        return None
    context = RunContext(slot=slot, now=started, config=config, coalesced=coalesced,
                         period=job.schedule.period, database=database)
    try:
        summary, status, error = job.run(None, context) or {}, "ok", ""
    except Exception as exc:
        log.exception("%s %s failed", job.name, slot.isoformat())
        summary, status = {}, "failed"
        error = "".join(traceback.format_exception_only(exc)).strip()[:2000]
    with database.write() as session:
        run = session.get(JobRun, run_id)
        run.status, run.summary, run.error = status, summary, error
        run.finished_at, run.seconds = utcnow(), round(time.monotonic() - clock, 3)
    log.info("%s %s: %s in %.2f s %s", job.name, slot.isoformat(), status, run.seconds, summary)
    return run


def interrupted(database: Database) -> int:
    """Runs left "running" by a scheduler that died: recorded as failed (called by the new
    lease holder, so no scheduler owns them; a `jobs run` by hand at that very moment is
    marked too, and its own end then records its real result)."""
    with database.write() as session:
        return session.execute(
            update(JobRun).where(JobRun.status == "running")
            .values(status="failed", error=INTERRUPTED, finished_at=utcnow())
            .execution_options(synchronize_session=False)).rowcount


def _record_failure(database: Database, job: Job, slot: datetime, started: datetime,
                    runner: str, exc: Exception, seconds: float) -> JobRun | None:
    try:
        with database.write() as session:
            previous = last_slot(session, job.name)
            run = JobRun(job=job.name, scheduled_for=slot, started_at=started, status="failed",
                         coalesced=job.schedule.missed_between(previous, slot), runner=runner,
                         finished_at=utcnow(), seconds=round(seconds, 3),
                         error="".join(traceback.format_exception_only(exc)).strip()[:2000],
                         summary={})
            session.add(run)
            session.flush()
        return run
    except IntegrityError:
        return None


def due_slot(job: Job, now: datetime) -> datetime:
    # APScheduler fires a few milliseconds after the slot; never before it.
    return job.schedule.latest(now + timedelta(milliseconds=50))


# -- the lease -------------------------------------------------------------------------------

@dataclass(frozen=True)
class LeaseState:
    held: bool
    holder: str
    expires_at: datetime


def take_lease(database: Database, holder: str, *, now: datetime | None = None,
               seconds: int = LEASE_SECONDS) -> LeaseState:
    """Take or renew the lease; refused while another holder's lease runs."""
    now = now or utcnow()
    expires = now + timedelta(seconds=seconds)
    try:
        with database.write() as session:
            lease = session.get(SchedulerLease, LEASE, with_for_update=True)
            if lease is None:
                session.add(SchedulerLease(name=LEASE, holder=holder, acquired_at=now,
                                           renewed_at=now, expires_at=expires))
                return LeaseState(True, holder, expires)
            if lease.holder != holder and lease.expires_at > now:
                return LeaseState(False, lease.holder, lease.expires_at)
            if lease.holder != holder:
                lease.holder, lease.acquired_at = holder, now
            lease.renewed_at, lease.expires_at = now, expires
            return LeaseState(True, holder, expires)
    except IntegrityError:  # another process inserted the first lease at the same moment
        return take_lease(database, holder, now=now, seconds=seconds)


def try_lease(database: Database, holder: str, *, seconds: int = LEASE_SECONDS) -> LeaseState | None:
    """:func:`take_lease`, or None when the database does not answer (restarting, a
    failover): the caller stands by and asks again, it does not stop."""
    try:
        return take_lease(database, holder, seconds=seconds)
    except Exception as exc:  # any database error: the same answer, try again later
        log.warning("the scheduler lease could not be read (%s); trying again",
                    "".join(traceback.format_exception_only(exc)).strip()[:300])
        return None


def release_lease(database: Database, holder: str) -> None:
    with database.write() as session:
        lease = session.get(SchedulerLease, LEASE, with_for_update=True)
        if lease is not None and lease.holder == holder:
            lease.expires_at = utcnow()


# -- the process -----------------------------------------------------------------------------

def serve(database: Database, config: Config, jobs: Sequence[Job], *,
          stop: threading.Event | None = None, echo: Callable[[str], None] = print,
          lease_seconds: int = LEASE_SECONDS) -> int:
    """Run the scheduler until ``stop`` is set or a signal arrives; the exit code.

    The lease is renewed every third of ``lease_seconds``; a standby checks as often.
    """
    from apscheduler.schedulers.background import BackgroundScheduler

    stop = stop or threading.Event()
    logging.getLogger("apscheduler").setLevel(logging.WARNING)  # one line per run is ours
    for sig in (signal.SIGTERM, signal.SIGINT):
        if threading.current_thread() is threading.main_thread():
            signal.signal(sig, lambda *_: stop.set())
    me = runner_name()
    active = [job for job in jobs if job.enabled(config)]
    renew_every = max(lease_seconds / 3, 0.5)
    # A standby (and a scheduler started while the database is away) keeps asking: a
    # database restart never ends it.
    state = try_lease(database, me, seconds=lease_seconds)
    if state is None or not state.held:
        if state is None:
            echo("the database does not answer; standing by until it does")
        else:
            echo(f"another scheduler ({state.holder}) is active; standing by until its lease "
                 f"lapses (it runs to {state.expires_at:%H:%M:%S} UTC unless renewed)")
        while not stop.wait(renew_every):
            state = try_lease(database, me, seconds=lease_seconds)
            if state is not None and state.held:
                echo(f"the lease lapsed; {me} takes over")
                break
        else:
            return 0
    stale = interrupted(database)
    if stale:
        echo(f"{stale} runs interrupted by the previous scheduler recorded as failed")
    echo(f"scheduler {me} active with {len(active)} jobs: "
         + ", ".join(f"{job.name} ({job.schedule.describe()})" for job in active))

    lost = threading.Event()

    def fire(job: Job) -> None:
        if lost.is_set():
            return
        run_slot(database, config, job, due_slot(job, utcnow()), runner=me)

    def renew() -> None:
        try:
            if not take_lease(database, me, seconds=lease_seconds).held:
                echo("the lease was taken by another scheduler; stopping")
                lost.set()
                stop.set()
        except Exception:  # the database is away: keep trying until the lease lapses
            log.exception("could not renew the scheduler lease")

    scheduler = BackgroundScheduler(timezone="UTC", job_defaults={
        "coalesce": True, "max_instances": 1})
    started = utcnow()
    for job in active:
        # Runs at once for the latest slot (the catch-up: every run missed while no
        # scheduler was up is folded into it), then at every slot.
        scheduler.add_job(fire, "date", run_date=started, args=(job,),
                          id=f"{job.name}:catch-up", misfire_grace_time=None)
        scheduler.add_job(fire, job.schedule.trigger(), args=(job,), id=job.name,
                          misfire_grace_time=max(job.schedule.period, 1))
    scheduler.add_job(renew, "interval", seconds=renew_every, id="_lease")
    scheduler.start()
    try:
        stop.wait()
    finally:
        scheduler.shutdown(wait=True)
        if not lost.is_set():
            try:
                release_lease(database, me)
            except Exception:  # the database is away: the lease lapses by itself
                log.exception("could not release the scheduler lease")
        echo(f"scheduler {me} stopped")
    return 3 if lost.is_set() else 0
