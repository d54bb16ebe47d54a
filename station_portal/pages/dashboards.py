"""The four role dashboards: operations, workload, clients, KPIs.

Each dashboard is declared once (:data:`DASHBOARDS`): its panels (figures,
tables, notes), the roles it serves and the unit kinds its filter offers. The
layout is built from that declaration and arrives filled: ``layout()`` computes
the board for the signed-in user's scope and the default filters
(:func:`first_view`), so opening a board is one round trip, not a filter-options
callback whose answer triggers the data callback (which Dash sends only once
Plotly and AG Grid have loaded). The first row of panels is drawn with the page;
the charts and tables below it travel in the same answer (the ``later`` store)
and the browser draws them right after the first content (``assets/dashboards.js``).
``callbacks/dashboards.py`` refills the board when a filter changes and keeps it
live. A panel's component id is ``dash-<board>-<panel>``.

What each board shows (:data:`BUILDERS`) is here too: scoped queries of
``analytics`` turned into figures and tables by ``pages/charts/``. Must not
import the Dash app or a callbacks module.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

import dash_ag_grid as dag
import dash_bootstrap_components as dbc
from dash import dcc, html

from station_portal.analytics import dashboards as data
from station_portal.analytics.customers import satisfaction
from station_portal.auth.roles import Role
from station_portal.auth.scope import Scope
from station_portal.db import utcnow
from station_portal.gridworks.dashboard import grid_works_board
from station_portal.i18n import LazyString, _, _l, get_locale
from station_portal.labels import SLA_STATUSES
from station_portal.network.outages import notice_by_unit
from station_portal.org.models import UnitKind
from station_portal.pages import Page, charts
from station_portal.pages import gridworks_charts as gw_charts
from station_portal.pages.grid import locale_text
from station_portal.pages.ui import graph_config as ui_graph_config
from station_portal.pages.ui import page_header
from station_portal.sla.calendar import end_of_day, local_midnight
from station_portal.validate import FIRST_DAY, LAST_DAY
from station_portal.web.context import portal, read_session

Result = dict[str, Any]

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

    @property
    def first_row(self) -> tuple[Panel, ...]:
        """The panels of the first row (12 columns): the first screen on a 1366 px desktop."""
        row: list[Panel] = []
        for panel in self.panels:
            if sum(p.width for p in row) >= 12:
                break
            row.append(panel)
        return tuple(row)

    @property
    def later(self) -> tuple[Panel, ...]:
        """The charts and tables below the first row: the page draws them just after its first
        content (``assets/dashboards.js``)."""
        first = self.first_row
        return tuple(p for p in self.panels
                     if p not in first and p.kind in (GRAPH, TABLE) and not p.own_callback)


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
        Panel("capacity", _l("Room on the feeders around each park"), TABLE,
              width=12),
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
        Panel("notices", _l("Outage notices against the commitment"), TABLE, width=12,
              help=_l("Planned and temporary outages that started in the period, by the "
                      "station or supply office that owns them: told 7 days (planned) or 24 "
                      "hours (temporary) ahead, late, or not told. Fault outages owe no "
                      "advance notice.")),
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


def grid_options(board: Board, panel: Panel, table: charts.Table | None = None, *,
                 loading: bool = False) -> dict[str, Any]:
    """A table's AG Grid options: texts in the user's language (the table's own empty
    message), ten rows a page, and the loading overlay while its rows are on their way."""
    options: dict[str, Any] = {
        "localeText": {**locale_text(), **({"noRowsToShow": table.empty} if table else {})},
        "domLayout": "autoHeight", "pagination": True, "paginationPageSize": 10,
        "paginationPageSizeSelector": False, "loading": loading}
    if (board.key, panel.id) == ("clients", "cases"):
        options["rowSelection"] = {"mode": "singleRow", "checkboxes": False,
                                   "enableClickSelection": True}
    return options


def data_props(board: Board, panel: Panel, value: Any) -> dict[str, Any]:
    """The component props that show a panel's value (figure, :class:`charts.Table`, note)."""
    if panel.kind == GRAPH:
        return {"figure": value}
    if panel.kind == TABLE:
        return {"rowData": value.rows, "columnDefs": charts.column_defs(value.columns),
                "dashGridOptions": grid_options(board, panel, value)}
    return {"children": value}


def waiting_props(board: Board, panel: Panel, value: Any = None) -> dict[str, Any]:
    """The props of a panel whose value comes later: a blank chart of the height it will
    have (nothing below it moves when it is drawn), a table with the loading overlay."""
    if panel.kind == GRAPH:
        if panel.id == "timeline":  # the case timeline waits for a pick
            return {"figure": charts.timeline_figure(None)}
        height = value["layout"].get("height") if charts.is_figure(value) else None
        return {"figure": charts.placeholder_figure(height or 320)}
    if panel.kind == TABLE:
        return {"rowData": [], "columnDefs": [],
                "dashGridOptions": grid_options(board, panel, loading=True)}
    return {"children": None}


def _panel(board: Board, panel: Panel, props: dict[str, Any]) -> dbc.Col:
    """A panel's card; ``props`` fill its chart, table or note (:func:`data_props`,
    :func:`waiting_props`)."""
    body: Any
    actions = None
    if panel.kind == GRAPH:
        body = dcc.Graph(id=board.id(panel.id), config=graph_config(board, panel),
                         className="portal-dash-graph", **props)
        actions = html.Span(_("PNG: camera icon on the chart"),
                            className="small text-body-secondary ms-auto d-none d-md-inline")
    elif panel.kind == TABLE:
        clickable = (board.key, panel.id) == ("clients", "cases")
        body = dag.AgGrid(
            id=board.id(panel.id),
            defaultColDef={"sortable": True, "resizable": True, "filter": True, "flex": 1,
                           "minWidth": 100, "wrapHeaderText": True, "autoHeaderHeight": True},
            className="portal-grid" + (" portal-grid-clickable" if clickable else ""),
            **props,
        )
        actions = dbc.Button([html.I(className="bi bi-file-earmark-excel me-1"), _("Excel")],
                             id=board.id(f"{panel.id}-xlsx"), size="sm", color="outline-success",
                             className="ms-auto")
    else:
        body = html.Div(id=board.id(panel.id), className="small", **props)
    header = html.Div([html.Span(str(panel.title), className="fw-semibold"), actions],
                      className="d-flex align-items-center gap-2")
    return dbc.Col(dbc.Card([
        dbc.CardHeader(header),
        dbc.CardBody([
            html.P(str(panel.help), className="small text-body-secondary") if panel.help else None,
            # the page arrives filled: no spinner until a refill takes a while
            dcc.Loading(body, delay_show=400, show_initially=False,
                        overlay_style={"visibility": "visible", "opacity": 0.6}),
        ]),
    ], className="h-100"), xs=12, lg=panel.width, className="mb-3")


def filters(board: Board, view: BoardView | None = None) -> dbc.Card:
    """The period and unit filters, set to the defaults the board was computed with."""
    dates = {"start_date": view.start.isoformat(), "end_date": view.end.isoformat()} \
        if view else {}
    return dbc.Card(dbc.CardBody(dbc.Row([
        dbc.Col([dbc.Label(_("Period"), html_for=board.id("range"), className="small mb-1"),
                 dcc.DatePickerRange(id=board.id("range"), display_format="YYYY-MM-DD",
                                     first_day_of_week=1, minimum_nights=0,
                                     start_date_placeholder_text=_("From"),
                                     end_date_placeholder_text=_("To"),
                                     min_date_allowed=FIRST_DAY, max_date_allowed=LAST_DAY,
                                     className="d-block", **dates)], xs=12, md="auto"),
        dbc.Col([dbc.Label(_("Unit"), html_for=board.id("unit"), className="small mb-1"),
                 dcc.Dropdown(id=board.id("unit"), options=view.units if view else [],
                              placeholder=_("All my units"), clearable=True)], xs=12, md=4),
        dbc.Col(html.Div([
            html.Span(className="portal-live-dot me-1"),
            html.Span(_("Live"), id=board.id("live"), className="small text-body-secondary"),
        ], className="d-flex align-items-center"), xs=12, md="auto", className="ms-md-auto"),
        dbc.Col(html.Div(str(board.range_help), className="small text-body-secondary"), xs=12,
                className="mt-1"),
    ], className="g-2 align-items-end")), className="mb-3 portal-dash-filters")


def layout_for(board: Board) -> Any:
    def layout(user: Any, query: dict[str, str]) -> html.Div:
        view = first_view(board, user)
        result = view.result if view else {}
        later = {p.id for p in board.later}
        panels = [_panel(board, p, data_props(board, p, result[p.id])
                         if p.id in result and p.id not in later
                         else waiting_props(board, p, result.get(p.id)))
                  for p in board.panels]
        return html.Div([
            page_header(str(board.title), str(board.subtitle)),
            filters(board, view),
            html.Div(id=board.id("alert")),
            html.Div(stats_row(result["stats"]) if view else None, id=board.id("stats")),
            dbc.Row(panels),
            dcc.Download(id=board.id("download")),
            dcc.Store(id=board.id("known"), data=view.known if view else {}),
            # the panels below the first screen, drawn together once it is on screen
            # (assets/dashboards.js: portalLive.later)
            dcc.Store(id=board.id("later"), data=later_data(board, view) if view else None),
            dcc.Store(id=board.id("drawn")),
            dcc.Store(id=board.id("poll")),
            dcc.Store(id=board.id("inflight")),
            dcc.Interval(id=board.id("interval"), interval=POLL_MS),
        ], className="portal-dashboard", **{"data-board": board.key})
    return layout


def later_data(board: Board, view: BoardView) -> dict[str, Any]:
    """What the browser draws after the first content: the props of each panel below the
    first screen, in page order, with the fingerprint of the data they show (a refill
    with other data cancels what is left), and the components of the first screen it
    waits for."""
    first = [board.id("range"), board.id("unit")] + [
        board.id(p.id) for p in board.first_row if p.kind in (GRAPH, TABLE)]
    return {"board": board.key, "print": view.known["_print"], "first": first,
            "panels": [[board.id(p.id), data_props(board, p, view.result[p.id])]
                       for p in board.later]}


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
        "dates": _("Pick days from %(first)s to %(last)s.", first=FIRST_DAY.isoformat(),
                   last=LAST_DAY.isoformat()),
        "order": _("The period ends before it starts."),
        "long": _("Please pick a period of at most two years."),
        "unit": _("That unit is not in your area."),
    }.get(code, _("Please check the filters."))


# -- what each board shows ---------------------------------------------------------------------
def _operations(session, scope: Scope, filters: data.Filters, now, locale) -> Result:
    ops = data.operations(session, filters, now, locale, scope)
    waiting = int(ops.waiting["waiting"].sum())
    past = int(ops.waiting["past_limit"].sum())
    return {
        "stats": [(_("Open orders"), ops.sla_counts["open"], "bi-list-task", None),
                  (str(SLA_STATUSES["at_risk"]), ops.sla_counts["at_risk"], "bi-hourglass-split",
                   "warning"),
                  (str(SLA_STATUSES["overdue"]), ops.sla_counts["overdue"],
                   "bi-exclamation-octagon", "danger"),
                  (_("Repairs waiting for a crew / past the commitment"), f"{waiting} / {past}",
                   "bi-truck", "danger" if past else None)],
        "map": charts.orders_map(ops.points, locale, ops.cells, ops.territories, _tiles(),
                                 ops.outages),
        "status": charts.status_bars(ops.status_counts),
        "risk": charts.at_risk_table(ops.at_risk, now),
        "arrivals": charts.arrivals_figure(ops.arrivals),
        "received": charts.received_bars(ops.received),
    }


def _workload(session, scope: Scope, filters: data.Filters, now, locale) -> Result:
    work = data.workload(session, filters, now, locale)
    crews = work.per_crew
    overloaded = int((crews["open_jobs"] > crews["capacity"]).sum()) if len(crews) else 0
    return {
        "stats": [(_("Received"), int(work.per_unit["received"].sum()), "bi-inbox", None),
                  (_("Closed"), int(work.per_unit["closed"].sum()), "bi-check2-circle", None),
                  (_("Open now"), int(work.per_unit["backlog"].sum()), "bi-list-task", None),
                  (_("Overdue now"), int(work.per_unit["overdue"].sum()), "bi-exclamation-octagon",
                   "danger"),
                  (_("Crews over capacity"), f"{overloaded} / {len(crews)}", "bi-people",
                   "danger" if overloaded else None)],
        "units": charts.unit_workload_table(work.per_unit),
        "crews": charts.crew_workload_table(work.per_crew),
        "days": charts.per_day_figure(work.per_day),
        "categories": charts.category_figure(work.by_category),
        "year": charts.year_figure(work.year, work.forecast),
        "forecast": charts.forecast_note(work.forecast),
    }


def _clients(session, scope: Scope, filters: data.Filters, now, locale) -> Result:
    cl = data.clients(session, scope, filters, now, locale)
    overdue = int((cl.visits["state"] == "overdue").sum()) if len(cl.visits) else 0
    upcoming = int((cl.visits["state"] == "upcoming").sum()) if len(cl.visits) else 0
    open_cases = cl.cases[cl.cases["closed_at"].isna()] if len(cl.cases) else cl.cases
    return {
        "stats": [(_("Clients"), cl.clients, "bi-briefcase", None),
                  (_("Open cases"), len(open_cases), "bi-diagram-3", None),
                  (_("Visits planned"), upcoming, "bi-calendar-event", None),
                  (_("Visits overdue"), overdue, "bi-calendar-x", "danger" if overdue else None)],
        "pipeline": charts.pipeline_figure(cl.pipeline),
        "parks": charts.parks_figure(cl.parks),
        "capacity": charts.capacity_table(cl.capacity),
        "visits": charts.visits_table(cl.visits),
        "cases": charts.cases_table(cl.cases),
    }


def _kpis(session, scope: Scope, filters: data.Filters, now, locale) -> Result:
    k = data.kpis(session, filters, now, locale)
    arrival = k.repairs[k.repairs["stage"] == "arrival"]
    done = arrival["timed"].sum()  # shares of the clocks that had a limit, as in the tables
    total = k.compliance[k.compliance["stage"] == "total"]
    apps_done = total["timed"].sum()
    voice = satisfaction(session, filters, data.Names.load(session), locale)
    rated = voice["ratings"].sum()
    average = (voice["avg_stars"] * voice["ratings"]).sum() / rated if rated else None
    return {
        "stats": [(_("Orders received"), k.received, "bi-inbox", None),
                  (_("Arrivals on time"), f"{100 * (done - arrival['late'].sum()) / done:.1f} %"
                   if done else "–", "bi-stopwatch", None),
                  (_("Applications within the total limit"),
                   f"{100 * (apps_done - total['late'].sum()) / apps_done:.1f} %"
                   if apps_done else "–", "bi-plug", None),
                  (_("Working days past the limits"), f"{k.attribution['late_by'].sum():g}",
                   "bi-hourglass-bottom", "danger" if k.attribution["late_by"].sum() else None),
                  (_("Customers' rating"), f"{average:.2f} ★" if average is not None else "–",
                   "bi-star", None)],
        "league": charts.league_table(k.league),
        "compliance": charts.compliance_heatmap(k.compliance),
        "stagedays": charts.stage_days_figure(k.compliance),
        "attribution": charts.attribution_figure(k.attribution),
        "repairs": charts.repairs_figure(k.repairs),
        "electricity": charts.electricity_table(k.electricity),
        "stages": charts.compliance_table(k.compliance),
        "customers": charts.satisfaction_table(voice),
        "notices": charts.notice_table(_notices(session, filters, now, locale)),
        **_grid_works(session, filters, now, locale),
    }


def _notices(session, filters: data.Filters, now, locale) -> list[tuple[str, Any]]:
    """The notice figures per station or supply office, worst rate first."""
    names = data.Names.load(session)
    figures = notice_by_unit(session, filters.unit_ids, local_midnight(filters.start),
                             end_of_day(filters.end), now)
    rows = [(names.unit(unit_id, locale), f) for unit_id, f in figures.items()]
    return sorted(rows, key=lambda r: (r[1].rate if r[1].rate is not None else 2, r[0]))


def _grid_works(session, filters: data.Filters, now, locale) -> Result:
    """The grid-works section: open now, whatever the period."""
    gw = grid_works_board(session, filters.unit_ids, now, locale)
    return {"gw_waiting": gw_charts.waiting_figure(gw), "gw_funds": gw_charts.funds_figure(gw.funds),
            "gw_late": gw_charts.late_table(gw.late)}


def _tiles() -> tuple[str, str]:
    """The deployment's raster tiles under the maps (``PORTAL_TILE_URL``), if any."""
    config = portal().config
    return config.tile_url, config.tile_attribution


BUILDERS: dict[str, Callable[..., Result]] = {
    "ops": _operations, "work": _workload, "clients": _clients, "kpi": _kpis}


def compute(board: Board, user: Any, start: Any, end: Any, unit: Any,
            now: datetime | None = None) -> tuple[Result, str]:
    """The board for ``user`` (the signed-in user: its scope filters every query) and the
    data's fingerprint; :class:`~station_portal.analytics.dashboards.FilterError` for
    filters the server cannot use (an unknown unit, one out of scope, bad dates)."""
    session, scope, now = read_session(), user.scope(), now or utcnow()
    filters = data.make_filters(session, scope, start, end, unit, now, board.default_days,
                                board.ahead_days)
    result = BUILDERS[board.key](session, scope, filters, now, get_locale())
    return result, fingerprint(board, session, scope, filters, now)


def fingerprint(board: Board, session, scope: Scope, filters: data.Filters, now) -> str:
    """The data's fingerprint with the filters it was computed for: a poll that answers after
    the user changed the filters does not pass for the new ones."""
    stamp = data.fingerprint(session, filters, now,
                             scope.client_ids if board.key == "clients" else None)
    return f"{filters.start}:{filters.end}:{filters.unit_id}:{stamp}"


# -- what the browser holds ------------------------------------------------------------------
def digest(value: Any) -> str:
    """A short hash of a panel's data (a figure's traces, a table's rows, a note)."""
    if charts.is_figure(value):
        text = json.dumps({"data": value["data"], "empty": charts.is_empty(value)}, default=str)
    elif isinstance(value, charts.Table):
        text = json.dumps(value.rows, default=str, sort_keys=True)
    else:
        text = json.dumps(value, default=str)
    return hashlib.blake2b(text.encode(), digest_size=8).hexdigest()


def known_entry(panel: Panel, value: Any) -> dict[str, Any]:
    """What the browser's ``known`` store says of a panel: its hash and, for a figure, its
    number of traces and whether it is the empty state (a patch needs the same shape)."""
    if panel.kind == GRAPH:
        return {"h": digest(value), "n": len(value["data"]), "e": charts.is_empty(value)}
    return {"h": digest(value)}


@dataclass(frozen=True)
class BoardView:
    """A board computed with its page: the panels, the filters' defaults and options, and
    the ``known`` store (hashes and fingerprint) the first poll compares with."""

    result: Result
    known: dict[str, Any]
    units: list[dict[str, Any]]
    start: date
    end: date


def first_view(board: Board, user: Any, now: datetime | None = None) -> BoardView | None:
    """The board as the page opens: the user's scope, the default period, all their units.

    None for a role the board does not serve (the router shows no such page either).
    """
    if getattr(user, "role", None) not in board.roles:
        return None
    now = now or utcnow()
    start, end = data.default_range(now, board.default_days, board.ahead_days)
    result, print_ = compute(board, user, start.isoformat(), end.isoformat(), None, now)
    known = {"stats": {"h": digest(result["stats"])}, "_print": print_,
             **{p.id: known_entry(p, result[p.id]) for p in board.filled}}
    zh = get_locale().startswith("zh")
    units = [{"label": name_zh if zh else name_en, "value": uid}
             for uid, name_zh, name_en in data.unit_options(read_session(), user.scope(),
                                                            board.unit_kinds)]
    return BoardView(result, known, units, start, end)
