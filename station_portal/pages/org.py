"""Organisation page: the unit tree, a unit's people and crews, territories, the matrix.

``/org?unit=<id>`` selects a unit. The page arrives filled: ``layout()`` runs the
same scoped queries (:func:`unit_view`) as the callback that follows the user's
clicks in the tree (``callbacks/org.py``), so the first load costs one round trip,
not a layout and then a callback that has to wait for Plotly before it may start.
The other builders here are pure functions of query results.
"""

from __future__ import annotations

from collections.abc import Sequence
from html import escape
from typing import Any
from urllib.parse import parse_qs

import dash_bootstrap_components as dbc
from dash import dcc, html
from sqlalchemy.orm import Session

from station_portal.auth.roles import ALL_STAFF, Role
from station_portal.auth.scope import Scope
from station_portal.i18n import _, _l, get_locale
from station_portal.labels import AREA_TYPES, POSITIONS, ROLES, SKILLS, UNIT_KINDS, label
from station_portal.org import queries
from station_portal.org.matrix import LEAD, SUPPORT, ResponsibilityMatrix, load_matrix
from station_portal.org.models import UnitKind
from station_portal.org.queries import CrewRow, StaffRow, TreeNode, UnitSummary
from station_portal.org.tree import ancestor_ids
from station_portal.pages import Page
from station_portal.pages.grid import data_grid
from station_portal.pages.maps import GRAPH_CONFIG, empty_map, territory_figure
from station_portal.pages.ui import empty_state, graph_config, out_of_scope, page_header
from station_portal.validate import as_id
from station_portal.web.context import portal, read_session

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
    tree, details, figure = unit_view(read_session(), user.scope(), as_id(query.get("unit")),
                                      get_locale())
    return html.Div([
        page_header(_("Organisation"),
                    _("Units, people and crews, territories, and who handles what.")),
        dbc.Row([
            dbc.Col(dbc.Card([
                dbc.CardHeader([html.I(className="bi bi-diagram-3 me-2"), _("Units")]),
                dbc.CardBody(_loading(html.Div(tree, id=TREE, className="portal-tree"))),
            ], className="mb-3"), lg=4),
            dbc.Col(_loading(html.Div(details, id=DETAILS)), lg=8),
        ]),
        dbc.Row([
            dbc.Col(dbc.Card([
                dbc.CardHeader([html.I(className="bi bi-map me-2"), _("Territories")]),
                dbc.CardBody(dcc.Graph(id=MAP, figure=figure, config=graph_config(**GRAPH_CONFIG),
                                       className="portal-map"),
                             className="p-0"),
            ], className="mb-3"), lg=12),
        ]),
        dbc.Card([
            dbc.CardHeader([html.I(className="bi bi-table me-2"),
                            _("Responsibility matrix (权力清单)")]),
            dbc.CardBody(matrix_component(load_matrix(), get_locale()), id=MATRIX),
        ], className="mb-3"),
    ])


def _loading(content: html.Div) -> dcc.Loading:
    """A spinner while a click in the tree is answered; not on arrival, when the content is
    already there (by default a spinner hides its content until the browser is idle)."""
    return dcc.Loading(content, show_initially=False)


PAGE = Page(path="/org", title=_l("Organisation"), roles=ALL_STAFF, layout=layout,
            icon="bi-diagram-3")


def unit_view(session: Session, scope: Scope, requested: int | None, locale: str) -> tuple[Any, Any, Any]:
    """The tree, the selected unit's details and the territory map, all scoped to the user.

    ``requested`` comes from the address (never trusted): a unit out of scope shows the
    out-of-scope notice and nothing of it. Without one, the user's own first unit.
    """
    selected = requested if requested is not None else \
        (scope.root_unit_ids[0] if scope.root_unit_ids else None)
    tree = tree_component(queries.unit_tree(session, scope), selected, locale)

    summary = queries.unit_summary(session, scope, selected) if selected else None
    if summary is None:
        details = out_of_scope() if requested is not None else None
        selected = None
    else:
        details = details_component(
            summary, queries.staff_rows(session, scope, summary.id),
            queries.crew_rows(session, scope, summary.id), locale)

    features = queries.territories(session, scope)
    if not features:
        return tree, details, empty_map(_("No territory in your area."))
    highlight: set[int] = set()
    if selected is not None:
        highlight = {f.unit_id for f in features if f"/{selected}/" in f.path}
        if not highlight and summary is not None:
            # A group has no territory: outline the station that holds it.
            ancestors = set(ancestor_ids(summary.path))
            highlight = {f.unit_id for f in features if f.unit_id in ancestors}
        if len(highlight) == len(features):
            highlight = set()  # everything selected: outlining it all says nothing
    cfg = portal().config
    figure = territory_figure(features, locale=locale, selected_ids=highlight,
                              tile_url=cfg.tile_url, attribution=cfg.tile_attribution)
    return tree, details, figure


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
                            className="portal-tree-link" + (" active" if node.id == selected else ""))
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


def _table_html(id_: str, corner: str, columns: Sequence[str],
                rows: Sequence[tuple[str, Sequence[str]]]) -> str:
    """A table with row headers and centred cells (the responsibility matrix), as HTML.

    Cells are HTML snippets made here; every text is escaped.
    """
    head = "".join(f'<th class="text-center small">{escape(c)}</th>' for c in columns)
    body = "".join(
        f'<tr><th scope="row">{escape(name)}</th>'
        + "".join(f'<td class="text-center">{cell}</td>' for cell in cells) + "</tr>"
        for name, cells in rows)
    return (f'<div class="table-responsive"><table id="{id_}" '
            f'class="portal-matrix table table-sm table-bordered">'
            f"<thead><tr><th>{escape(corner)}</th>{head}</tr></thead>"
            f"<tbody>{body}</tbody></table></div>")


def matrix_html(matrix: ResponsibilityMatrix, locale: str) -> str:
    """The matrix's two tables as one HTML text, with the same markup (Bootstrap's badges and
    icons) as Dash's components would make."""
    kinds = [k.value for k in UnitKind]
    marks = {LEAD: f'<span class="badge bg-primary">{escape(_("Lead"))}</span>',
             SUPPORT: f'<span class="border badge text-dark bg-light">{escape(_("Support"))}</span>'}
    businesses = _table_html(
        "matrix-business", _("Business"), [label(UNIT_KINDS, k) for k in kinds],
        [(b.name(locale), [marks.get(b.part_of(k), "") for k in kinds])
         for b in matrix.businesses])
    roles = list(Role)
    tick = '<i class="bi bi-check-lg text-success"></i>'
    actions = _table_html(
        "matrix-actions", _("Action"), [label(ROLES, r) for r in roles],
        [(a.name(locale), [tick if r in a.roles else "" for r in roles]) for a in matrix.actions])
    version = _("Version %(version)s · %(source)s", version=matrix.version,
                source=matrix.source_in(locale))
    return (f'<p class="fw-semibold">{escape(_("Which unit type handles which business:"))}</p>'
            f"{businesses}"
            f'<p class="fw-semibold mt-3">{escape(_("Which role may take which action:"))}</p>'
            f"{actions}"
            f'<p class="small text-body-secondary mb-0">{escape(version)}</p>')


def matrix_component(matrix: ResponsibilityMatrix, locale: str) -> Any:
    """The responsibility matrix as one component, not one per cell.

    Its ~450 cells and badges as Dash components made the page's first render take
    seconds: the renderer does work for every component on every change of its store.
    The text is all the portal's own (the matrix file and the catalogs), escaped, so
    the HTML is safe to render.
    """
    return dcc.Markdown(matrix_html(matrix, locale), dangerously_allow_html=True)
