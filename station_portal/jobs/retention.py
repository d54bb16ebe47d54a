"""Retention: the record tables pruned by age, in short batches (the nightly ``prune`` job).

What goes, after the days its ``PORTAL_RETENTION_*`` setting gives (0 keeps it for ever):

- ``crew_pings``: crew positions, by the time the server received them;
- ``audit_events``: the audit trail (sign-ins and failures, sessions ended, tokens, account
  changes, hall queue and grid-works changes, visit plans): at least six months
  (Cybersecurity Law art. 21(3), checked by ``Config``);
- ``notifications``: read or not, once their email is no longer pending or being sent;
- ``job_runs``: successful and failed runs (two settings), never the newest run of a job
  (the scheduler counts missed runs from it);
- ``auth_sessions`` and ``api_tokens``: sessions that ended, or died idle or of old age,
  and tokens that expired or were revoked;
- ``hall_tickets``: finished tickets (done, no-show, cancelled) of past days, kept by
  default (the halls dashboard reads them);
- ``rate_counters``: windows that have ended (no setting: a closed window counts nothing).

What never goes: anything open (a live session, a pending email, a waiting ticket), and a
work order's own history. A work order's timeline (``work_order_events``) is its audit
record, written with each change; it stays, with the order's clocks, pauses, assignments,
attachments and alerts, as long as the order does, and closed orders are kept.

Each batch deletes at most ``PORTAL_RETENTION_BATCH_SIZE`` rows, chosen by an indexed
condition on the timestamp, in a transaction of its own: no run holds locks on many rows
or for long, other writers interleave, and a run that stops halfway (a crash, its time
budget ``PORTAL_RETENTION_MAX_SECONDS``) has removed whole batches and leaves the rest to
the next run. Running it again removes nothing more: the job is idempotent. The same
statements run on SQLite and PostgreSQL.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, and_, delete, false, func, or_, select, tuple_
from sqlalchemy.orm import Session

from station_portal.audit import AuditEvent
from station_portal.auth.models import ApiToken, AuthSession
from station_portal.config import Config
from station_portal.db import Database
from station_portal.hall.models import HallTicket, TicketStatus
from station_portal.hall.queue import local_day
from station_portal.jobs.models import JobRun
from station_portal.notify.models import Notification
from station_portal.org.models import CrewPing
from station_portal.ratelimit import RateCounter

# Finished tickets; waiting, called and serving ones are open (and closed at night first).
FINISHED_TICKETS = (TicketStatus.DONE.value, TicketStatus.NO_SHOW.value,
                    TicketStatus.CANCELLED.value)
# An email still to send (or being sent): its notification stays whatever its age.
OPEN_EMAIL = ("pending", "sending")
# The figures a run reports, in the order the tables are pruned (one per table; hall
# tickets removed are told apart from the tickets left open that the job closes).
NAMES = ("crew_pings", "audit_events", "notifications", "job_runs", "auth_sessions",
         "api_tokens", "hall_tickets_removed", "rate_counters")


@dataclass(frozen=True)
class Rule:
    """One table's rule: the rows ``where`` selects are removed."""

    name: str  # the figure's name in the run's summary: the table's (see NAMES)
    key: tuple[Any, ...]  # the primary key's columns
    where: ColumnElement[bool]


def _days(n: int) -> timedelta | None:
    return timedelta(days=n) if n else None


def rules(session: Session, config: Config, now: datetime) -> list[Rule]:
    """The rules in force for ``config`` at ``now`` (a table kept for ever has none)."""
    out: list[Rule] = []
    if keep := _days(config.retention_pings_days):
        out.append(Rule("crew_pings", (CrewPing.id,), CrewPing.received_at < now - keep))
    if keep := _days(config.retention_audit_days):
        out.append(Rule("audit_events", (AuditEvent.id,), AuditEvent.at < now - keep))
    if keep := _days(config.retention_notifications_days):
        out.append(Rule("notifications", (Notification.id,), and_(
            Notification.created_at < now - keep,
            or_(Notification.email_state.is_(None),
                Notification.email_state.not_in(OPEN_EMAIL)))))
    if keep := _days(config.retention_job_runs_days):
        failed = _days(config.retention_failed_job_runs_days)  # None: kept for ever
        # The scheduler counts a job's missed runs from its last slot: that run stays.
        last = (select(JobRun.job, func.max(JobRun.scheduled_for).label("slot"))
                .group_by(JobRun.job).subquery())
        newest = list(session.scalars(select(JobRun.id).join(
            last, and_(JobRun.job == last.c.job, JobRun.scheduled_for == last.c.slot))))
        out.append(Rule("job_runs", (JobRun.id,), and_(
            JobRun.started_at < now - keep, JobRun.id.not_in(newest),
            JobRun.status == "ok" if failed is None
            else or_(JobRun.status == "ok", JobRun.started_at < now - failed))))
    if keep := _days(config.retention_sessions_days):
        # A session nobody ended is dead once idle or too old; it goes ``keep`` after that.
        alive = max(timedelta(minutes=config.idle_timeout_minutes),
                    timedelta(hours=config.session_max_hours))
        ended, dead = now - keep, now - keep - alive
        never_ended = and_(AuthSession.ended_at.is_(None), AuthSession.last_seen_at < dead,
                           AuthSession.created_at < dead)
        out.append(Rule("auth_sessions", (AuthSession.id,), and_(
            AuthSession.last_seen_at < ended,  # indexed; a session's end is never before it
            or_(AuthSession.ended_at < ended, never_ended))))
        out.append(Rule("api_tokens", (ApiToken.id,), or_(
            ApiToken.expires_at < ended, ApiToken.revoked_at < ended)))
    if keep := _days(config.retention_hall_tickets_days):
        out.append(Rule("hall_tickets_removed", (HallTicket.id,), and_(
            HallTicket.day < local_day(now - keep), HallTicket.status.in_(FINISHED_TICKETS))))
    out.append(Rule("rate_counters", (RateCounter.bucket, RateCounter.key, RateCounter.slot),
                    RateCounter.expires_at < now))
    return out


def _batch(session: Session, rule: Rule, size: int) -> int:
    """Delete up to ``size`` rows of ``rule``; the number deleted."""
    model = rule.key[0].class_
    chosen = select(*rule.key).where(rule.where).limit(size)
    key = rule.key[0] if len(rule.key) == 1 else tuple_(*rule.key)
    result = session.execute(delete(model).where(key.in_(chosen))
                             .execution_options(synchronize_session=False))
    return result.rowcount or 0


@dataclass
class Report:
    removed: dict[str, int]
    unfinished: list[str]  # tables with rows left to remove when the time budget ran out
    batches: int

    def as_dict(self) -> dict[str, Any]:
        return {**self.removed, "unfinished": self.unfinished, "batches": self.batches}


def prune(database: Database, config: Config, now: datetime, *,
          budget_seconds: float | None = None, batch_size: int | None = None) -> Report:
    """Remove what the settings let go, batch by batch, each in its own transaction."""
    size = batch_size or config.retention_batch_size
    deadline = time.monotonic() + (config.retention_max_seconds if budget_seconds is None
                                   else budget_seconds)
    report = Report(removed={}, unfinished=[], batches=0)
    with database.read() as session:
        table_rules = rules(session, config, now)
    for rule in table_rules:
        report.removed[rule.name] = 0
        while True:
            if time.monotonic() >= deadline:
                report.unfinished.append(rule.name)
                break
            with database.write() as session:
                n = _batch(session, rule, size)
            report.batches += 1
            report.removed[rule.name] += n
            if n < size:
                break
    return report


def never(_session: Session) -> ColumnElement[bool]:
    """A rule that selects nothing (for tests of the batching)."""
    return false()
