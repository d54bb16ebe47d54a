"""The scheduler, for administrators: which process is active, each job, its recent runs."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import dash_bootstrap_components as dbc
from dash import dcc, html

from station_portal.auth.roles import ADMIN_ONLY
from station_portal.i18n import _, _l
from station_portal.jobs.models import JobRun
from station_portal.jobs.queries import SchedulerOverview
from station_portal.jobs.runner import INTERRUPTED
from station_portal.jobs.schedule import DAY, ORIGIN, WEEK, Schedule
from station_portal.pages import Page
from station_portal.pages.grid import data_grid
from station_portal.pages.ui import dropdown, page_header
from station_portal.timefmt import format_local

STATE = "jobs-state"
JOBS = "jobs-table"
RUNS = "jobs-runs"
JOB = "jobs-filter-job"
STATUS = "jobs-filter-status"
POLL = "jobs-poll"
LIMIT = 500

JOB_NAMES = {
    "sla_watch": _l("Time-limit watch and escalation"),
    "mail": _l("Email delivery"),
    "outages": _l("Outage notices"),
    "visits": _l("Recurring client visits"),
    "snapshots": _l("Daily dashboard snapshots"),
    "briefing": _l("Weekly briefings"),
    "prune": _l("Clearing old records"),
    "simulate": _l("Demo simulation"),
}
# The words for the figures each job reports about its run.
SUMMARY_KEYS = {
    "clocks": _l("clocks checked"), "warnings": _l("warnings"), "overdue": _l("overdue notices"),
    "unit_head": _l("escalations to unit heads"), "company": _l("escalations to the company"),
    "notifications": _l("notifications"), "sent": _l("sent"), "failed": _l("failed"),
    "retry": _l("to retry"), "planned": _l("visits planned"), "missed": _l("visits missed"),
    "through": _l("through"), "order_rows": _l("order rows"), "stage_rows": _l("stage rows"),
    "crew_rows": _l("crew rows"), "settled": _l("clocks settled"), "weeks": _l("weeks"),
    "briefings": _l("briefings"), "notified": _l("notified"), "job_runs": _l("job runs removed"),
    "rate_counters": _l("rate-limit windows removed"),
    "hall_tickets": _l("hall tickets left open closed"),
    "kept_uploads": _l("kept documents of refused applications removed"),
    "queue_tickets": _l("queue tickets taken"), "queue_served": _l("customers served at counters"),
    "new_repairs": _l("new repairs"), "new_applications": _l("new applications"),
    "steps": _l("steps"), "repair_steps": _l("repair steps"),
    "application_steps": _l("application steps"), "pings": _l("positions"),
    "skipped": _l("skipped"), "capped": _l("capped"), "outage_steps": _l("outage steps"),
    # The nightly prune (jobs/retention.py): rows removed per table, and how it went.
    "crew_pings": _l("crew positions removed"), "audit_events": _l("audit rows removed"),
    "auth_sessions": _l("ended sessions removed"), "api_tokens": _l("ended API tokens removed"),
    "hall_tickets_removed": _l("finished hall tickets removed"),
    "unfinished": _l("tables left for the next night"), "batches": _l("batches"),
    "escalated": _l("outages escalated"), "no_sender": _l("notices without a sender"),
}


def summary_text(summary: dict[str, Any] | None) -> str:
    """A run's figures in words: "clocks checked: 12; warnings: 1"."""
    def value(v: Any) -> str:
        if isinstance(v, list):
            return ", ".join(str(x) for x in v) or "—"  # an empty list is not a blank
        if isinstance(v, bool):
            return _("yes") if v else _("no")
        return str(v)

    return "; ".join(f"{SUMMARY_KEYS.get(k, k)}: {value(v)}" for k, v in (summary or {}).items())


WEEKDAYS = (_l("Mondays"), _l("Tuesdays"), _l("Wednesdays"), _l("Thursdays"), _l("Fridays"),
            _l("Saturdays"), _l("Sundays"))


def describe(schedule: Schedule) -> str:
    """The schedule in words, local time."""
    from datetime import timedelta

    at = ORIGIN + timedelta(seconds=schedule.offset)
    if schedule.period == WEEK:
        return _("%(day)s at %(time)s", day=str(WEEKDAYS[at.weekday()]), time=at.strftime("%H:%M"))
    if schedule.period == DAY:
        return _("daily at %(time)s", time=at.strftime("%H:%M"))
    if schedule.period % 60 == 0:
        return _("every %(n)s min", n=schedule.period // 60)
    return _("every %(n)s s", n=schedule.period)


def layout(user: Any, query: dict[str, str]) -> html.Div:
    return html.Div([
        page_header(_("Scheduled jobs"),
                    _("The scheduler process, each job with its last run, and every run with "
                      "its duration and result. Times are local.")),
        dcc.Interval(id=POLL, interval=10_000),
        html.Div(id=STATE, className="mb-3"),
        data_grid(JOBS, (("name", _("Job")), ("schedule", _("Schedule")),
                         ("last", _("Last run")), ("status", _("Result")),
                         ("seconds", _("Seconds")), ("next", _("Next run"))), page_size=15),
        html.H2(_("Runs"), className="h5 mt-4"),
        dbc.Row([
            dbc.Col(dropdown(JOB, placeholder=_("All jobs"),
                             options=[{"label": str(v), "value": k} for k, v in JOB_NAMES.items()]),
                    md=4, className="mb-2"),
            dbc.Col(dropdown(STATUS, placeholder=_("Any result"),
                             options=[{"label": _("Succeeded"), "value": "ok"},
                                      {"label": _("Failed"), "value": "failed"},
                                      {"label": _("Running"), "value": "running"}]),
                    md=3, className="mb-2"),
        ]),
        data_grid(RUNS, (("job", _("Job")), ("slot", _("Scheduled for")),
                         ("started", _("Started")), ("seconds", _("Seconds")),
                         ("status", _("Result")), ("coalesced", _("Missed runs folded in")),
                         ("runner", _("Process")), ("details", _("Details"))), page_size=25),
    ])


PAGE = Page(path="/admin/jobs", title=_l("Scheduled jobs"), roles=ADMIN_ONLY, layout=layout,
            icon="bi-clock-history")


def status_text(code: str) -> str:
    return {"ok": _("Succeeded"), "running": _("Running")}.get(code) or _("Failed")


def details_text(run: JobRun) -> str:
    if run.error == INTERRUPTED:
        return _("Interrupted: the scheduler stopped during the run.")
    return run.error or summary_text(run.summary)


def scheduler_state(overview: SchedulerOverview) -> dbc.Alert:
    """Which scheduler is active, or that none is (and what that means)."""
    lease = overview.lease
    if lease is None:
        return dbc.Alert([html.I(className="bi bi-exclamation-triangle me-2"), _(
            "No scheduler has run yet. Start one: station-portal scheduler")],
            color="warning")
    if overview.active:
        return dbc.Alert([html.I(className="bi bi-check-circle me-2"), _(
            "The scheduler %(holder)s is active (since %(since)s, last heard %(seen)s).",
            holder=lease.holder, since=format_local(lease.acquired_at),
            seen=format_local(lease.renewed_at, seconds=True))], color="success")
    return dbc.Alert([html.I(className="bi bi-exclamation-octagon me-2"), _(
        "No scheduler is running: the last one (%(holder)s) was last heard %(seen)s. "
        "Jobs are not running; missed runs are caught up when it starts again.",
        holder=lease.holder, seen=format_local(lease.renewed_at, seconds=True))],
        color="danger")


def job_rows(overview: SchedulerOverview, now: datetime) -> list[dict[str, Any]]:
    """One row per job: its schedule, its newest run and when it runs next."""
    return [{
        "id": state.job.name, "name": str(JOB_NAMES.get(state.job.name, state.job.name)),
        "schedule": describe(state.job.schedule) + ("" if state.enabled else " · " + _("off")),
        "last": format_local(state.last.scheduled_for) if state.last else "",
        "status": status_text(state.last.status) if state.last else "",
        "seconds": state.last.seconds if state.last else None,
        "next": format_local(state.job.schedule.next_after(now)) if state.enabled else "",
    } for state in overview.jobs]


def run_rows(runs: list[JobRun]) -> list[dict[str, Any]]:
    return [{
        "id": str(r.id), "job": str(JOB_NAMES.get(r.job, r.job)),
        "slot": format_local(r.scheduled_for),
        "started": format_local(r.started_at, seconds=True),
        "seconds": r.seconds,
        "status": status_text(r.status), "coalesced": r.coalesced or None,
        "runner": r.runner, "details": details_text(r),
    } for r in runs]
