"""The four role dashboards: operations, workload, clients, KPIs.

Each dashboard is declared once (:data:`DASHBOARDS`): its panels (figures,
tables, notes), the roles it serves and the unit kinds its filter offers. The
layout is built from that declaration; ``callbacks/dashboards.py`` fills it
and keeps it live. A panel's component id is ``dash-<board>-<panel>``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import dash_ag_grid as dag
import dash_bootstrap_components as dbc
from dash import dcc, html

from station_portal.auth.roles import Role
from station_portal.i18n import LazyString, _, _l, get_locale
from station_portal.org.models import UnitKind
from station_portal.pages import Page, charts
from station_portal.pages.grid import locale_text
from station_portal.pages.ui import graph_config as ui_graph_config
from station_portal.pages.ui import page_header

POLL_MS = 3000
GRAPH, TABLE, NOTE = "graph", "table", "note"


@dataclass(frozen=True)
class Panel:
    id: str
    title: LazyString
    kind: str = GRAPH
    width: int = 6  # of 12 columns on a wide screen
    help: LazyString | None = None
    own_callback: bool = False  # filled by its own callback, not by the board's fill and poll


@dataclass(frozen=True)
class Board:
    key: str
    path: str
    title: LazyString
    subtitle: LazyString
    roles: frozenset[Role]
    icon: str
    unit_kinds: tuple[str, ...]
    default_days: int
    range_help: LazyString
    panels: tuple[Panel, ...]
    ahead_days: int = 0  # the default period reaches this far past today

    def id(self, part: str) -> str:
        return f"dash-{self.key}-{part}"

    @property
    def tables(self) -> tuple[Panel, ...]:
        return tuple(p for p in self.panels if p.kind == TABLE)

    @property
    def filled(self) -> tuple[Panel, ...]:
        """The panels the board's fill and poll write."""
        return tuple(p for p in self.panels if not p.own_callback)


MANAGERS = frozenset({Role.ADMIN, Role.COMPANY_MANAGER})
COUNTY = UnitKind.COUNTY_COMPANY
STATION, OFFICE, GRID_UNIT = UnitKind.SERVICE_STATION, UnitKind.SUPPLY_OFFICE, UnitKind.GRID

OPERATIONS = Board(
    "ops", "/dashboards/operations", _l("Operations"),
    _l("Open work on the map, what is at risk now and who holds it, and today's arrivals "
       "against the 45/90/120-minute commitments."),
    MANAGERS | {Role.STATION_HEAD, Role.GRID_MANAGER}, "bi-broadcast",
    (COUNTY, STATION, OFFICE, GRID_UNIT), 1,
    _l("The dates choose the arrivals and received orders; the map and the risk list always "
       "show the open work now."),
    (
        Panel("map", _l("Open work orders"), width=7),
        Panel("status", _l("Open orders by status"), width=5),
        Panel("risk", _l("At risk or overdue now"), TABLE, width=12),
        Panel("arrivals", _l("Arrivals against the commitments"), width=6),
        Panel("received", _l("Orders received"), width=6),
    ),
)
WORKLOAD = Board(
    "work", "/dashboards/workload", _l("Workload"),
    _l("Work per grid, group and crew, the open backlog, and the year's trend with a "
       "four-week forecast."),
    MANAGERS | {Role.GRID_MANAGER, Role.STATION_HEAD}, "bi-bar-chart-line",
    (COUNTY, OFFICE, STATION, GRID_UNIT), 28,
    _l("The dates choose the received, closed and restored work; backlog and overdue are now."),
    (
        Panel("units", _l("Per grid or station"), TABLE, width=6),
        Panel("categories", _l("By category"), width=6),
        # the whole width: every column fits at 1366 px, the load ones first
        Panel("crews", _l("Per crew"), TABLE, width=12,
              help=_l("Open jobs now: the repairs a crew holds (dispatched to on site, as lead or "
                      "support); in red when it holds more than it can carry at once.")),
        Panel("days", _l("Orders per day and week"), width=12),
        Panel("year", _l("The last year and the next four weeks"), width=12),
        Panel("forecast", _l("About the forecast"), NOTE, width=12),
    ),
)
CLIENTS = Board(
    "clients", "/dashboards/clients", _l("Clients and parks"),
    _l("Your clients' pre-engagement cases as a pipeline, the visits due, and the load "
       "coming to each park."),
    MANAGERS | {Role.ACCOUNT_MANAGER}, "bi-buildings",
    (COUNTY, STATION, OFFICE), 30,
    _l("The dates choose the visits; overdue visits are listed whatever their date."),
    (
        Panel("pipeline", _l("Pipeline"), width=5),
        Panel("parks", _l("Projected load by park"), width=7),
        Panel("visits", _l("Visits"), TABLE, width=12),
        Panel("cases", _l("Cases (pick one for its timeline)"), TABLE, width=7),
        Panel("timeline", _l("Timeline of the case"), width=5, own_callback=True),
    ),
    ahead_days=30,
)
KPIS = Board(
    "kpi", "/dashboards/kpis", _l("KPIs"),
    _l("Compliance with each time limit, delay attribution, getting-electricity figures and "
       "the station league."),
    MANAGERS | {Role.STATION_HEAD, Role.GRID_MANAGER}, "bi-speedometer2",
    (COUNTY, STATION, OFFICE), 30,
    _l("The dates choose the stages, arrivals and restorations that finished in the period."),
    (
        Panel("league", _l("Station league"), TABLE, width=12),
        Panel("compliance", _l("Within the limit, by stage and class (%)"), width=6),
        Panel("stagedays", _l("Average working days per stage"), width=6),
        Panel("attribution", _l("Who held applications past their limits"), width=6),
        Panel("repairs", _l("Repairs against the commitments"), width=6),
        Panel("electricity", _l("Getting electricity, per customer class"), TABLE, width=12,
              help=_l("Procedures: the utility's steps on the class's path (without archiving); "
                      "working days: the utility's own time, pauses for the customer excluded.")),
        Panel("stages", _l("Stages in detail"), TABLE, width=12),
        Panel("customers", _l("The customers' view: ratings, online applications, counter "
                              "visits"), TABLE, width=12,
              help=_l("Ratings given in the period (1 to 5 stars, asked when a case closes); "
                      "applications received in the period, the share made online and the "
                      "counter visits they needed (goal: zero).")),
        Panel("gw_waiting", _l("Supporting grid works: applications waiting per project"),
              width=6, help=_l("Open projects; red: late on a milestone. Waiting time in "
                               "working days from linking.")),
        Panel("gw_funds", _l("Supporting grid works: funds expected and arrived"), width=6),
        Panel("gw_late", _l("Late grid works and the applications they delay"), TABLE, width=12),
    ),
)
DASHBOARDS = (OPERATIONS, WORKLOAD, CLIENTS, KPIS)
GRAPH_CONFIG = {"displayModeBar": True,
                "modeBarButtonsToRemove": ["select2d", "lasso2d", "sendChartToCloud"]}


def graph_config(board: Board, panel: Panel) -> dict[str, Any]:
    return ui_graph_config(**GRAPH_CONFIG, toImageButtonOptions={
        "format": "png", "scale": 2, "filename": f"station-portal-{board.key}-{panel.id}"})


def _panel(board: Board, panel: Panel) -> dbc.Col:
    body: Any
    actions = None
    if panel.kind == GRAPH:
        # the case timeline waits for a pick; the other graphs are filled at once
        first = charts.timeline_figure(None) if panel.id == "timeline" else None
        body = dcc.Graph(id=board.id(panel.id), config=graph_config(board, panel),
                         className="portal-dash-graph", **({"figure": first} if first else {}))
        actions = html.Span(_("PNG: camera icon on the chart"),
                            className="small text-body-secondary ms-auto d-none d-md-inline")
    elif panel.kind == TABLE:
        body = dag.AgGrid(
            id=board.id(panel.id), rowData=[], columnDefs=[],
            defaultColDef={"sortable": True, "resizable": True, "filter": True, "flex": 1,
                           "minWidth": 100, "wrapHeaderText": True, "autoHeaderHeight": True},
            dashGridOptions={"localeText": locale_text(), "domLayout": "autoHeight",
                             "pagination": True, "paginationPageSize": 10,
                             "paginationPageSizeSelector": False,
                             **({"rowSelection": {"mode": "singleRow", "checkboxes": False,
                                                  "enableClickSelection": True}}
                                if (board.key, panel.id) == ("clients", "cases") else {})},
            className="portal-grid" + (" portal-grid-clickable"
                                       if (board.key, panel.id) == ("clients", "cases") else ""),
        )
        actions = dbc.Button([html.I(className="bi bi-file-earmark-excel me-1"), _("Excel")],
                             id=board.id(f"{panel.id}-xlsx"), size="sm", color="outline-success",
                             className="ms-auto")
    else:
        body = html.Div(id=board.id(panel.id), className="small")
    header = html.Div([html.Span(str(panel.title), className="fw-semibold"), actions],
                      className="d-flex align-items-center gap-2")
    return dbc.Col(dbc.Card([
        dbc.CardHeader(header),
        dbc.CardBody([
            html.P(str(panel.help), className="small text-body-secondary") if panel.help else None,
            dcc.Loading(body, delay_show=400, overlay_style={"visibility": "visible",
                                                              "opacity": 0.6}),
        ]),
    ], className="h-100"), xs=12, lg=panel.width, className="mb-3")


def filters(board: Board) -> dbc.Card:
    return dbc.Card(dbc.CardBody(dbc.Row([
        dbc.Col([dbc.Label(_("Period"), html_for=board.id("range"), className="small mb-1"),
                 dcc.DatePickerRange(id=board.id("range"), display_format="YYYY-MM-DD",
                                     first_day_of_week=1, minimum_nights=0,
                                     start_date_placeholder_text=_("From"),
                                     end_date_placeholder_text=_("To"),
                                     className="d-block")], xs=12, md="auto"),
        dbc.Col([dbc.Label(_("Unit"), html_for=board.id("unit"), className="small mb-1"),
                 dcc.Dropdown(id=board.id("unit"), options=[], placeholder=_("All my units"),
                              clearable=True)], xs=12, md=4),
        dbc.Col(html.Div([
            html.Span(className="portal-live-dot me-1"),
            html.Span(_("Live"), id=board.id("live"), className="small text-body-secondary"),
        ], className="d-flex align-items-center"), xs=12, md="auto", className="ms-md-auto"),
        dbc.Col(html.Div(str(board.range_help), className="small text-body-secondary"), xs=12,
                className="mt-1"),
    ], className="g-2 align-items-end")), className="mb-3 portal-dash-filters")


def layout_for(board: Board) -> Any:
    def layout(user: Any, query: dict[str, str]) -> html.Div:
        return html.Div([
            page_header(str(board.title), str(board.subtitle)),
            filters(board),
            html.Div(id=board.id("alert")),
            html.Div(id=board.id("stats")),
            dbc.Row([_panel(board, p) for p in board.panels]),
            dcc.Download(id=board.id("download")),
            dcc.Store(id=board.id("load"), data=get_locale()),
            dcc.Store(id=board.id("known"), data={}),
            dcc.Store(id=board.id("poll")),
            dcc.Store(id=board.id("inflight")),
            dcc.Interval(id=board.id("interval"), interval=POLL_MS),
        ], className="portal-dashboard", **{"data-board": board.key})
    return layout


PAGES = tuple(Page(path=b.path, title=b.title, roles=b.roles, layout=layout_for(b), icon=b.icon)
              for b in DASHBOARDS)


def board_for(role: Role) -> Board | None:
    """The dashboard made for a role (its home page links to it)."""
    return {Role.STATION_HEAD: OPERATIONS, Role.GRID_MANAGER: WORKLOAD,
            Role.ACCOUNT_MANAGER: CLIENTS, Role.COMPANY_MANAGER: KPIS,
            Role.ADMIN: KPIS}.get(role)


def stats_row(items: list[tuple[str, Any, str, str | None]]) -> dbc.Row:
    """Headline numbers: (label, value, icon, colour)."""
    return dbc.Row([
        dbc.Col(dbc.Card(dbc.CardBody([
            html.Div([html.I(className=f"bi {icon} me-2"), text],
                     className="small text-body-secondary"),
            html.Div(value, className=f"fs-4 fw-semibold {('text-' + colour) if colour else ''}"),
        ]), className="h-100"), xs=6, md=3, className="mb-3")
        for text, value, icon, colour in items
    ], className="g-3")


def filter_message(code: str) -> str:
    return {
        "dates": _("Please pick valid dates."),
        "order": _("The period ends before it starts."),
        "long": _("Please pick a period of at most two years."),
        "unit": _("That unit is not in your area."),
    }.get(code, _("Please check the filters."))
