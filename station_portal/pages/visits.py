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
from station_portal.workorders.visit_due import NextVisit

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
                      "client is visited. A client's next visit is due its own frequency after "
                      "the last visit made; once that day has passed without a visit it is "
                      "overdue. The visit job plans the next visit on the day it is due.")),
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
                            ("next", _("Next visit due")), ("overdue", _("Days overdue")),
                            ("state", _("State"))), page_size=15),
    ])


PAGE = Page(path="/visits", title=_l("Visits"), roles=ROLES, layout=layout,
            icon="bi-calendar-check")


def overdue_words(days: int) -> str:
    return _("Overdue by 1 day") if days == 1 else _("Overdue by %(n)s days", n=days)


def client_row(client_id: int, name: str, kind: str, nxt: NextVisit) -> dict[str, Any]:
    """A client's row: frequency, last visit, the day the next one is due and its state."""
    if nxt.overdue:
        state = overdue_words(nxt.overdue_days)
    elif nxt.visit_id is not None:
        state = _("Visit planned")
    elif nxt.due is not None or nxt.every_days:
        state = _("Not planned yet")
    else:
        state = _("No recurring visits")
    return {"id": str(client_id), "client": name, "kind": kind, "every": nxt.every_days or "",
            "last": format_local(nxt.last_done), "next": nxt.due.isoformat() if nxt.due else "",
            "overdue": nxt.overdue_days or "", "state": state}


def _badge(row: dict[str, Any]) -> tuple[str, str]:
    if row["state"] == "overdue":
        return "danger", overdue_words(row["days"])
    if row["state"] == "missed":
        return "warning", _("Visit missed")
    return "secondary", _("Visit planned")


def open_visits(rows: list[dict[str, Any]], may_record: bool) -> Any:
    """Each open visit with its state (overdue with its days) and, for account managers,
    a note and a record button."""
    if not rows:
        return empty_state(_("No open visits."), _("Planned visits appear here."),
                           icon="bi-calendar2-check")
    items = []
    for row in rows:
        badge = _badge(row)
        due = row.get("due")
        items.append(dbc.ListGroupItem([
            html.Div([
                html.Strong(row["client"]),
                dbc.Badge(badge[1], color=badge[0], className="ms-2",
                          id=f"visit-state-{row['id']}"),
                html.Small(format_local(row["planned_for"]), className="ms-auto ps-2"),
            ], className="d-flex align-items-baseline"),
            html.Div(_("Was due on %(day)s", day=due.isoformat()), className="small text-danger")
            if row["state"] == "overdue" and due is not None else None,
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
