"""Supporting grid works (业扩配套电网工程): the project list, one project, and the card on an
application's page.

Layouts only hold the skeleton and component ids; ``callbacks/gridworks.py``
fills them. The milestone chart and the tables are pure functions of the
project's data (tested without a browser).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, timedelta
from typing import Any

import dash_bootstrap_components as dbc
from dash import dcc, html

from station_portal.auth.roles import Role
from station_portal.gridworks.labels import MILESTONE_NAMES, PROJECT_STATUSES
from station_portal.gridworks.queries import OrderWorks, ProjectDetail, ProjectRow
from station_portal.gridworks.schedule import MilestoneLike
from station_portal.i18n import _, _l
from station_portal.labels import APPLICATION_STATUSES, label, stage_label
from station_portal.org.matrix import load_matrix
from station_portal.pages import Page
from station_portal.pages.charts.common import FONT, Figure, empty_figure, new_figure, trace, update_layout
from station_portal.pages.grid import data_grid
from station_portal.pages.ui import empty_state, graph_config, page_header, simple_table
from station_portal.timefmt import format_local
from station_portal.validate import FIRST_DAY, LAST_DAY

ROLES = frozenset({Role.ADMIN, Role.COMPANY_MANAGER, Role.STATION_HEAD, Role.GRID_MANAGER,
                   Role.ACCOUNT_MANAGER})
DETAIL_PATH = "/gridworks/project"

# -- list page ids
GRID = "gw-grid"
REFRESH = "gw-refresh"
FEEDBACK = "gw-feedback"
NEW_CARD = "gw-new"
NEW_NAME, NEW_CODE, NEW_UNIT = "gw-new-name", "gw-new-code", "gw-new-unit"
NEW_FUNDS, NEW_DESCRIPTION, NEW_SAVE = "gw-new-funds", "gw-new-description", "gw-new-save"
NEW_PLANNED = {code: f"gw-new-plan-{code}" for code in MILESTONE_NAMES}

# -- project page ids
PROJECT_ID = "gwp-id"
VERSION = "gwp-version"
P_REFRESH = "gwp-refresh"
CONTENT = "gwp-content"
P_FEEDBACK = "gwp-feedback"
MANAGE = "gwp-manage"  # the managers' forms
LINKING = "gwp-linking"  # the link / unlink forms
MS_CODE, MS_DATE, MS_NOTE = "gwp-ms-code", "gwp-ms-date", "gwp-ms-note"
MS_DONE, MS_REPLAN = "gwp-ms-done", "gwp-ms-replan"
FUNDS_AMOUNT, FUNDS_DATE, FUNDS_SAVE = "gwp-funds-amount", "gwp-funds-date", "gwp-funds-save"
LINK_CODE, LINK_SAVE = "gwp-link-code", "gwp-link-save"
UNLINK_ORDER, UNLINK_REASON, UNLINK_SAVE = "gwp-unlink-order", "gwp-unlink-reason", "gwp-unlink-save"
CANCEL_REASON, CANCEL_SAVE = "gwp-cancel-reason", "gwp-cancel-save"
CHART = "gwp-chart"

STATUS_COLOURS = {"planned": "secondary", "in_progress": "primary", "energised": "success",
                  "cancelled": "dark"}


def may(user: Any, action: str) -> bool:
    return load_matrix().may(str(user.role), action)


def _date_input(id_: str) -> dbc.Input:
    return dbc.Input(id=id_, type="date", min=FIRST_DAY.isoformat(), max=LAST_DAY.isoformat())


# -- the list -------------------------------------------------------------------------------

def list_layout(user: Any, query: dict[str, str]) -> html.Div:
    manage = may(user, "manage_grid_works")
    plan_inputs = [dbc.Col([dbc.Label(str(name), html_for=NEW_PLANNED[code], className="small mb-1"),
                            _date_input(NEW_PLANNED[code])], xs=6, md=4, lg=2, className="mb-2")
                   for code, name in MILESTONE_NAMES.items()]
    form = dbc.Card([
        dbc.CardHeader(_("New project")),
        dbc.CardBody([
            dbc.Row([
                dbc.Col([dbc.Label(_("Name"), html_for=NEW_NAME, className="small mb-1"),
                         dbc.Input(id=NEW_NAME, maxLength=120)], md=5, className="mb-2"),
                dbc.Col([dbc.Label(_("Code (optional)"), html_for=NEW_CODE, className="small mb-1"),
                         dbc.Input(id=NEW_CODE, maxLength=24, placeholder="GW…")], md=2,
                        className="mb-2"),
                dbc.Col([dbc.Label(_("Owning unit"), html_for=NEW_UNIT, className="small mb-1"),
                         dbc.Select(id=NEW_UNIT)], md=3, className="mb-2"),
                dbc.Col([dbc.Label(_("Funds expected (10,000 yuan)"), html_for=NEW_FUNDS,
                                   className="small mb-1"),
                         dbc.Input(id=NEW_FUNDS, type="number", min=0, step=0.1)], md=2,
                        className="mb-2"),
            ]),
            html.Div(_("Planned dates"), className="small fw-semibold mb-1"),
            dbc.Row(plan_inputs),
            dbc.Label(_("Description"), html_for=NEW_DESCRIPTION, className="small mb-1"),
            dbc.Textarea(id=NEW_DESCRIPTION, maxLength=500, rows=2, className="mb-2"),
            dbc.Button(_("Create the project"), id=NEW_SAVE, color="primary"),
        ]),
    ], className="mb-3", id=NEW_CARD, style=None if manage else {"display": "none"})
    return html.Div([
        page_header(_("Supporting grid works"),
                    _("Grid projects that connection applications wait on: their milestones, "
                      "funds and the applications they hold. Pick a project to open it.")),
        dcc.Store(id=REFRESH),
        html.Div(id=FEEDBACK),
        form,
        data_grid(GRID, (("code", _("Code")), ("name", _("Name")), ("unit", _("Unit")),
                         ("status", _("Status")), ("next", _("Next milestone")),
                         ("next_on", _("Planned for")), ("late_by", _("Late by (days)")),
                         ("waiting", _("Applications waiting")),
                         ("funds_expected", _("Funds expected (10,000 yuan)")),
                         ("funds_arrived", _("Funds arrived (10,000 yuan)"))),
                  page_size=15, clickable=True),
    ])


def list_rows(rows: Sequence[ProjectRow]) -> list[dict[str, Any]]:
    return [{"id": str(r.id), "code": r.code, "name": r.name, "unit": r.unit,
             "status": label(PROJECT_STATUSES, r.status),
             "next": label(MILESTONE_NAMES, r.next_milestone) if r.next_milestone else "",
             "next_on": r.next_planned_on.isoformat() if r.next_planned_on else "",
             "late_by": r.late_by_days or None, "waiting": r.waiting,
             "funds_expected": r.funds_expected, "funds_arrived": r.funds_arrived} for r in rows]


LIST_PAGE = Page(path="/gridworks", title=_l("Grid works"), roles=ROLES, layout=list_layout,
                 icon="bi-lightning-charge")


# -- one project ----------------------------------------------------------------------------

def detail_layout(user: Any, query: dict[str, str]) -> html.Div:
    manage, link = may(user, "manage_grid_works"), may(user, "link_grid_works")
    hidden = {"display": "none"}
    managers = html.Div([
        html.H2(_("Milestones"), className="h6"),
        dbc.Select(id=MS_CODE, className="mb-2"),
        dbc.Row([dbc.Col(_date_input(MS_DATE), xs=12, className="mb-2")]),
        dbc.Input(id=MS_NOTE, maxLength=300, placeholder=_("Note (optional)"), className="mb-2"),
        html.Div([
            dbc.Button(_("Mark done on this date"), id=MS_DONE, color="primary", size="sm"),
            dbc.Button(_("Replan to this date"), id=MS_REPLAN, color="outline-secondary",
                       size="sm"),
        ], className="d-flex flex-wrap gap-2 mb-1"),
        html.P(_("Marking the last milestone done energises the project: the applications "
                 "waiting on it resume."), className="small text-body-secondary"),
        html.H2(_("Funds arrived"), className="h6 mt-3"),
        dbc.InputGroup([dbc.Input(id=FUNDS_AMOUNT, type="number", min=0, step=0.1,
                                  placeholder=_("Amount")),
                        dbc.InputGroupText(_("10,000 yuan"))], size="sm", className="mb-2"),
        _date_input(FUNDS_DATE),
        dbc.Button(_("Record funds"), id=FUNDS_SAVE, color="outline-primary", size="sm",
                   className="mt-2"),
        html.H2(_("Cancel the project"), className="h6 mt-3"),
        dbc.Input(id=CANCEL_REASON, maxLength=300, placeholder=_("Why"), size="sm",
                  className="mb-2"),
        dbc.Button(_("Cancel the project"), id=CANCEL_SAVE, color="outline-danger", size="sm"),
    ], id=MANAGE, style=None if manage else hidden)
    linking = html.Div([
        html.H2(_("Applications"), className="h6 mt-3"),
        dbc.InputGroup([dbc.Input(id=LINK_CODE, maxLength=24, placeholder="A2026…"),
                        dbc.Button(_("Link"), id=LINK_SAVE, color="primary")], size="sm",
                       className="mb-2"),
        dbc.Select(id=UNLINK_ORDER, className="mb-2", size="sm"),
        dbc.Input(id=UNLINK_REASON, maxLength=300, placeholder=_("Why (optional)"), size="sm",
                  className="mb-2"),
        dbc.Button(_("Unlink"), id=UNLINK_SAVE, color="outline-secondary", size="sm"),
    ], id=LINKING, style=None if link else hidden)
    actions = dbc.Card([dbc.CardHeader(_("Actions")), dbc.CardBody([
        html.Div(id=P_FEEDBACK), managers, linking,
        None if manage or link else html.P(_("You may look at this project; managers change it."),
                                           className="small text-body-secondary"),
    ])], className="mb-3")
    return html.Div([
        dcc.Store(id=PROJECT_ID, data=query.get("id")),
        dcc.Store(id=VERSION),
        dcc.Store(id=P_REFRESH, data=0),
        html.A([html.I(className="bi bi-arrow-left me-1"), _("All projects")], href="/gridworks",
               className="small d-inline-block mb-2"),
        dbc.Row([
            dbc.Col(dcc.Loading(html.Div(id=CONTENT)), lg=8),
            dbc.Col(actions, lg=4),
        ]),
    ])


DETAIL_PAGE = Page(path=DETAIL_PATH, title=_l("Grid works project"), roles=ROLES,
                   layout=detail_layout, in_nav=False)
PAGES = (LIST_PAGE, DETAIL_PAGE)


def milestone_figure(milestones: Sequence[MilestoneLike], today: date) -> Figure:
    """Planned against actual, one row per milestone: a small Gantt chart.

    A milestone's bar runs from the previous milestone's date to its own
    (planned: light, or red when it passed undone; actual: green); a diamond
    marks the baseline plan when it was replanned, a line marks today.
    """
    if not milestones:
        return empty_figure(_("This project has no milestones."), height=260)
    names = [label(MILESTONE_NAMES, m.code) for m in milestones]
    day_ms = 86_400_000
    plan_base, plan_len, plan_colour, act_base, act_len, act_names = [], [], [], [], [], []
    hover = []
    first = milestones[0].planned_on - timedelta(days=14)
    prev_plan, prev_act = first, first
    for m, name in zip(milestones, names, strict=True):
        start = min(prev_plan, m.planned_on)
        plan_base.append(start.isoformat())
        plan_len.append(max(1, (m.planned_on - start).days) * day_ms)
        late = m.actual_on is None and m.planned_on < today
        plan_colour.append("#d62728" if late else "#9ecae1")
        hover.append(_("Planned %(planned)s, done %(done)s", planned=m.planned_on.isoformat(),
                       done=m.actual_on.isoformat() if m.actual_on else "–"))
        prev_plan = m.planned_on
        if m.actual_on is not None:
            start = min(prev_act, m.actual_on)
            act_base.append(start.isoformat())
            act_len.append(max(1, (m.actual_on - start).days) * day_ms)
            act_names.append(name)
            prev_act = m.actual_on
    fig = new_figure([
        trace("bar", y=names, x=plan_len, base=plan_base, orientation="h", name=_("Planned"),
              marker_color=plan_colour, customdata=hover,
              hovertemplate="%{y}: %{customdata}<extra></extra>", offsetgroup="plan"),
        trace("bar", y=act_names, x=act_len, base=act_base, orientation="h", name=_("Actual"),
              marker_color="#2ca02c", hovertemplate="%{y}<extra></extra>", offsetgroup="actual"),
    ])
    replanned = [(m, n) for m, n in zip(milestones, names, strict=True)
                 if getattr(m, "baseline_on", m.planned_on) != m.planned_on]
    if replanned:
        fig["data"].append(trace("scatter", y=[n for _m, n in replanned],
                                 x=[m.baseline_on.isoformat() for m, _n in replanned],
                                 mode="markers", name=_("First plan"),
                                 marker={"symbol": "diamond", "size": 10, "color": "#6c757d"}))
    update_layout(fig, barmode="group", height=300, font={"family": FONT, "size": 12},
                  margin={"l": 110, "r": 16, "t": 24, "b": 40}, paper_bgcolor="rgba(0,0,0,0)",
                  plot_bgcolor="#ffffff", legend={"orientation": "h", "y": -0.2},
                  xaxis={"type": "date"}, yaxis={"autorange": "reversed", "automargin": True},
                  shapes=[{"type": "line", "xref": "x", "yref": "paper", "x0": today.isoformat(),
                           "x1": today.isoformat(), "y0": 0, "y1": 1,
                           "line": {"color": "#ff9800", "dash": "dot", "width": 2}}],
                  annotations=[{"x": today.isoformat(), "y": 1.02, "xref": "x", "yref": "paper",
                                "text": _("Today"), "showarrow": False,
                                "font": {"size": 11, "color": "#ff9800"}}])
    return fig


def status_badge(status: str) -> dbc.Badge:
    return dbc.Badge(label(PROJECT_STATUSES, status), color=STATUS_COLOURS.get(status, "secondary"),
                     className="ms-2 align-middle")


def milestone_table(detail: ProjectDetail, today: date) -> dbc.Table:
    rows = []
    is_open = detail.project.status in ("planned", "in_progress")
    for m in detail.milestones:
        late = is_open and m.actual_on is None and m.planned_on < today
        rows.append((label(MILESTONE_NAMES, m.code), m.baseline_on.isoformat(),
                     html.Span(m.planned_on.isoformat(), className="text-danger fw-semibold"
                               if late else None),
                     m.actual_on.isoformat() if m.actual_on else "–", m.replans or ""))
    return simple_table([_("Milestone"), _("First plan"), _("Planned"), _("Done"), _("Replans")],
                        rows, id="gwp-milestones")


def applications_table(detail: ProjectDetail) -> Any:
    if not detail.applications:
        return empty_state(_("No application waits on this project."),
                           _("Link one by its code."), icon="bi-link-45deg")
    rows = []
    for a in detail.applications:
        if a.waiting:
            state = dbc.Badge(_("Waiting"), color="warning", text_color="dark")
        elif a.unlinked_at is not None:
            state = dbc.Badge(_("Unlinked %(when)s", when=format_local(a.unlinked_at)[:10]),
                              color="light", text_color="dark")
        else:
            state = dbc.Badge(_("No longer waiting"), color="success")
        stage = stage_label(a.stage) if a.stage else label(APPLICATION_STATUSES, a.status)
        rows.append((html.A(a.code, href=f"/order?id={a.order_id}") if a.visible else a.code,
                     a.customer if a.visible else _("outside your area"), stage,
                     format_local(a.linked_at)[:10], f"{a.waited_workdays:.1f}", state))
    return simple_table([_("Application"), _("Customer"), _("Stage"), _("Linked"),
                         _("Waited (working days)"), _("State")], rows, id="gwp-applications")


def funds_block(detail: ProjectDetail) -> Any:
    p = detail.project
    share = p.funds_arrived / p.funds_expected if p.funds_expected else None
    rows = [(r.arrived_on.isoformat(), f"{r.amount:.1f}", r.note) for r in detail.receipts]
    arrived, expected = f"{p.funds_arrived:.1f}", f"{p.funds_expected:.1f}"
    return html.Div([
        html.Div(_("%(arrived)s of %(expected)s (10,000 yuan) arrived",
                   arrived=arrived, expected=expected),
                 className="mb-1"),
        dbc.Progress(value=min(100, round(100 * share)) if share is not None else 0,
                     label=f"{100 * share:.0f} %" if share is not None else "",
                     className="mb-2", style={"height": "1.1rem"}),
        simple_table([_("Arrived on"), _("Amount"), _("Note")], rows, id="gwp-funds")
        if rows else html.Div(_("No funds recorded yet."), className="small text-body-secondary"),
    ])


def detail_component(detail: ProjectDetail, today: date) -> Any:
    p, prog = detail.project, detail.progress
    facts = [
        (_("Unit"), detail.unit),
        (_("Next milestone"), _("%(name)s, planned for %(date)s",
                                name=label(MILESTONE_NAMES, prog.next_code),
                                date=prog.next_planned_on.isoformat())
         if prog.next_code and p.status in ("planned", "in_progress") else "–"),
        (_("Expected energised"), prog.expected_energise_on.isoformat()
         if prog.expected_energise_on else "–"),
        (_("Applications waiting"), str(sum(a.waiting for a in detail.applications))),
    ]
    late = None
    if prog.late and p.status in ("planned", "in_progress"):
        waiting = [a.code for a in detail.applications if a.waiting]
        late = dbc.Alert([html.I(className="bi bi-exclamation-triangle me-2"), _(
            "Late by %(days)s days: %(name)s was planned for %(date)s.", days=prog.late_by_days,
            name=label(MILESTONE_NAMES, prog.next_code), date=prog.next_planned_on.isoformat()),
            html.Div(_("It delays %(n)s applications: %(codes)s", n=len(waiting),
                       codes=", ".join(waiting)) if waiting else None)],
            color="danger", className="py-2", id="gwp-late")
    return html.Div([
        page_header(p.code, None),
        html.H2([p.name, status_badge(p.status)], className="h5 mb-3"),
        late,
        dbc.Card(dbc.CardBody(html.Dl([x for k, v in facts for x in (
            html.Dt(k, className="col-sm-4"), html.Dd(v, className="col-sm-8"))],
            className="row mb-0")), className="mb-3"),
        html.P(p.description, className="text-body-secondary") if p.description else None,
        dbc.Card([dbc.CardHeader(_("Milestones: planned and actual")), dbc.CardBody([
            dcc.Graph(id=CHART, figure=milestone_figure(detail.milestones, today),
                      config=graph_config()),
            milestone_table(detail, today)])], className="mb-3"),
        dbc.Card([dbc.CardHeader(_("Funds")), dbc.CardBody(funds_block(detail))],
                 className="mb-3"),
        dbc.Card([dbc.CardHeader(_("Applications waiting on it")),
                  dbc.CardBody(applications_table(detail))], className="mb-3"),
    ])


# -- the card on an application's page ----------------------------------------------------------

def order_works_card(works: Sequence[OrderWorks]) -> Any:
    """The projects an application waits on, small: status and expected energise date."""
    if not works:
        return None
    items = []
    for w in works:
        items.append(dbc.ListGroupItem([
            html.Div([html.A(w.code, href=f"{DETAIL_PATH}?id={w.project_id}",
                             className="fw-semibold me-2"), w.name, status_badge(w.status)]),
            html.Div([
                _("Expected energised: %(date)s", date=w.expected_energise_on.isoformat())
                if w.expected_energise_on else None,
                html.Span(" · " + _("next: %(name)s (%(date)s)",
                                    name=label(MILESTONE_NAMES, w.milestone),
                                    date=w.milestone_planned_on.isoformat())
                          if w.milestone and w.milestone_planned_on
                          and w.status in ("planned", "in_progress") else None),
                dbc.Badge(_("Late by %(days)s days", days=w.late_by_days), color="danger",
                          className="ms-2") if w.late and w.status in ("planned", "in_progress")
                else None,
            ], className="small text-body-secondary"),
        ]))
    return dbc.Card([dbc.CardHeader([html.I(className="bi bi-lightning-charge me-1"),
                                     _("Supporting grid works")]),
                     dbc.ListGroup(items, flush=True)], className="mb-3", id="order-gridworks")
