"""Client visits for account managers: open visits to record, and each client's frequency."""

from __future__ import annotations

from typing import Any

import dash_bootstrap_components as dbc
from dash import dcc, html

from station_portal.auth.roles import Role
from station_portal.i18n import _, _l
from station_portal.pages import Page
from station_portal.pages.grid import data_grid
from station_portal.pages.ui import dropdown, empty_state, page_header
from station_portal.timefmt import format_local

ROLES = frozenset({Role.ACCOUNT_MANAGER, Role.COMPANY_MANAGER})
OPEN = "visits-open"
CLIENTS = "visits-clients"
FEEDBACK = "visits-feedback"
REFRESH = "visits-refresh"
CLIENT = "visits-client"
EVERY = "visits-every"
EVERY_SAVE = "visits-every-save"
RECORD = "visit-record"  # pattern-matched: {"type": RECORD, "id": visit id}
NOTE = "visit-note"  # pattern-matched: {"type": NOTE, "id": visit id}


def layout(user: Any, query: dict[str, str]) -> html.Div:
    return html.Div([
        page_header(_("Client visits"),
                    _("Visits planned for your clients, the ones to record, and how often each "
                      "client is visited. The visit job plans the next visit a frequency after "
                      "the last one and flags a planned day that passed unrecorded.")),
        dcc.Store(id=REFRESH),
        html.Div(id=FEEDBACK),
        html.H2(_("Open visits"), className="h5"),
        html.Div(id=OPEN, className="mb-4"),
        html.H2(_("Visit frequency"), className="h5"),
        dbc.Row([
            dbc.Col(dropdown(CLIENT, placeholder=_("Client")), md=5, className="mb-2"),
            dbc.Col(dbc.InputGroup([
                dbc.Input(id=EVERY, type="number", min=1, max=366, step=1,
                          placeholder=_("Days between visits")),
                dbc.InputGroupText(_("days")),
            ]), md=4, className="mb-2"),
            dbc.Col(dbc.Button(_("Save"), id=EVERY_SAVE, color="secondary"), md=3,
                    className="mb-2"),
        ]),
        html.P(_("Leave the days empty to stop recurring visits for the client."),
               className="small text-body-secondary"),
        data_grid(CLIENTS, (("client", _("Client")), ("kind", _("Kind")),
                            ("every", _("Every (days)")), ("last", _("Last visit")),
                            ("next", _("Next planned")), ("state", _("State"))), page_size=15),
    ])


PAGE = Page(path="/visits", title=_l("Visits"), roles=ROLES, layout=layout,
            icon="bi-calendar-check")


def open_visits(rows: list[dict[str, Any]], may_record: bool) -> Any:
    """Each open visit with its state and, for account managers, a note and a record button."""
    if not rows:
        return empty_state(_("No open visits."), _("Planned visits appear here."),
                           icon="bi-calendar2-check")
    items = []
    for row in rows:
        badge = {"missed": ("danger", _("Visit missed")), "overdue": ("warning", _("Visit due")),
                 "upcoming": ("secondary", _("Visit planned"))}[row["state"]]
        items.append(dbc.ListGroupItem([
            html.Div([
                html.Strong(row["client"]),
                dbc.Badge(badge[1], color=badge[0], className="ms-2"),
                html.Small(format_local(row["planned_for"]), className="ms-auto ps-2"),
            ], className="d-flex align-items-baseline"),
            html.Div(row["case"] and html.A(row["case"], href=f"/orders/{row['order_id']}"),
                     className="small"),
            dbc.InputGroup([
                dbc.Input(id={"type": NOTE, "id": row["id"]}, maxLength=500, size="sm",
                          placeholder=_("What was discussed (optional)")),
                dbc.Button(_("Record visit"), id={"type": RECORD, "id": row["id"]},
                           color="primary", size="sm"),
            ], className="mt-2", size="sm") if may_record else None,
        ], id=f"visit-{row['id']}"))
    return dbc.ListGroup(items)
