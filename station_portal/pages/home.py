"""Home page, made for each role: what this person is responsible for, at a glance."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import dash_bootstrap_components as dbc
from dash import dcc, html

from station_portal.auth.queries import SecurityStats
from station_portal.auth.roles import ALL_STAFF, Role
from station_portal.i18n import _, _l
from station_portal.labels import AREA_TYPES, AUDIT_ACTIONS, CLIENT_KINDS, INDUSTRIES, label
from station_portal.org.queries import ClientRow, CrewRow, UnitCounts, UnitSummary
from station_portal.pages import Page
from station_portal.pages.ui import empty_state, page_header, simple_table, stat

CONTENT = "home-content"
LOAD = "home-load"

SUBTITLES = {
    Role.ADMIN: _l("Accounts, access and the security log."),
    Role.COMPANY_MANAGER: _l("The organisation you steer."),
    Role.STATION_HEAD: _l("Your station, its groups and crews."),
    Role.GRID_MANAGER: _l("Your supply office and its grids."),
    Role.ACCOUNT_MANAGER: _l("The clients you look after."),
    Role.CREW: _l("Your crew and who to call."),
    Role.CLERK: _l("Your service hall and its queue."),
}


def layout(user: Any, query: dict[str, str]) -> html.Div:
    from station_portal.pages.dashboards import board_for

    board = board_for(user.role)
    action = dbc.Button([html.I(className=f"bi {board.icon} me-1"), str(board.title)],
                        href=board.path, color="primary", id="home-dashboard") if board else None
    return html.Div([
        page_header(_("Welcome, %(name)s", name=user.display_name), str(SUBTITLES[user.role]),
                    action),
        dcc.Store(id=LOAD, data=user.role.value),
        dcc.Loading(html.Div(id=CONTENT)),
    ])


PAGE = Page(path="/", title=_l("Home"), roles=ALL_STAFF, layout=layout, icon="bi-house-door")


def _link_button(text: str, href: str, icon: str) -> dbc.Button:
    return dbc.Button([html.I(className=f"bi {icon} me-1"), text], href=href,
                      color="outline-primary", size="sm", className="me-2 mb-2")


def admin_home(stats: SecurityStats, events: Sequence[tuple[str, str, str | None, str | None]]) -> Any:
    cards = dbc.Row([
        dbc.Col(stat(_("Active accounts"), stats.active_users, "bi-people"), xs=6, md=3),
        dbc.Col(stat(_("Disabled accounts"), stats.disabled_users, "bi-person-slash"), xs=6, md=3),
        dbc.Col(stat(_("Sign-ins, last 24 h"), stats.sign_ins_24h, "bi-box-arrow-in-right"),
                xs=6, md=3),
        dbc.Col(stat(_("Failed sign-ins, last 24 h"), stats.failures_24h, "bi-exclamation-triangle"),
                xs=6, md=3),
    ], className="g-3 mb-3")
    rows = [(when, label(AUDIT_ACTIONS, action), subject or "", ip or "")
            for when, action, subject, ip in events]
    table = simple_table([_("Time"), _("Event"), _("Account"), _("Address")], rows) if rows \
        else empty_state(_("No security events yet."))
    return html.Div([
        cards,
        html.Div([_link_button(_("Manage users"), "/admin/users", "bi-people"),
                  _link_button(_("Security log"), "/admin/audit", "bi-journal-text"),
                  _link_button(_("Organisation"), "/org", "bi-diagram-3")]),
        dbc.Card([dbc.CardHeader(_("Latest security events")), dbc.CardBody(table)]),
    ])


def manager_home(counts: Sequence[UnitCounts], locale: str) -> Any:
    if not counts:
        return empty_state(_("No county companies in your area."))
    total = {k: sum(getattr(c, k) for c in counts)
             for k in ("stations", "offices", "grids", "staff", "crews")}
    cards = dbc.Row([
        dbc.Col(stat(_("Service stations"), total["stations"], "bi-house-gear"), xs=6, md=True),
        dbc.Col(stat(_("Supply offices"), total["offices"], "bi-house"), xs=6, md=True),
        dbc.Col(stat(_("Grids"), total["grids"], "bi-grid-3x3-gap"), xs=6, md=True),
        dbc.Col(stat(_("Staff"), total["staff"], "bi-people"), xs=6, md=True),
        dbc.Col(stat(_("Crews"), total["crews"], "bi-truck"), xs=6, md=True),
    ], className="g-3 mb-3")
    rows = [(dcc.Link(c.name(locale), href=f"/org?unit={c.unit_id}"), c.stations, c.offices,
             c.grids, c.staff, c.crews) for c in counts]
    table = simple_table([_("County company"), _("Stations"), _("Supply offices"), _("Grids"),
                          _("Staff"), _("Crews")], rows, id="home-counties")
    return html.Div([cards, dbc.Card([dbc.CardHeader(_("County companies")),
                                      dbc.CardBody(table)])])


def _unit_card(summary: UnitSummary, locale: str, extra: Any = None) -> dbc.Card:
    facts = [
        html.Div([html.I(className="bi bi-telephone me-2"),
                  html.A(summary.phone, href=f"tel:{summary.phone}")]) if summary.phone else None,
        html.Div([html.I(className="bi bi-geo-alt me-2"), summary.address])
        if summary.address else None,
        html.Div([html.I(className="bi bi-people me-2"),
                  _("Staff: %(staff)s · crews: %(crews)s", staff=summary.staff_count,
                    crews=summary.crew_count)]),
    ]
    return dbc.Card(dbc.CardBody([
        html.H2(dcc.Link(summary.name(locale), href=f"/org?unit={summary.id}"), className="h5"),
        html.Div(label(AREA_TYPES, summary.area_type), className="small text-body-secondary mb-2")
        if summary.area_type else None,
        *facts,
        extra,
    ]), className="h-100")


def unit_home(summary: UnitSummary, parts: Sequence[tuple[UnitSummary, str]],
              crews: Sequence[CrewRow], locale: str, parts_title: str) -> Any:
    """Station head and grid manager: the unit, its groups or grids, and its crews."""
    zh = locale.startswith("zh")
    part_cards = [
        dbc.Col(_unit_card(part, locale, html.Div(
            [html.I(className="bi bi-person-badge me-2"), lead], className="mt-1") if lead else None),
            md=6, xl=4, className="mb-3")
        for part, lead in parts
    ]
    crew_rows = [
        (c.code, c.unit_zh if zh else c.unit_en,
         ("、" if zh else ", ").join((m[0] if zh else m[1]) + (" ★" if m[2] else "")
                                    for m in c.members),
         html.A(c.members[0][3], href=f"tel:{c.members[0][3]}") if c.members else "")
        for c in crews
    ]
    return html.Div([
        dbc.Row([dbc.Col(_unit_card(summary, locale), md=12, className="mb-3")]),
        html.H2(parts_title, className="h5"),
        dbc.Row(part_cards) if part_cards else empty_state(_("Nothing below this unit yet.")),
        dbc.Card([
            dbc.CardHeader(_("Crews")),
            dbc.CardBody(simple_table([_("Crew"), _("Unit"), _("Members (★ leader)"),
                                       _("Leader's phone")], crew_rows, id="home-crews")
                         if crew_rows else empty_state(_("No crews yet."))),
        ]),
    ])


def account_home(clients: Sequence[ClientRow], locale: str) -> Any:
    if not clients:
        return empty_state(_("No clients are assigned to you yet."),
                           _("An administrator assigns clients to account managers."))
    zh = locale.startswith("zh")
    parks = len({c.park_zh for c in clients if c.park_zh})
    vips = sum(1 for c in clients if c.kind == "vip")
    cards = dbc.Row([
        dbc.Col(stat(_("Clients"), len(clients), "bi-briefcase"), xs=4),
        dbc.Col(stat(_("Important customers"), vips, "bi-star"), xs=4),
        dbc.Col(stat(_("Industrial parks"), parks, "bi-buildings"), xs=4),
    ], className="g-3 mb-3")
    rows = [
        (c.name_zh if zh else c.name_en, label(CLIENT_KINDS, c.kind), label(INDUSTRIES, c.industry),
         (c.park_zh if zh else c.park_en) or "–", c.unit_zh if zh else c.unit_en, c.contact_name,
         html.A(c.contact_phone, href=f"tel:{c.contact_phone}"))
        for c in clients
    ]
    return html.Div([cards, dbc.Card([
        dbc.CardHeader(_("My clients")),
        dbc.CardBody(simple_table([_("Client"), _("Kind"), _("Industry"), _("Park"),
                                   _("Served by"), _("Contact"), _("Phone")], rows,
                                  id="home-clients")),
    ])])


def crew_home(crew: CrewRow | None, unit: UnitSummary | None, locale: str) -> Any:
    if crew is None:
        return empty_state(_("You are not in a crew yet."),
                           _("Your group leader assigns you to a crew."))
    zh = locale.startswith("zh")
    members = [
        dbc.ListGroupItem([
            html.I(className="bi bi-star-fill text-warning me-2") if leader
            else html.I(className="bi bi-person me-2"),
            name_zh if zh else name_latin,
            html.A(phone, href=f"tel:{phone}", className="ms-auto"),
        ], className="d-flex align-items-center")
        for name_zh, name_latin, leader, phone in crew.members
    ]
    return dbc.Row([
        dbc.Col(dbc.Card([
            dbc.CardHeader([_("Crew %(code)s", code=crew.code),
                            html.Span(crew.vehicle or "", className="ms-2 text-body-secondary")]),
            dbc.ListGroup(members, flush=True, id="home-crew-members"),
        ], className="mb-3"), md=6),
        dbc.Col(_unit_card(unit, locale) if unit else None, md=6, className="mb-3"),
    ])
