"""The crew's phone view: the server renders the crew's own repairs; steps go through the API."""

from __future__ import annotations

from typing import Any

from dash import Dash, Input, Output, State, html, no_update
from sqlalchemy import select

from station_portal.auth.roles import Role
from station_portal.callbacks._secure import secure_callback
from station_portal.db import utcnow
from station_portal.dispatch.board import crew_jobs
from station_portal.i18n import _
from station_portal.org.models import Crew, CrewMember, Staff
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
        session, scope, now = read_session(), user.scope(), utcnow()
        crew = session.get(Crew, scope.crew_id) if scope.crew_id else None
        if crew is None:
            message = html.Div(_("You are not in a crew yet. Ask your station head."),
                               className="alert alert-warning")
            return message, no_update, no_update, no_update, None, no_update
        jobs = crew_jobs(session, scope, now)
        members = session.scalars(
            select(Staff).join(CrewMember, CrewMember.staff_id == Staff.id)
            .where(CrewMember.crew_id == crew.id).order_by(CrewMember.is_leader.desc(), Staff.id)).all()
        header = html.Div([
            html.Span(crew.code, className="fw-semibold me-2"),
            html.Span(" · ".join(s.name() for s in members), className="text-body-secondary me-2"),
            html.Span(_("On duty") if crew.on_duty else _("Off duty"),
                      className="badge " + ("text-bg-success" if crew.on_duty else "text-bg-secondary")),
        ], className="small")
        me = (crew.last_lat, crew.last_lon) if crew.last_lat is not None and crew.last_lon is not None \
            else None
        me_layer = {"type": "FeatureCollection", "features": [{
            "type": "Feature", "id": f"c{crew.id}",
            "geometry": {"type": "Point", "coordinates": [me[1], me[0]]},
            "properties": {"code": crew.code, "st": "en_route", "reported": True,
                           "tip": [crew.code]},
        }] if me else []}
        ids = [j.id for j in jobs]
        view = page.map_view(jobs, me) if ids != shown else no_update
        return page.job_list(jobs, now), page.job_features(jobs), me_layer, view, header, ids

