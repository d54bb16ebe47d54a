"""Security and change log (admin only): sign-ins, lockouts, account changes."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import dash_bootstrap_components as dbc
from dash import dcc, html

from station_portal.auth.queries import AuditRow
from station_portal.auth.roles import ADMIN_ONLY
from station_portal.i18n import LOCALE_NAMES, _, _l
from station_portal.labels import AUDIT_ACTIONS, AUDIT_DETAIL_KEYS, ROLES, label
from station_portal.pages import Page
from station_portal.pages.grid import data_grid
from station_portal.pages.ui import dropdown, page_header
from station_portal.timefmt import format_local
from station_portal.validate import FIRST_DAY, LAST_DAY

ACTION = "audit-action"
TEXT = "audit-text"
DATES = "audit-dates"
TABLE = "audit-table"
COUNT = "audit-count"
LIMIT = 1000


def layout(user: Any, query: dict[str, str]) -> html.Div:
    return html.Div([
        page_header(_("Security log"),
                    _("Every sign-in, failure, lockout and account change, newest first.")),
        dbc.Row([
            dbc.Col(dropdown(
                ACTION, placeholder=_("All events"),
                options=[{"label": str(text), "value": code} for code, text in AUDIT_ACTIONS.items()],
            ), md=4, className="mb-2"),
            dbc.Col(dbc.Input(id=TEXT, type="search", debounce=True,
                              placeholder=_("Account or address")), md=4, className="mb-2"),
            dbc.Col(dcc.DatePickerRange(
                id=DATES, display_format="YYYY-MM-DD", month_format="YYYY-MM", clearable=True,
                first_day_of_week=1, min_date_allowed=FIRST_DAY.isoformat(),
                max_date_allowed=LAST_DAY.isoformat(), start_date_placeholder_text=_("From"),
                end_date_placeholder_text=_("To")), md=4, className="mb-2"),
        ]),
        html.Div(id=COUNT, className="small text-body-secondary mb-2"),
        data_grid(TABLE, (
            ("at", _("Time")), ("event", _("Event")), ("subject", _("Account")),
            ("actor", _("By")), ("ip", _("Address")), ("details", _("Details"))), page_size=25),
    ])


PAGE = Page(path="/admin/audit", title=_l("Security log"), roles=ADMIN_ONLY, layout=layout,
            icon="bi-journal-text")


# Detail values that are codes, shown by their names.
CODED = {"role": ROLES, "locale": LOCALE_NAMES}


def detail_value(value: Any, *, changes: bool = False, key: str = "") -> str:
    """An audit detail in words: changes field by field as "before → after", codes by their
    names, yes/no, lists joined; never a raw dump."""
    if isinstance(value, dict):
        parts = []
        for k, v in value.items():
            name = label(AUDIT_DETAIL_KEYS, k) or k
            if changes and isinstance(v, list) and len(v) == 2:
                parts.append(f"{name}: {detail_value(v[0], key=k)} → {detail_value(v[1], key=k)}")
            else:
                parts.append(f"{name}: {detail_value(v, key=k)}")
        return ", ".join(parts)
    if isinstance(value, list | tuple):
        return "、".join(detail_value(v, key=key) for v in value) if value else "–"
    if isinstance(value, bool):
        return _("yes") if value else _("no")
    if value is None or value == "":
        return "–"
    if key in CODED and str(value) in CODED[key]:
        return str(CODED[key][str(value)])
    return str(value)


def rows(events: Sequence[AuditRow]) -> list[dict[str, Any]]:
    def details(event: AuditRow) -> str:
        if not event.details:
            return ""
        return "; ".join(f"{label(AUDIT_DETAIL_KEYS, k) or k}: "
                         f"{detail_value(v, changes=k == 'changes', key=k)}"
                         for k, v in event.details.items())

    return [{
        "id": e.id,
        "at": format_local(e.at, seconds=True),
        "event": label(AUDIT_ACTIONS, e.action),
        "subject": e.subject or "",
        "actor": e.actor or "",
        "ip": e.ip or "",
        "details": details(e),
    } for e in events]
