"""The scheduled-jobs page: lease state, jobs with their last run, the runs (admins only)."""

from __future__ import annotations

from typing import Any

import dash_bootstrap_components as dbc
from dash import Dash, Input, Output, html
from sqlalchemy import select

from station_portal.auth.roles import ADMIN_ONLY
from station_portal.callbacks._secure import secure_callback
from station_portal.db import utcnow
from station_portal.i18n import _
from station_portal.jobs.models import JobRun, SchedulerLease
from station_portal.jobs.registry import jobs as job_table
from station_portal.jobs.runner import INTERRUPTED, LEASE
from station_portal.pages import jobs as page
from station_portal.timefmt import format_local
from station_portal.validate import text
from station_portal.web.context import portal, read_session


def _status(code: str) -> str:
    return {"ok": _("Succeeded"), "running": _("Running")}.get(code) or _("Failed")


def _details(run: JobRun) -> str:
    if run.error == INTERRUPTED:
        return _("Interrupted: the scheduler stopped during the run.")
    return run.error or page.summary_text(run.summary)


def register(app: Dash) -> None:
    @secure_callback(app, Output(page.STATE, "children"), Output(page.JOBS, "rowData"),
                     Input(page.POLL, "n_intervals"), roles=ADMIN_ONLY,
                     passive_inputs=[f"{page.POLL}.n_intervals"])
    def overview(_n: Any):
        session = read_session()
        now = utcnow()
        lease = session.get(SchedulerLease, LEASE)
        if lease is None:
            state = dbc.Alert([html.I(className="bi bi-exclamation-triangle me-2"), _(
                "No scheduler has run yet. Start one: station-portal scheduler")],
                color="warning")
        elif lease.expires_at > now:
            state = dbc.Alert([html.I(className="bi bi-check-circle me-2"), _(
                "The scheduler %(holder)s is active (since %(since)s, last heard %(seen)s).",
                holder=lease.holder, since=format_local(lease.acquired_at),
                seen=format_local(lease.renewed_at, seconds=True))], color="success")
        else:
            state = dbc.Alert([html.I(className="bi bi-exclamation-octagon me-2"), _(
                "No scheduler is running: the last one (%(holder)s) was last heard %(seen)s. "
                "Jobs are not running; missed runs are caught up when it starts again.",
                holder=lease.holder, seen=format_local(lease.renewed_at, seconds=True))],
                color="danger")
        config = portal().config
        rows = []
        for job in job_table(config):
            # the newest run of each job: one step down the (job, slot) index
            last = session.scalars(select(JobRun).where(JobRun.job == job.name)
                                   .order_by(JobRun.scheduled_for.desc()).limit(1)).first()
            rows.append({
                "id": job.name, "name": str(page.JOB_NAMES.get(job.name, job.name)),
                "schedule": page.describe(job.schedule)
                + ("" if job.enabled(config) else " · " + _("off")),
                "last": format_local(last.scheduled_for) if last else "",
                "status": _status(last.status) if last else "",
                "seconds": last.seconds if last else None,
                "next": format_local(job.schedule.next_after(now)) if job.enabled(config) else "",
            })
        return state, rows

    @secure_callback(app, Output(page.RUNS, "rowData"), Input(page.JOB, "value"),
                     Input(page.STATUS, "value"), Input(page.POLL, "n_intervals"),
                     roles=ADMIN_ONLY, passive_inputs=[f"{page.POLL}.n_intervals"])
    def runs(job: Any, status: Any, _n: Any):
        query = select(JobRun).order_by(JobRun.id.desc())
        job, status = text(job, 32), text(status, 8)
        if job:
            query = query.where(JobRun.job == job)
        if status:
            query = query.where(JobRun.status == status)
        return [{
            "id": str(r.id), "job": str(page.JOB_NAMES.get(r.job, r.job)),
            "slot": format_local(r.scheduled_for),
            "started": format_local(r.started_at, seconds=True),
            "seconds": r.seconds,
            "status": _status(r.status), "coalesced": r.coalesced or None,
            "runner": r.runner, "details": _details(r),
        } for r in read_session().scalars(query.limit(page.LIMIT))]
