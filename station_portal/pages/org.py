"""Organisation page: the unit tree, a unit's people and crews, territories, the matrix.

``/org?unit=<id>`` selects a unit. Builders here are pure functions of query
results; ``callbacks/org.py`` runs the scoped queries.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any
from urllib.parse import parse_qs

import dash_bootstrap_components as dbc
from dash import dcc, html

from station_portal.auth.roles import ALL_STAFF, Role
from station_portal.i18n import _, _l, get_locale
from station_portal.labels import AREA_TYPES, POSITIONS, ROLES, SKILLS, UNIT_KINDS, label
from station_portal.org.matrix import LEAD, SUPPORT, ResponsibilityMatrix, load_matrix
from station_portal.org.models import UnitKind
from station_portal.org.queries import CrewRow, StaffRow, TreeNode, UnitSummary
from station_portal.pages import Page
from station_portal.pages.grid import data_grid
from station_portal.pages.maps import GRAPH_CONFIG
from station_portal.pages.ui import empty_state, graph_config, page_header
from station_portal.validate import as_id

TREE = "org-tree"
DETAILS = "org-details"
MAP = "org-map"
MATRIX = "org-matrix"
STAFF_TABLE = "org-staff-table"
CREW_TABLE = "org-crew-table"

KIND_ICONS = {
    UnitKind.CITY_COMPANY: "bi-buildings",
    UnitKind.COUNTY_COMPANY: "bi-building",
    UnitKind.SERVICE_STATION: "bi-house-gear",
    UnitKind.OFFICE_GROUP: "bi-person-workspace",
    UnitKind.LV_REPAIR_GROUP: "bi-tools",
    UnitKind.FIELD_GROUP: "bi-signpost-split",
    UnitKind.SUPPLY_OFFICE: "bi-house",
    UnitKind.GRID: "bi-grid-3x3-gap",
    UnitKind.METERING_TEAM: "bi-speedometer2",
}


def layout(user: Any, query: dict[str, str]) -> html.Div:
    return html.Div([
        page_header(_("Organisation"),
                    _("Units, people and crews, territories, and who handles what.")),
        dbc.Row([
            dbc.Col(dbc.Card([
                dbc.CardHeader([html.I(className="bi bi-diagram-3 me-2"), _("Units")]),
                dbc.CardBody(dcc.Loading(html.Div(id=TREE, className="portal-tree"))),
            ], className="mb-3"), lg=4),
            dbc.Col(dcc.Loading(html.Div(id=DETAILS)), lg=8),
        ]),
        dbc.Row([
            dbc.Col(dbc.Card([
                dbc.CardHeader([html.I(className="bi bi-map me-2"), _("Territories")]),
                dbc.CardBody(dcc.Graph(id=MAP, config=graph_config(**GRAPH_CONFIG), className="portal-map"),
                             className="p-0"),
            ], className="mb-3"), lg=12),
        ]),
        dbc.Card([
            dbc.CardHeader([html.I(className="bi bi-table me-2"),
                            _("Responsibility matrix (权力清单)")]),
            dbc.CardBody(matrix_component(load_matrix(), get_locale()), id=MATRIX),
        ], className="mb-3"),
    ])


PAGE = Page(path="/org", title=_l("Organisation"), roles=ALL_STAFF, layout=layout,
            icon="bi-diagram-3")


def selected_unit(search: str | None) -> int | None:
    """The ``unit`` query parameter as an id, or None (never trusted: callers check scope)."""
    values = parse_qs(search.lstrip("?") if isinstance(search, str) else "").get("unit", [])
    return as_id(values[0]) if values else None


def tree_component(roots: Sequence[TreeNode], selected: int | None, locale: str) -> Any:
    if not roots:
        return empty_state(_("No units are assigned to you."),
                           _("Ask an administrator to set your area of responsibility."))

    def path_to(nodes: Sequence[TreeNode], target: int | None) -> set[int]:
        for node in nodes:
            if node.id == target:
                return {node.id}
            below = path_to(node.children, target)
            if below:
                return below | {node.id}
        return set()

    open_ids = path_to(roots, selected)

    def item(node: TreeNode) -> html.Li:
        icon = html.I(className=f"bi {KIND_ICONS.get(node.kind, 'bi-circle')} me-1")
        if node.in_scope:
            text = dcc.Link([icon, node.name(locale)], href=f"/org?unit={node.id}",
                            className="portal-tree-link" + (" active" if node.id == selected else ""),
                            id={"type": "org-unit-link", "unit": node.id})
        else:
            text = html.Span([icon, node.name(locale)], className="text-body-secondary")
        if not node.children:
            return html.Li(text)
        expanded = node.depth < 1 or node.id in open_ids
        return html.Li(html.Details([html.Summary(text), html.Ul([item(c) for c in node.children])],
                                    open=expanded))

    return html.Ul([item(n) for n in roots], className="list-unstyled mb-0")


def _unit_link(unit_id: int, name: str) -> dcc.Link:
    return dcc.Link(name, href=f"/org?unit={unit_id}")


def details_component(summary: UnitSummary, staff: Sequence[StaffRow], crews: Sequence[CrewRow],
                      locale: str) -> Any:
    info = [
        dbc.Badge(label(UNIT_KINDS, summary.kind), color="primary", className="me-2"),
        dbc.Badge(label(AREA_TYPES, summary.area_type), color="secondary", className="me-2")
        if summary.area_type else None,
        html.Span(summary.code, className="text-body-secondary small"),
    ]
    facts = []
    if summary.parent:
        pid, pzh, pen, visible = summary.parent
        pname = pzh if locale.startswith("zh") else pen
        facts.append((_("Part of"), _unit_link(pid, pname) if visible else pname))
    if summary.phone:
        facts.append((_("24-hour phone"), html.A(summary.phone, href=f"tel:{summary.phone}")))
    if summary.address:
        facts.append((_("Address"), summary.address))
    facts.append((_("Staff"), str(summary.staff_count)))
    facts.append((_("Crews"), str(summary.crew_count)))
    children = [
        dbc.ListGroupItem([html.I(className=f"bi {KIND_ICONS.get(kind, 'bi-circle')} me-2"),
                           _unit_link(cid, zh if locale.startswith("zh") else en),
                           html.Span(label(UNIT_KINDS, kind), className="text-body-secondary small ms-2")])
        for cid, kind, zh, en in summary.children
    ]
    header = dbc.Card(dbc.CardBody([
        html.H2(summary.name(locale), className="h4 mb-2", id="org-unit-name"),
        html.Div(info, className="mb-3"),
        html.Dl([x for k, v in facts for x in (html.Dt(k, className="col-sm-4"),
                                               html.Dd(v, className="col-sm-8"))],
                className="row mb-0"),
        html.H3(_("Units below"), className="h6 mt-3") if children else None,
        dbc.ListGroup(children, flush=True, id="org-children") if children else None,
    ]), className="mb-3")
    tabs = dbc.Tabs([
        dbc.Tab(staff_table(staff, locale, summary.name(locale)), label=_("Staff (%(n)s)", n=len(staff)),
                tab_id="staff"),
        dbc.Tab(crew_table(crews, locale, summary.name(locale)), label=_("Crews (%(n)s)", n=len(crews)),
                tab_id="crews"),
    ], active_tab="staff", className="mb-2")
    return html.Div([header, dbc.Card(dbc.CardBody(tabs), className="mb-3")])


def relative_name(name: str, base: str) -> str:
    """A unit's name without the selected unit's name in front ("Office Services Group")."""
    if name == base:
        return name
    rest = name.removeprefix(base).lstrip(" –-")
    return rest or name


def staff_table(staff: Sequence[StaffRow], locale: str, base: str = "") -> Any:
    if not staff:
        return empty_state(_("No staff in this unit."))
    zh = locale.startswith("zh")
    rows = [{
        "name": s.name_zh if zh else s.name_latin,
        "position": label(POSITIONS, s.position),
        "unit": relative_name(s.unit_zh if zh else s.unit_en, base),
        "skills": "、".join(label(SKILLS, k) for k in s.skills) if zh
        else ", ".join(label(SKILLS, k) for k in s.skills),
        "phone": s.phone,
        "crew": (s.crew_code or "") + (" ★" if s.is_leader else ""),
    } for s in staff]
    return data_grid(STAFF_TABLE, [("name", _("Name")), ("position", _("Position")),
                                ("unit", _("Unit")), ("skills", _("Skills")),
                                ("phone", _("Phone")), ("crew", _("Crew"))], rows)


def crew_table(crews: Sequence[CrewRow], locale: str, base: str = "") -> Any:
    if not crews:
        return empty_state(_("No crews in this unit."))
    zh = locale.startswith("zh")
    rows = [{
        "code": c.code,
        "unit": relative_name(c.unit_zh if zh else c.unit_en, base),
        "leader": next(((m[0] if zh else m[1]) for m in c.members if m[2]), ""),
        "members": ("、" if zh else ", ").join(m[0] if zh else m[1] for m in c.members),
        "size": len(c.members),
        "skills": ("、" if zh else ", ").join(label(SKILLS, k) for k in c.skills),
        "vehicle": c.vehicle or "",
    } for c in crews]
    return data_grid(CREW_TABLE, [("code", _("Crew")), ("unit", _("Unit")), ("leader", _("Leader")),
                               ("members", _("Members")), ("size", _("Size")),
                               ("skills", _("Skills")), ("vehicle", _("Vehicle"))], rows)


def _grid_table(id_: str, corner: str, columns: list[str], rows: list[tuple[str, list[Any]]]) -> Any:
    """A table with row headers and centred cells (the responsibility matrix)."""
    return dbc.Table(
        [html.Thead(html.Tr([html.Th(corner)] + [html.Th(c, className="text-center small")
                                                  for c in columns])),
         html.Tbody([html.Tr([html.Th(head, scope="row")]
                             + [html.Td(cell, className="text-center") for cell in cells])
                     for head, cells in rows])],
        bordered=True, size="sm", responsive=True, className="portal-matrix", id=id_,
    )


def matrix_component(matrix: ResponsibilityMatrix, locale: str) -> Any:
    kinds = [k.value for k in UnitKind]
    marks = {LEAD: dbc.Badge(_("Lead"), color="primary"),
             SUPPORT: dbc.Badge(_("Support"), color="light", text_color="dark", className="border")}
    businesses = _grid_table(
        "matrix-business", _("Business"), [label(UNIT_KINDS, k) for k in kinds],
        [(b.name(locale), [marks.get(b.part_of(k)) for k in kinds]) for b in matrix.businesses])
    roles = list(Role)
    tick = html.I(className="bi bi-check-lg text-success")
    actions = _grid_table(
        "matrix-actions", _("Action"), [label(ROLES, r) for r in roles],
        [(a.name(locale), [tick if r in a.roles else "" for r in roles]) for a in matrix.actions])
    return html.Div([
        html.P(_("Which unit type handles which business:"), className="fw-semibold"),
        businesses,
        html.P(_("Which role may take which action:"), className="fw-semibold mt-3"),
        actions,
        html.P(_("Version %(version)s · %(source)s", version=matrix.version,
                 source=matrix.source_in(get_locale())),
               className="small text-body-secondary mb-0"),
    ])

