"""What the scheduled-jobs page reads (administrators): the scheduler's lease, each job
with its newest run, and the runs. Plain SQLAlchemy; no Flask, no Dash."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from station_portal.config import Config
from station_portal.jobs.models import JobRun, SchedulerLease
from station_portal.jobs.registry import Job, jobs
from station_portal.jobs.runner import LEASE


@dataclass(frozen=True)
class JobState:
    job: Job
    enabled: bool
    last: JobRun | None  # its newest run


@dataclass(frozen=True)
class SchedulerOverview:
    """The lease (None: no scheduler has run yet), whether it still holds it at the time
    read (else the scheduler stopped), and every job."""

    lease: SchedulerLease | None
    active: bool
    jobs: list[JobState]


def scheduler_overview(session: Session, config: Config, now: datetime) -> SchedulerOverview:
    lease = session.get(SchedulerLease, LEASE)
    states = []
    for job in jobs(config):
        # the newest run of each job: one step down the (job, slot) index
        last = session.scalars(select(JobRun).where(JobRun.job == job.name)
                               .order_by(JobRun.scheduled_for.desc()).limit(1)).first()
        states.append(JobState(job, job.enabled(config), last))
    return SchedulerOverview(lease, lease is not None and lease.expires_at > now, states)


def job_runs(session: Session, job: str, status: str, limit: int) -> list[JobRun]:
    """The newest ``limit`` runs, of one job and one status if given ("": any)."""
    query = select(JobRun).order_by(JobRun.id.desc())
    if job:
        query = query.where(JobRun.job == job)
    if status:
        query = query.where(JobRun.status == status)
    return list(session.scalars(query.limit(limit)))
