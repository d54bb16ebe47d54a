"""Outages (停电计划): the week's planned and temporary outages of the caller's area on a
map, with the customers they touch and whether each was told in time; plan, approve,
announce, start and end them.

Layout and pure builders only; ``callbacks/outages.py`` reads ``network.outages`` and
writes through ``services.outages``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import dash_bootstrap_components as dbc
import plotly.graph_objects as go
from dash import dcc, html

from station_portal.auth.roles import Role
from station_portal.i18n import _, _l
from station_portal.labels import NOTICE_VERDICTS, OUTAGE_KINDS, OUTAGE_STATUSES, label
from station_portal.network.outages import NoticeFigures, OutageRow
from station_portal.org.queries import TerritoryFeature
from station_portal.pages import Page
from station_portal.pages.maps import GRAPH_CONFIG, _polygons, base_layout, empty_map
from station_portal.pages.ui import dropdown, empty_state, page_header, plotly_text, stat
from station_portal.timefmt import format_local

ROLES = frozenset({Role.ADMIN, Role.COMPANY_MANAGER, Role.STATION_HEAD, Role.GRID_MANAGER,
                   Role.ACCOUNT_MANAGER, Role.CLERK})
PLANNERS = frozenset({Role.COMPANY_MANAGER, Role.STATION_HEAD, Role.GRID_MANAGER})
WINDOW = "outages-window"
REFRESH = "outages-refresh"
STATS = "outages-stats"
MAP = "outages-map"
TABLE = "outages-table"
FEEDBACK = "outages-feedback"
VERSIONS = "outages-versions"
PICK = "outages-pick"
STEP = "outages-step"
STEP_GO = "outages-step-go"
KIND = "outages-kind"
REASON = "outages-reason"
AREAS = "outages-areas"
STARTS = "outages-starts"
ENDS = "outages-ends"
CREATE = "outages-create"
PROJECT = "outages-project"
# Plans are made weeks ahead: the default window reaches as far as a plan is kept ahead.
AHEAD_DAYS = 60
WINDOWS = {"week": _l("From this week on"), "past": _l("The past 30 days"),
           "all": _l("The past 30 days and all ahead")}
STEP_LABELS = {"approve": _l("Approve the plan"), "announce": _l("Announce and tell the customers"),
               "start": _l("Power is off now (start)"), "end": _l("Power is back (end)"),
               "cancel": _l("Cancel the outage")}
VERDICT_COLOURS = {"in_time": "success", "late": "warning", "due": "secondary", "missed": "danger",
                   "none": "secondary"}
MAP_COLOURS = {"in_progress": "#d62728", "announced": "#ff7f0e", "approved": "#1f77b4",
               "draft": "#7f7f7f", "ended": "#2ca02c", "cancelled": "#bbbbbb"}


def layout(user: Any, query: dict[str, str]) -> html.Div:
    may_plan = user.role in PLANNERS
    return html.Div([
        page_header(_("Outages"), _(
            "Planned and temporary outages of your area, the transformer areas and customers "
            "they cut off, and whether the customers were told in time: 7 days ahead for a "
            "planned outage, 24 hours for a temporary one (SGCC ten service commitments, "
            "art. 2; Regulations on Electricity Supply and Use, art. 28); a fault outage is "
            "published when it is recorded. Announced outages are listed on the public page "
            "/service/outages.")),
        dcc.Store(id=REFRESH), dcc.Store(id=VERSIONS),
        html.Div(id=FEEDBACK),
        dbc.Row([dbc.Col([
            dbc.Label(_("Window"), html_for=WINDOW, className="small mb-1"),
            dbc.Select(id=WINDOW, value="week", options=[
                {"label": str(text), "value": code} for code, text in WINDOWS.items()])],
            md=4, className="mb-2")]),
        html.Div(id=STATS, className="mb-3"),
        dbc.Row([
            dbc.Col(dcc.Graph(id=MAP, config=GRAPH_CONFIG, style={"height": "420px"},
                              figure=empty_map(_("Loading…"))), lg=6, className="mb-3"),
            dbc.Col(html.Div(id=TABLE), lg=6, className="mb-3 table-responsive"),
        ]),
        dbc.Card([
            dbc.CardHeader(_("Act on an outage")),
            dbc.CardBody(dbc.Row([
                dbc.Col([dbc.Label(_("Outage"), html_for=PICK, className="small mb-1"),
                         dropdown(PICK, placeholder=_("Outage"))], md=5, className="mb-2"),
                dbc.Col([dbc.Label(_("Step"), html_for=STEP, className="small mb-1"),
                         dbc.Select(id=STEP, options=[
                             {"label": str(text), "value": code}
                             for code, text in STEP_LABELS.items()])],
                        md=4, className="mb-2"),
                dbc.Col(dbc.Button(_("Do it"), id=STEP_GO, color="primary"), md=3,
                        className="mb-2 d-flex align-items-end"),
            ])),
        ], className="mb-3", style=None if may_plan else {"display": "none"}),
        dbc.Card([
            dbc.CardHeader(_("Plan an outage, or record a temporary or fault outage")),
            dbc.CardBody([
                dbc.Row([
                    dbc.Col([dbc.Label(_("Kind"), html_for=KIND, className="small mb-1"),
                             dbc.Select(id=KIND, value="planned", options=[
                                 {"label": str(t), "value": c} for c, t in OUTAGE_KINDS.items()])],
                            md=3, className="mb-2"),
                    dbc.Col([dbc.Label(_("Starts (Beijing time)"), html_for=STARTS,
                                       className="small mb-1"),
                             dbc.Input(id=STARTS, type="datetime-local")], md=3, className="mb-2"),
                    dbc.Col([dbc.Label(_("Ends (Beijing time)"), html_for=ENDS,
                                       className="small mb-1"),
                             dbc.Input(id=ENDS, type="datetime-local")], md=3, className="mb-2"),
                ]),
                dbc.Label(_("Transformer areas cut off"), html_for=AREAS, className="small mb-1"),
                dropdown(AREAS, multi=True, placeholder=_("Type an area's name or code")),
                dbc.Label(_("Grid works it switches in (optional)"), html_for=PROJECT,
                          className="small mb-1 mt-2"),
                dropdown(PROJECT, placeholder=_("None")),
                dbc.Label(_("Reason (shown to the public)"), html_for=REASON,
                          className="small mb-1 mt-2"),
                dbc.Input(id=REASON, maxLength=300),
                dbc.FormText(_("A planned outage starts as a draft for approval. A temporary "
                               "or fault outage is announced at once; the customers with a "
                               "mobile number or mail address are told. A fault outage has "
                               "begun already and has no advance-notice commitment.")),
                html.Div(dbc.Button(_("Save"), id=CREATE, color="primary"), className="mt-2"),
            ]),
        ], style=None if may_plan else {"display": "none"}),  # the server refuses them anyway
    ])


PAGE = Page(path="/outages", title=_l("Outages"), roles=ROLES, layout=layout,
            icon="bi-lightning-charge")


def stats(figures: NoticeFigures, rows: Sequence[OutageRow]) -> dbc.Row:
    rate = figures.rate
    return dbc.Row([
        dbc.Col(stat(_("Outages"), len(rows), "bi-lightning-charge", id_="outages-count"), md=3),
        dbc.Col(stat(_("Customers affected"), sum(r.customers for r in rows), "bi-people",
                     id_="outages-customers"), md=3),
        dbc.Col(stat(_("Told in time"), "—" if rate is None else f"{rate:.0%}",
                     "bi-megaphone", id_="outages-in-time"), md=3),
        dbc.Col(stat(_("Late or missed"), figures.late + figures.missed, "bi-exclamation-triangle",
                     id_="outages-late"), md=3),
    ], className="g-2")


def when(row: OutageRow) -> str:
    return f"{format_local(row.starts_at)} – {format_local(row.ends_at)[11:]}" \
        if format_local(row.starts_at)[:10] == format_local(row.ends_at)[:10] \
        else f"{format_local(row.starts_at)} – {format_local(row.ends_at)}"


def table(rows: Sequence[OutageRow]) -> Any:
    if not rows:
        return empty_state(_("No outages in this window."),
                           _("Plan one below, or choose another window."), icon="bi-lightbulb")
    body = []
    for r in rows:
        body.append(html.Tr([
            html.Td([html.Strong(r.code), html.Div(label(OUTAGE_KINDS, r.kind),
                                                   className="small text-body-secondary")]),
            html.Td([html.Div(when(r)), html.Div(r.reason, className="small")]),
            html.Td([html.Div(", ".join(a.name for a in r.areas[:3])
                              + (_(" and %(n)s more", n=len(r.areas) - 3) if len(r.areas) > 3 else "")),
                     html.Div(_("%(n)s customers", n=r.customers)
                              + (_(", %(n)s important", n=r.important) if r.important else ""),
                              className="small")]),
            html.Td(dbc.Badge(label(OUTAGE_STATUSES, r.status), color="secondary")),
            html.Td([dbc.Badge(label(NOTICE_VERDICTS, r.verdict),
                               color=VERDICT_COLOURS.get(r.verdict, "light"),
                               id=f"outage-verdict-{r.id}"),
                     html.Div(_("due %(when)s", when=format_local(r.notice_due_at)),
                              className="small") if r.notice_due_at else None]),
        ], id=f"outage-{r.id}"))
    head = html.Thead(html.Tr([html.Th(h) for h in (
        _("Outage"), _("When and why"), _("Areas and customers"), _("Status"), _("Notice"))]))
    return dbc.Table([head, html.Tbody(body)], size="sm", hover=True, className="align-middle")


def figure(rows: Sequence[OutageRow], territories: Sequence[TerritoryFeature], *,
           locale: str, tile_url: str = "", attribution: str = "") -> go.Figure:
    """The scope's territories, and each outage's areas as circles sized by customers."""
    points = [(a.lon, a.lat) for r in rows for a in r.areas]
    if not rows:
        return empty_map(_("No outages in this window."))
    fig = go.Figure()
    if territories:
        fig.add_trace(_polygons(territories, "#9ecae1",
                                marker={"opacity": 0.2, "line": {"width": 1, "color": "#ffffff"}},
                                name=_("Territories"), hoverinfo="skip", showlegend=False))
    for status, colour in MAP_COLOURS.items():
        group = [(r, a) for r in rows if r.status == status for a in r.areas]
        if not group:
            continue
        fig.add_trace(go.Scattermap(
            lat=[a.lat for _r, a in group], lon=[a.lon for _r, a in group], mode="markers",
            marker={"size": [8 + min(22, a.customers ** 0.5) for _r, a in group],
                    "color": colour, "opacity": 0.8},
            text=plotly_text([f"{r.code} · {a.name}" for r, a in group]),
            customdata=[[a.customers, when(r)] for r, a in group],
            hovertemplate="<b>%{text}</b><br>%{customdata[1]}<br>"
                          + _("%(n)s customers", n="%{customdata[0]}") + "<extra></extra>",
            name=label(OUTAGE_STATUSES, status)))
    fig.update_layout(**base_layout(points, tile_url, attribution))
    return fig


def pick_options(rows: Sequence[OutageRow]) -> list[dict[str, Any]]:
    return [{"label": f"{r.code} · {label(OUTAGE_STATUSES, r.status)} · {when(r)}", "value": r.id}
            for r in rows if r.status not in ("ended", "cancelled")]
