"""The counter (营业厅叫号台) for clerks, station heads and grid managers: choose the hall and
counter, call the next ticket, serve it against its standard, finish it (optionally
with the customer's work-order number), mark a no-show, recall, transfer; today's queue.

Layout and pure builders only; callbacks/counter.py fills them. The live timer runs
in the browser (assets/hall.js) from the start time and standard in data attributes.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

import dash_bootstrap_components as dbc
from dash import dcc, html

from station_portal.auth.roles import Role
from station_portal.hall.catalog import load_catalog
from station_portal.hall.models import HallTicket, ServiceHall
from station_portal.hall.queue import opening_hours_text, timer_state
from station_portal.i18n import _, _l
from station_portal.pages import Page
from station_portal.pages.ui import dropdown, empty_state, page_header, simple_table, stat
from station_portal.sla.rules import DEFAULT_WARN_SHARE
from station_portal.timefmt import local

ROLES = frozenset({Role.CLERK, Role.STATION_HEAD, Role.GRID_MANAGER})
LOAD = "counter-load"
HALL = "counter-hall"
COUNTER = "counter-number"
GROUPS = "counter-groups"
CALL = "counter-call"
START = "counter-start"
FINISH = "counter-finish"
NO_SHOW = "counter-no-show"
RECALL = "counter-recall"
TRANSFER = "counter-transfer"
TRANSFER_TO = "counter-transfer-to"
ORDER_CODE = "counter-order-code"
CURRENT = "counter-current"
TICKET = "counter-ticket"  # Store: {"id": …, "version": …} of the ticket at the counter
QUEUE = "counter-queue"
WAITING = "counter-waiting"
FEEDBACK = "counter-feedback"
REFRESH = "counter-refresh"
POLL = "counter-poll"
POLL_MS = 5000


def layout(user: Any, query: dict[str, str]) -> html.Div:
    return html.Div([
        page_header(_("Queue counter"), _("Call the next customer, serve against the standard time, "
                                    "and record the visit on the customer's work order.")),
        dcc.Store(id=LOAD, data=1),
        dcc.Store(id=TICKET),
        dcc.Store(id=REFRESH),
        dcc.Interval(id=POLL, interval=POLL_MS),
        dbc.Row([
            dbc.Col(dropdown(HALL, placeholder=_("Service hall"), clearable=False,
                             persistence=True, persistence_type="local"), md=5, className="mb-2"),
            dbc.Col(dropdown(COUNTER, placeholder=_("Counter"), clearable=False,
                             persistence=True, persistence_type="local"), md=2, className="mb-2"),
            dbc.Col(dbc.Checklist(id=GROUPS, inline=True, className="pt-2"), md=5,
                    className="mb-2"),
        ]),
        html.Div(id=FEEDBACK),
        dbc.Row([
            dbc.Col([
                dbc.Card([
                    dbc.CardBody([
                        html.Div(id=CURRENT),
                        html.Div([
                            dbc.Button([html.I(className="bi bi-megaphone me-2"), _("Call next")],
                                       id=CALL, color="primary", size="lg", className="me-2 mb-2"),
                            dbc.Button(_("Customer is here: start"), id=START, color="success",
                                       className="me-2 mb-2", disabled=True),
                            dbc.Button(_("Call again"), id=RECALL, color="secondary",
                                       outline=True, className="me-2 mb-2", disabled=True),
                            dbc.Button(_("No-show"), id=NO_SHOW, color="warning", outline=True,
                                       className="me-2 mb-2", disabled=True),
                        ], className="mt-3"),
                        dbc.InputGroup([
                            dbc.Input(id=ORDER_CODE, maxLength=32, autoComplete="off",
                                      placeholder=_("Work-order number (optional)")),
                            dbc.Button([html.I(className="bi bi-check2-circle me-2"), _("Finish")],
                                       id=FINISH, color="success", disabled=True),
                        ], className="mt-2"),
                        html.Div(_("A work-order number records this counter visit on the "
                                   "customer's order."), className="small text-body-secondary"),
                        dbc.InputGroup([
                            dbc.Select(id=TRANSFER_TO),
                            dbc.Button(_("Transfer"), id=TRANSFER, color="secondary",
                                       outline=True, disabled=True),
                        ], className="mt-3", size="sm"),
                    ]),
                ], className="mb-3"),
            ], lg=6),
            dbc.Col([
                html.Div(id=WAITING, className="mb-3"),
                html.H2(_("Today's queue"), className="h5"),
                html.Div(id=QUEUE),
            ], lg=6),
        ]),
    ])


PAGE = Page(path="/counter", title=_l("Queue counter"), roles=ROLES, layout=layout, icon="bi-megaphone")


def business_name(code: str) -> str:
    business = load_catalog().business(code)
    return business.name() if business else code


def ticket_fields(ticket: HallTicket | None) -> dict[str, Any] | None:
    """What :func:`current_card` shows of the ticket at the counter."""
    return None if ticket is None else {
        "label": ticket.label, "business": business_name(ticket.business),
        "status": ticket.status, "called_at": ticket.called_at,
        "started_at": ticket.started_at, "standard": ticket.standard_minutes,
        "recalls": ticket.recalls}


def queue_rows(tickets: Sequence[HallTicket]) -> list[dict[str, Any]]:
    """What :func:`queue_table` shows of the waiting tickets."""
    return [{"label": t.label, "business": business_name(t.business), "taken_at": t.taken_at,
             "transfers": t.transfers} for t in tickets]


def finished_text(ticket: HallTicket) -> str:
    """What the clerk reads after finishing a ticket."""
    minutes = round((ticket.service_seconds or 0) / 60, 1)
    text = _("%(label)s done in %(m)s min.", label=ticket.label, m=minutes)
    if ticket.within_standard is False:
        text += " " + _("Over the %(s)s-minute standard.", s=ticket.standard_minutes)
    if ticket.work_order_id:
        text += " " + _("Counter visit recorded on the work order.")
    return text


def _minutes(seconds: float) -> str:
    return f"{int(seconds // 60)}:{int(seconds % 60):02d}"


def current_card(ticket: dict[str, Any] | None, now: datetime) -> Any:
    """The ticket at the counter: label, business, and the timer against its standard."""
    if ticket is None:
        return empty_state(_("No customer at this counter."), _("Press “Call next”."),
                           icon="bi-person-check")
    serving = ticket["status"] == "serving"
    since = ticket["started_at"] if serving else ticket["called_at"]
    elapsed = max(0.0, (now - since).total_seconds())
    state = timer_state(elapsed, ticket["standard"]) if serving else "none"
    colour = {"ok": "text-success", "warning": "text-warning", "over": "text-danger"}.get(state, "")
    standard = _("Standard %(m)s min", m=ticket["standard"]) if ticket["standard"] \
        else _("No standard time")
    return html.Div([
        html.Div([
            html.Span(ticket["label"], className="display-4 fw-bold me-3", id="counter-label"),
            html.Div([
                html.Div(ticket["business"], className="fs-5 fw-semibold"),
                html.Div(_("Serving since %(t)s", t=local(since).strftime("%H:%M")) if serving
                         else _("Called at %(t)s", t=local(since).strftime("%H:%M"))
                         + (_(" · called %(n)s times", n=ticket["recalls"] + 1)
                            if ticket["recalls"] else ""),
                         className="small text-body-secondary"),
            ]),
        ], className="d-flex align-items-center"),
        html.Div([
            html.Span(_minutes(elapsed), className=f"hall-timer fs-2 fw-semibold {colour}",
                      id="counter-timer", **{"data-start": since.isoformat(),
                                             "data-standard": str(ticket["standard"] or ""),
                                             "data-warn-share": str(DEFAULT_WARN_SHARE),
                                             "data-serving": "1" if serving else "0"}),
            html.Span(standard, className="ms-3 text-body-secondary"),
        ], className="mt-2"),
    ], id="counter-current-ticket")


def queue_table(rows: Sequence[dict[str, Any]], now: datetime) -> Any:
    if not rows:
        return empty_state(_("Nobody is waiting."), icon="bi-cup-hot")
    body = [(r["label"], r["business"], local(r["taken_at"]).strftime("%H:%M"),
             _("%(m)s min", m=int((now - r["taken_at"]).total_seconds() // 60)),
             _("transferred") if r["transfers"] else "") for r in rows]
    return simple_table([_("Number"), _("Business"), _("Taken"), _("Waiting"), ""], body,
                        id="counter-queue-table")


def waiting_stats(waiting: int, done: int, avg_service_min: float | None) -> Any:
    return dbc.Row([
        dbc.Col(stat(_("Waiting now"), waiting, "bi-people", "counter-waiting-count"), xs=4),
        dbc.Col(stat(_("Served today"), done, "bi-check2-all"), xs=4),
        dbc.Col(stat(_("Average service"), _("%(m)s min", m=avg_service_min)
                     if avg_service_min is not None else "–", "bi-stopwatch"), xs=4),
    ], className="g-2")


def clerk_home(waiting: Sequence[tuple[ServiceHall, int]]) -> Any:
    """The clerk's home: their halls, how many wait, and the way to the counter."""
    halls = [{"code": h.code, "name": h.name(), "address": h.address, "level": h.level,
              "counters": h.counters, "hours": opening_hours_text(h), "waiting": n}
             for h, n in waiting]
    if not halls:
        return empty_state(_("No service hall in your area."),
                           _("An administrator sets the station or supply office you work for."))
    cards = [dbc.Col(dbc.Card(dbc.CardBody([
        html.H2(h["name"], className="h5"),
        html.Div([html.I(className="bi bi-geo-alt me-2"), h["address"]], className="small"),
        html.Div(_("Level %(level)s · %(n)s counters · %(hours)s", level=h["level"],
                   n=h["counters"], hours=h["hours"]), className="small text-body-secondary mb-2"),
        html.Div(_("Waiting now: %(n)s", n=h["waiting"]), className="fs-5 mb-2"),
        dbc.Button([html.I(className="bi bi-megaphone me-1"), _("Open the counter")],
                   href="/counter", color="primary", size="sm", className="me-2"),
        dbc.Button(_("Kiosk"), href=f"/kiosk/{h['code']}", external_link=True, target="_blank",
                   color="outline-secondary", size="sm", className="me-2"),
        dbc.Button(_("Calling display"), href=f"/kiosk/{h['code']}/display", external_link=True,
                   target="_blank", color="outline-secondary", size="sm"),
    ])), md=6, className="mb-3") for h in halls]
    return dbc.Row(cards, id="home-halls")
