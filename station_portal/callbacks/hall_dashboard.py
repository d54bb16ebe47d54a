"""The service-hall dashboard: the halls in the caller's scope, a day's figures, the year.

The hall filter and the day come from the browser and are checked here: a hall
outside the scope (or a forged id) gets a message and no figures, a bad date too.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

import dash_bootstrap_components as dbc
import pandas as pd
from dash import Dash, Input, Output, ctx, no_update
from sqlalchemy.orm import Session

from station_portal import validate
from station_portal.auth.scope import Scope
from station_portal.callbacks._secure import secure_callback
from station_portal.db import utcnow
from station_portal.hall import stats
from station_portal.hall.models import ServiceHall
from station_portal.hall.queue import local_day
from station_portal.i18n import _
from station_portal.pages import hall_charts as charts
from station_portal.pages import hall_dashboard as page
from station_portal.pages.charts.common import empty_figure
from station_portal.pages.ui import empty_state, out_of_scope, simple_table, stat
from station_portal.services import hall as service
from station_portal.validate import as_id
from station_portal.web.context import read_session, signed_in_user


class BadFilter(ValueError):
    """The browser sent a filter we do not serve; the message says why."""


@dataclass
class HallBoard:
    halls: list[ServiceHall]
    day: date
    by_hall: pd.DataFrame
    by_level: pd.DataFrame
    headline: dict[str, Any]
    hourly: pd.DataFrame
    business: pd.DataFrame
    weekly: pd.DataFrame | None
    fallback: bool = False  # no day was chosen and today has no ticket yet: the last day shown


def parse_day(value: Any, today: date) -> date:
    """The day the picker sent (ISO text), or today when none; :class:`BadFilter` for a value
    that is not a day of the calendar (``validate.day``) or lies outside the last year."""
    if value in (None, ""):
        return today
    day = validate.day(value)
    if day is None:
        raise BadFilter(_("This is not a date."))
    first, last = page.day_window(today)
    if not first <= day <= last:
        raise BadFilter(_("Choose a day within the last year."))
    return day


def load_board(session: Session, scope: Scope, day_value: Any, hall_value: Any, now: datetime,
               with_year: bool = True) -> HallBoard:
    """The dashboard's data for the halls in ``scope`` (or the one chosen, if in scope)."""
    today = local_day(now)
    day = parse_day(day_value, today)
    halls = service.halls_in_scope(session, scope)
    if hall_value not in (None, ""):
        hid = as_id(hall_value)
        chosen = [h for h in halls if h.id == hid]
        if not chosen:
            raise PermissionError
        halls = chosen
    ids = [h.id for h in halls]
    meta = pd.DataFrame([{"hall_id": h.id, "code": h.code, "name": h.name(), "level": h.level}
                         for h in halls], columns=["hall_id", "code", "name", "level"])
    frame = stats.day_by_hall(session, ids, day)
    fallback = False
    if frame.empty and day_value in (None, ""):  # before opening: the last day with tickets
        last = stats.last_day_with_tickets(session, ids, today)
        if last is not None and last != day:
            day, fallback = last, True
            frame = stats.day_by_hall(session, ids, day)
    oldest = stats.oldest_waiting(session, ids, day) if day == today else {}
    running = max([(now - at).total_seconds() for at in oldest.values()], default=0.0)
    weekly = None
    if with_year:
        first, last = stats.year_window(today)
        weekly = stats.weekly(stats.daily(session, ids, first, last))
    return HallBoard(
        halls=halls, day=day, by_hall=stats.hall_rows(frame, meta, oldest, now),
        by_level=stats.level_rows(frame, meta, oldest, now),
        headline=stats.summarise(frame, running), hourly=stats.hourly(session, ids, day),
        business=stats.business_rows(stats.by_business(session, ids, day, day)), weekly=weekly,
        fallback=fallback)


def headline_row(h: dict[str, Any]) -> dbc.Row:
    def minutes(v: Any) -> str:
        return _("%(m)s min", m=v) if v is not None else "–"

    share = f"{round(100 * h['within_share'])} %" if h["within_share"] is not None else "–"
    return dbc.Row([
        dbc.Col(stat(_("Waiting now"), h["waiting"], "bi-people", "halls-waiting"), xs=6, md=True),
        dbc.Col(stat(_("Average wait"), minutes(h["avg_wait_min"]), "bi-hourglass-split",
                     "halls-avg-wait"), xs=6, md=True),
        dbc.Col(stat(_("Longest wait"), minutes(h["longest_wait_min"]), "bi-hourglass-bottom",
                     "halls-longest-wait"), xs=6, md=True),
        dbc.Col(stat(_("Served"), h["done"], "bi-check2-all", "halls-served"), xs=6, md=True),
        dbc.Col(stat(_("Within standard"), share, "bi-stopwatch", "halls-within"), xs=6, md=True),
    ], className="g-3")


def register(app: Dash) -> None:
    @secure_callback(app, Output(page.HALL, "options"), Output(page.MESSAGE, "children"),
                     Output(page.HEADLINE, "children"), Output(page.BY_HALL, "children"),
                     Output(page.BY_LEVEL, "children"), Output(page.PEAK, "figure"),
                     Output(page.SERVICE, "figure"), Output(page.SEASONS, "figure"),
                     Input(page.DAY, "date"), Input(page.HALL, "value"),
                     Input(page.POLL, "n_intervals"), roles=page.ROLES,
                     passive_inputs=[f"{page.POLL}.n_intervals"])
    def fill(day_value: Any, hall_value: Any, _poll: Any):
        user = signed_in_user()
        session, scope, now = read_session(), user.scope(), utcnow()
        polled = ctx.triggered_id == page.POLL
        options = [{"label": f"{h.name()} ({h.level})", "value": h.id}
                   for h in service.halls_in_scope(session, scope)]
        try:
            board = load_board(session, scope, day_value, hall_value, now, with_year=not polled)
        except PermissionError:
            nothing = empty_figure(_("Nothing to show."))
            return options, out_of_scope(), None, None, None, nothing, nothing, nothing
        except BadFilter as exc:
            return (options, dbc.Alert(str(exc), color="warning", className="py-2"),
                    no_update, no_update, no_update, no_update, no_update, no_update)
        if not board.halls:
            nothing = empty_figure(_("No service hall in your area."))
            return (options, empty_state(_("No service hall in your area.")), None, None, None,
                    nothing, nothing, nothing)
        headers = charts.table_headers()
        by_hall = charts.hall_table_rows(board.by_hall)
        by_level = charts.level_table_rows(board.by_level)
        note = dbc.Alert(_("No ticket yet today: the figures are of %(day)s, the last day with "
                           "tickets. Pick a day to see another.", day=board.day.isoformat()),
                         color="info", className="py-2", id="halls-fallback") \
            if board.fallback else None
        return (
            options, note, headline_row(board.headline),
            simple_table([_("Hall"), _("Level"), *headers], by_hall, id="halls-table"),
            simple_table([_("Level"), _("Halls"), *headers], by_level, id="halls-levels"),
            charts.peak_hours_figure(board.hourly), charts.service_figure(board.business),
            charts.seasons_figure(board.weekly) if board.weekly is not None else no_update,
        )
