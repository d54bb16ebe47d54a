"""The notification centre: the bell's list, with links to the work, and marking read."""

from __future__ import annotations

from typing import Any

import dash_bootstrap_components as dbc
from dash import dcc, html

from station_portal.auth.roles import ALL_STAFF
from station_portal.i18n import _, _l
from station_portal.notify.models import Notification
from station_portal.notify.service import Message
from station_portal.pages import Page
from station_portal.pages.ui import empty_state, page_header
from station_portal.timefmt import format_local

LIST = "notes-list"
UNREAD_ONLY = "notes-unread-only"
READ_ALL = "notes-read-all"
FEEDBACK = "notes-feedback"
READ_ONE = "note-read"  # pattern-matched: {"type": READ_ONE, "id": notification id}
MORE = "notes-more"
LIMIT = 50  # shown at first; each "Show older" adds as many
MAX_LIMIT = 1000

ICONS = {"sla_warning": "bi-hourglass-split text-warning",
         "sla_overdue": "bi-alarm text-danger",
         "sla_escalated": "bi-arrow-up-circle text-danger",
         "visit_planned": "bi-calendar-event text-primary",
         "visit_missed": "bi-calendar-x text-danger",
         "briefing_ready": "bi-file-earmark-bar-graph text-success"}


def layout(user: Any, query: dict[str, str]) -> html.Div:
    return html.Div([
        page_header(_("Notifications"),
                    _("Time limits, escalations, visits and briefings that concern you."),
                    actions=html.Div([
                        dbc.Button([html.I(className="bi bi-check2-all me-1"),
                                    _("Mark all as read")], id=READ_ALL, color="secondary",
                                   size="sm", outline=True, className="me-2"),
                        dcc.Link([html.I(className="bi bi-sliders me-1"), _("Settings")],
                                 href="/account#notification-settings",
                                 className="btn btn-sm btn-outline-secondary"),
                    ])),
        dbc.Switch(id=UNREAD_ONLY, label=_("Unread only"), value=False, className="mb-2"),
        html.Div(id=FEEDBACK),
        html.Div(id=LIST),
        dbc.Button(_("Show older"), id=MORE, color="link", size="sm", className="px-0 mt-2",
                   n_clicks=0),
    ])


PAGE = Page(path="/notifications", title=_l("Notifications"), roles=ALL_STAFF, layout=layout,
            icon="bi-bell", in_nav=False)


def note_list(items: list[tuple[Notification, Message]]) -> Any:
    """The list, newest first; unread ones stand out and can be marked read one by one."""
    if not items:
        return empty_state(_("Nothing here."), _("Notifications appear when a time limit, a "
                                                   "visit or a briefing concerns you."),
                           icon="bi-bell-slash")
    rows = []
    for note, text in items:
        unread = note.read_at is None
        rows.append(dbc.ListGroupItem([
            html.Div([
                html.I(className=f"bi {ICONS.get(note.event, 'bi-bell')} me-2"),
                html.A(text.subject, href=text.link,
                       className="fw-semibold" if unread else "text-body"),
                html.Small(format_local(note.created_at),
                           className="text-body-secondary ms-auto ps-2 text-nowrap"),
            ], className="d-flex align-items-baseline"),
            html.Div(text.body, className="small mt-1"),
            dbc.Button(_("Mark as read"), id={"type": READ_ONE, "id": note.id}, size="sm",
                       color="link", className="px-0") if unread else None,
        ], className="portal-note" + (" portal-note-unread" if unread else ""),
            id=f"note-{note.id}"))
    return dbc.ListGroup(rows, flush=False)
