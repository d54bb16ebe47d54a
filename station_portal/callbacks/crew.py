"""The crew's phone view: the server renders the crew's own repairs; steps go through the API."""

from __future__ import annotations

from typing import Any

from dash import Dash, Input, Output, State, html, no_update

from station_portal.auth.roles import Role
from station_portal.callbacks._secure import secure_callback
from station_portal.db import utcnow
from station_portal.dispatch.board import crew_phone
from station_portal.i18n import _
from station_portal.pages import crew as page
from station_portal.web.context import read_session, signed_in_user


def register(app: Dash) -> None:
    @secure_callback(
        app, Output(page.LIST, "children"), Output(page.JOBS_LAYER, "data"), Output(page.ME_LAYER, "data"),
        Output(page.MAP, "viewport"), Output(page.HEADER, "children"), Output(page.SHOWN, "data"),
        Input(page.REFRESH, "data"), Input(page.INTERVAL, "n_intervals"), State(page.SHOWN, "data"),
        roles={Role.CREW},
    )
    def show(_refresh: Any, _tick: Any, shown: Any):
        user = signed_in_user()
        now = utcnow()
        crew = crew_phone(read_session(), user.scope(), now)
        if crew is None:
            message = html.Div(_("You are not in a crew yet. Ask your station head."),
                               className="alert alert-warning")
            return message, no_update, no_update, no_update, None, no_update
        jobs = crew.jobs
        ids = [j.id for j in jobs]
        view = page.map_view(jobs, crew.position) if ids != shown else no_update
        return (page.job_list(jobs, now), page.job_features(jobs), page.me_layer(crew), view,
                page.crew_header(crew), ids)
