"""The service-hall dashboard (营业厅看板): people waiting, average and longest wait, service
times against the standard, by hall and by level; the day's peak hours; the busy
seasons of the year. Company managers see every hall in their scope, station heads
and grid managers their own halls. Layout only; callbacks/hall_dashboard.py fills it.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import dash_bootstrap_components as dbc
from dash import dcc, html

from station_portal.auth.roles import Role
from station_portal.db import utcnow
from station_portal.hall.queue import local_day
from station_portal.i18n import _, _l
from station_portal.pages import Page
from station_portal.pages.ui import dropdown, graph_config, page_header
from station_portal.validate import FIRST_DAY, LAST_DAY

ROLES = frozenset({Role.COMPANY_MANAGER, Role.STATION_HEAD, Role.GRID_MANAGER, Role.ADMIN})
DAY = "halls-day"
HALL = "halls-hall"
MESSAGE = "halls-message"
HEADLINE = "halls-headline"
BY_HALL = "halls-by-hall"
BY_LEVEL = "halls-by-level"
PEAK = "halls-peak"
SERVICE = "halls-service"
SEASONS = "halls-seasons"
POLL = "halls-poll"
POLL_MS = 15_000
# How far back a day may be chosen (the year of history and a little more).
MAX_DAYS_BACK = 400


def day_window(today: date) -> tuple[date, date]:
    """The first and last day the dashboard serves: the last ``MAX_DAYS_BACK`` days up to
    today, inside the working-day calendar's range."""
    return max(FIRST_DAY, today - timedelta(days=MAX_DAYS_BACK)), min(LAST_DAY, today)


def _card(title: str, body: Any, hint: str | None = None) -> dbc.Card:
    return dbc.Card([dbc.CardHeader(title), dbc.CardBody([
        html.Div(hint, className="small text-body-secondary mb-2") if hint else None, body])],
        className="mb-3")


def _graph(id_: str, filename: str) -> dcc.Graph:
    return dcc.Graph(id=id_, config=graph_config(toImageButtonOptions={"filename": filename}),
                     figure={"data": [], "layout": {"height": 300}})


def layout(user: Any, query: dict[str, str]) -> html.Div:
    first, last = day_window(local_day(utcnow()))
    return html.Div([
        page_header(_("Service halls"), _("Queues and counter service in your halls, live.")),
        dcc.Interval(id=POLL, interval=POLL_MS),
        dbc.Row([
            dbc.Col(dcc.DatePickerSingle(id=DAY, display_format="YYYY-MM-DD", first_day_of_week=1,
                                         min_date_allowed=first.isoformat(),
                                         max_date_allowed=last.isoformat(),
                                         placeholder=_("Pick a day")),
                    md="auto", className="mb-2"),
            dbc.Col(dropdown(HALL, placeholder=_("All halls in your area")), md=5,
                    className="mb-2"),
        ]),
        html.Div(id=MESSAGE),
        html.Div(id=HEADLINE, className="mb-3"),
        dbc.Row([
            dbc.Col(_card(_("By hall"), html.Div(id=BY_HALL)), lg=8),
            dbc.Col(_card(_("By level"), html.Div(id=BY_LEVEL),
                          _("A: city centre, B: county centre, C: other halls.")), lg=4),
        ]),
        dbc.Row([
            dbc.Col(_card(_("Peak hours"), _graph(PEAK, "hall-peak-hours"),
                          _("Tickets taken per hour of the day.")), lg=6),
            dbc.Col(_card(_("Service time against the standard"), _graph(SERVICE, "hall-service"),
                          _("Average minutes at the counter per business; the dash is the "
                            "standard (a resident case 20 min, a payment 5 min).")), lg=6),
        ]),
        _card(_("Busy seasons"), _graph(SEASONS, "hall-seasons"),
              _("Tickets per week over the last twelve months, by hall level.")),
    ])


PAGE = Page(path="/dashboards/halls", title=_l("Service halls"), roles=ROLES, layout=layout,
            icon="bi-people")
