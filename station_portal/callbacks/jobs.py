"""The scheduled-jobs page: lease state, jobs with their last run, the runs (admins only)."""

from __future__ import annotations

from typing import Any

from dash import Dash, Input, Output

from station_portal.auth.roles import ADMIN_ONLY
from station_portal.callbacks._secure import secure_callback
from station_portal.db import utcnow
from station_portal.jobs.queries import job_runs, scheduler_overview
from station_portal.pages import jobs as page
from station_portal.validate import text
from station_portal.web.context import portal, read_session


def register(app: Dash) -> None:
    @secure_callback(app, Output(page.STATE, "children"), Output(page.JOBS, "rowData"),
                     Input(page.POLL, "n_intervals"), roles=ADMIN_ONLY,
                     passive_inputs=[f"{page.POLL}.n_intervals"])
    def overview(_n: Any):
        now = utcnow()
        state = scheduler_overview(read_session(), portal().config, now)
        return page.scheduler_state(state), page.job_rows(state, now)

    @secure_callback(app, Output(page.RUNS, "rowData"), Input(page.JOB, "value"),
                     Input(page.STATUS, "value"), Input(page.POLL, "n_intervals"),
                     roles=ADMIN_ONLY, passive_inputs=[f"{page.POLL}.n_intervals"])
    def runs(job: Any, status: Any, _n: Any):
        return page.run_rows(job_runs(read_session(), text(job, 32), text(status, 8), page.LIMIT))
