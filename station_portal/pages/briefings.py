"""The weekly briefings (周报): a week and a unit (or the company), its figures, two files.

The layout is a skeleton (pickers, empty panels, two download buttons);
``callbacks/briefings.py`` fills the pickers from the caller's scope and
renders the stored briefing with the pure builders here. The tables are the
sections of ``analytics.briefing_files`` — the same the PDF and the
spreadsheet hold.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import dash_bootstrap_components as dbc
from dash import dcc, html

from station_portal.analytics.briefing import Choice
from station_portal.analytics.briefing_files import Section, cell_text, headline, sections
from station_portal.auth.roles import Role
from station_portal.i18n import _, _l, get_locale
from station_portal.pages import Page, charts
from station_portal.pages.dashboards import stats_row
from station_portal.pages.ui import dropdown, empty_state, graph_config, page_header, simple_table

ROLES = frozenset({Role.ADMIN, Role.COMPANY_MANAGER, Role.STATION_HEAD, Role.GRID_MANAGER})
LOAD = "brief-load"
WEEK = "brief-week"
UNIT = "brief-unit"
ALERT = "brief-alert"
BODY = "brief-body"
TREND = "brief-trend"
PDF = "brief-pdf"
XLSX = "brief-xlsx"
DOWNLOAD_PDF = "brief-download-pdf"
DOWNLOAD_XLSX = "brief-download-xlsx"
ON_PAGE = ("orders", "clocks", "late", "league", "trend")  # the cards replace "summary"


def layout(user: Any, query: dict[str, str]) -> html.Div:
    buttons = html.Div([
        dbc.Button([html.I(className="bi bi-file-earmark-pdf me-1"), _("PDF")], id=PDF,
                   color="outline-danger", size="sm"),
        dbc.Button([html.I(className="bi bi-file-earmark-excel me-1"), _("Excel")], id=XLSX,
                   color="outline-success", size="sm"),
    ], className="d-flex gap-2")
    pickers = dbc.Card(dbc.CardBody(dbc.Row([
        dbc.Col([dbc.Label(_("Week"), html_for=WEEK, className="small mb-1"),
                 dropdown(WEEK, options=[], clearable=False,
                          placeholder=_("No briefing yet"))], xs=12, md=3),
        dbc.Col([dbc.Label(_("Unit"), html_for=UNIT, className="small mb-1"),
                 dropdown(UNIT, options=[], clearable=False)], xs=12, md=5),
        dbc.Col(buttons, xs=12, md="auto", className="ms-md-auto"),
    ], className="g-2 align-items-end")), className="mb-3")
    return html.Div([
        page_header(_("Weekly briefings"),
                    _("The week's figures, the late cases with their holders and the trend, "
                      "per station and supply office and for the company; as PDF and Excel "
                      "for the weekly meeting.")),
        pickers,
        html.Div(id=ALERT),
        dcc.Loading(html.Div(id=BODY), delay_show=300),
        dbc.Card([dbc.CardHeader(_("Trend: this week and the four before")),
                  dbc.CardBody(dcc.Graph(id=TREND, config=graph_config(),
                                         figure=charts.empty_figure(_("Pick a week."))))],
                 className="mb-3"),
        dcc.Download(id=DOWNLOAD_PDF),
        dcc.Download(id=DOWNLOAD_XLSX),
        # a link (the "briefing ready" notice) may name the week and unit to open; the
        # options callback uses them only if they are among the caller's choices
        dcc.Store(id=LOAD, data={"locale": get_locale(), "week": str(query.get("week", ""))[:10],
                                 "unit": str(query.get("unit", ""))[:12]}),
    ], className="portal-briefings")


PAGE = Page(path="/briefings", title=_l("Weekly briefings"), roles=ROLES, layout=layout,
            icon="bi-file-earmark-bar-graph")


# -- pure builders ---------------------------------------------------------------------------
def week_options(weeks: list[date]) -> list[dict[str, str]]:
    """The weeks that have briefings, newest first: "2026-11-16 – 11-22"."""
    return [{"label": f"{w.isoformat()} – {(w + timedelta(days=6)).strftime('%m-%d')}",
             "value": w.isoformat()} for w in weeks]


def unit_options(choices: list[Choice], locale: str) -> list[dict[str, str]]:
    return [{"label": c.name(locale), "value": c.value} for c in choices]


def preselect(options: list[dict[str, str]], wanted: Any) -> str | None:
    """The option the link asked for if it is one of them, else the first (or None)."""
    values = [o["value"] for o in options]
    if isinstance(wanted, str) and wanted in values:
        return wanted
    return values[0] if values else None


def section_card(section: Section) -> dbc.Card:
    body: Any
    if section.rows:
        body = simple_table(section.headers, [[cell_text(v) for v in row] for row in section.rows])
    else:
        body = empty_state(section.empty)
    return dbc.Card([
        dbc.CardHeader(section.title, className="fw-semibold"),
        dbc.CardBody([html.P(section.note, className="small text-body-secondary")
                      if section.note else None, body]),
    ], className="mb-3")


def briefing_body(figures: dict[str, Any], locale: str) -> html.Div:
    """The cards and tables of a briefing (the trend chart is drawn beside it)."""
    from station_portal.analytics.briefing_files import subtitle, title

    parts = {s.key: s for s in sections(figures, locale)}
    return html.Div([
        html.H2(title(figures, locale), className="h5 mb-1"),
        html.P(subtitle(figures, locale), className="small text-body-secondary"),
        stats_row(headline(figures, locale)),
        *[section_card(parts[key]) for key in ON_PAGE if key in parts],
    ])


def trend_figure(figures: dict[str, Any]) -> charts.Figure:
    """Orders received and closed per week (bars) and the shares on time (lines, %)."""
    trend = figures.get("trend") or []
    if not trend:
        return charts.empty_figure(_("No trend for this briefing."))
    weeks = [w["week_start"] for w in trend]

    def pct(value: Any) -> float | None:
        return None if value is None else round(100 * value, 1)

    fig = charts.new_figure([
        charts.trace("bar", x=weeks, y=[w["received"] for w in trend], name=_("Received"),
                     marker_color="#1f77b4"),
        charts.trace("bar", x=weeks, y=[w["closed"] for w in trend], name=_("Closed"),
                     marker_color="#9ecae1"),
        charts.trace("scatter", x=weeks, y=[pct(w["arrival_on_time"]) for w in trend],
                     name=_("Arrival on time (%)"), mode="lines+markers", yaxis="y2",
                     line={"color": "#2ca02c", "width": 2}),
        charts.trace("scatter", x=weeks, y=[pct(w["stages_on_time"]) for w in trend],
                     name=_("Application stages on time (%)"), mode="lines+markers",
                     yaxis="y2", line={"color": "#9467bd", "width": 2}),
    ])
    charts.update_layout(
        fig, margin={"l": 48, "r": 48, "t": 24, "b": 40},
        font={"family": charts.FONT, "size": 12}, paper_bgcolor="rgba(0,0,0,0)",
        plot_bgcolor="#ffffff", legend={"orientation": "h", "y": -0.2}, height=320,
        barmode="group", xaxis={"type": "category", "title": {"text": _("Week")}},
        yaxis={"title": {"text": _("Orders")}, "rangemode": "tozero"},
        yaxis2={"title": {"text": "%"}, "overlaying": "y", "side": "right", "range": [0, 105],
                "showgrid": False})
    return fig


def message(code: str) -> str:
    return {
        "week": _("Please pick one of the weeks in the list."),
        "unit": _("That unit is not in your area."),
        "missing": _("There is no briefing for that week and unit yet."),
    }.get(code, _("Please check the week and the unit."))
