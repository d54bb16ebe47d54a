"""The station head's dispatch board: live map, queue, crews, suggestions, "dispatch all".

The layout is a skeleton; ``callbacks/dispatch.py`` fills it. Map markers are
GeoJSON features drawn by ``assets/dispatch.js`` (shapes by kind, colours by
SLA or crew status). The board polls every few seconds; the server answers
with the features that changed since the browser's last picture (it sends the
fingerprints of what it holds), and the browser merges them into the map, the
queue and the crews panel. Pure feature builders live here so they can be
tested without a browser.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any

import dash_ag_grid as dag
import dash_bootstrap_components as dbc
import dash_leaflet as dl
from dash import dcc, html

from station_portal.auth.roles import Role
from station_portal.dispatch.board import Board, BoardCrew, BoardOrder
from station_portal.dispatch.optimise import Plan
from station_portal.dispatch.suggest import Suggestion
from station_portal.dispatch.travel import LIVE as LIVE_POSITION
from station_portal.dispatch.travel import UNKNOWN as UNKNOWN_POSITION
from station_portal.i18n import _, _l, get_locale
from station_portal.labels import (
    APPLICATION_STATUSES,
    CREW_STATUSES,
    ORDER_KINDS,
    OUTAGE_KINDS,
    PARK_STATUSES,
    REPAIR_CATEGORIES,
    REPAIR_STATUSES,
    SKILLS,
    SLA_STATUSES,
    URGENCIES,
    label,
    stage_label,
)
from station_portal.network.outages import OutageRow
from station_portal.org.queries import TerritoryFeature
from station_portal.pages import Page
from station_portal.pages.grid import locale_text
from station_portal.pages.maps import view_of
from station_portal.pages.ui import empty_state, page_header
from station_portal.timefmt import format_local

ROLES = frozenset({Role.STATION_HEAD, Role.GRID_MANAGER})
POLL_MS = 3000

MAP = "board-map"
ORDERS_LAYER = "board-orders"
CREWS_LAYER = "board-crews"
TERRITORY_LAYER = "board-territories"
OUTAGE_LAYER = "board-outages"
QUEUE = "board-queue"
CREWS = "board-crews-grid"
PANEL = "board-panel"
MESSAGE = "board-message"
ALERT = "board-alert"  # the answer to an action, shown in MESSAGE
PROPOSAL_ALERT = "board-proposal-alert"  # a refused "dispatch all", shown in PROPOSAL_RESULT
SELECTED = "board-selected"  # {"id": order id} chosen by the user
INTERVAL = "board-interval"
POLL = "board-poll"  # the gate's go-ahead for one server poll
INFLIGHT = "board-inflight"  # when the running poll started (ms), or 0
KNOWN = "board-known"  # fingerprints of the features the browser holds
DELTA = "board-delta"  # what changed, from the server
FEATURES = "board-features"  # the browser's picture: key → feature
LIVE = "board-live"
COUNTS = "board-counts"
TEXTS = "board-texts"
ASSIGN = "board-assign"  # pattern: {"type": ASSIGN, "crew": id, "role": "lead"|"support"}
DISPATCH_ALL = "board-dispatch-all"
PROPOSAL_MODAL = "board-proposal-modal"
PROPOSAL_BODY = "board-proposal-body"
PROPOSAL_GRID = "board-proposal-grid"
PROPOSAL_APPLY = "board-proposal-apply"
PROPOSAL_CLOSE = "board-proposal-close"
PROPOSAL_RESULT = "board-proposal-result"
REFRESH = "board-refresh"  # bumped after a change made here: poll at once
SELECTED_PRINT = "board-selected-print"  # fingerprint of the selected order: re-render its panel on change
PANEL_VERSION = "board-panel-version"  # {"id", "version"} of the order the panel shows
PROPOSAL_VERSIONS = "board-proposal-versions"  # order id → version the proposal saw


# -- pure builders: features, fingerprints, deltas, proposal rows ---------------------------

def _ms(when: datetime | None) -> int | None:
    return int(when.timestamp() * 1000) if when is not None else None


def status_label(order: BoardOrder) -> str:
    table = {"repair": REPAIR_STATUSES, "application": APPLICATION_STATUSES,
             "park_case": PARK_STATUSES}[order.kind]
    return label(table, order.status)


def order_feature(order: BoardOrder, crew_codes: Mapping[int, str]) -> dict[str, Any]:
    """One work order as a GeoJSON point with what the map, the queue and the tooltip show."""
    crew = crew_codes.get(order.crew_id, "") if order.crew_id else ""
    support = [crew_codes.get(c, "") for c in order.support_crew_ids]
    what = label(REPAIR_CATEGORIES, order.category) if order.kind == "repair" \
        else stage_label(order.current_stage) or label(ORDER_KINDS, order.kind)
    tip = [f"{order.code} · {label(ORDER_KINDS, order.kind)}", f"{status_label(order)} · {what}",
           order.address]
    if order.due_at is not None:
        tip.append(_("Due %(when)s", when=format_local(order.due_at)))
    if crew:
        tip.append(_("Crew %(crew)s", crew=", ".join([crew, *[s for s in support if s]])))
    if order.outage_id is not None:
        tip.append(_("Inside an announced outage: left out of dispatch all"))
    return {
        "type": "Feature",
        "id": f"o{order.id}",
        "geometry": {"type": "Point", "coordinates": [round(order.lon, 6), round(order.lat, 6)]},
        "properties": {
            "id": order.id, "k": order.kind, "code": order.code, "sla": order.sla or "no_limit",
            "free": order.unassigned, "paused": order.paused,
            "u_label": label(URGENCIES, str(order.urgency)) if order.urgency else "",
            "what": what, "addr": order.address, "due": _ms(order.due_at),
            "tip": [t for t in tip if t],
        },
    }


def crew_feature(crew: BoardCrew) -> dict[str, Any]:
    skills = sorted(label(SKILLS, s) for s in crew.skills)
    tip = [f"{crew.code} · {label(CREW_STATUSES, crew.status)}", " · ".join(crew.members),
           _("%(n)s open jobs", n=len(crew.order_ids))]
    if crew.last_seen_at is None:
        tip.append(_("No position reported yet: shown at its office."))
    elif not crew.reported:
        tip.append(_("Last position is hours old: shown at its office."))
    elif not crew.fresh:  # the time, not "… min ago": the feature stays the same from poll to poll
        tip.append(_("Last seen at %(time)s: it may have moved since.",
                     time=format_local(crew.last_seen_at)))
    return {
        "type": "Feature",
        "id": f"c{crew.id}",
        "geometry": {"type": "Point", "coordinates": [round(crew.lon, 6), round(crew.lat, 6)]},
        "properties": {
            "id": crew.id, "code": crew.code, "st": crew.status,
            "st_label": label(CREW_STATUSES, crew.status), "duty": crew.on_duty,
            "load": len(crew.order_ids), "skills": ", ".join(skills),
            "members": ", ".join(crew.members), "seen": _ms(crew.last_seen_at),
            "reported": crew.reported, "fresh": crew.fresh, "tip": [t for t in tip if t],
        },
    }


def board_features(board: Board) -> dict[str, dict[str, Any]]:
    """Every feature of the board by key ("o12", "c3")."""
    codes = {c.id: c.code for c in board.crews}
    out = {f"o{o.id}": order_feature(o, codes) for o in board.orders}
    out.update({f"c{c.id}": crew_feature(c) for c in board.crews})
    return out


def fingerprint(feature: Mapping[str, Any]) -> str:
    return hashlib.blake2b(json.dumps(feature, sort_keys=True, ensure_ascii=False).encode(),
                           digest_size=8).hexdigest()


def delta(features: Mapping[str, Mapping[str, Any]], known: object) -> dict[str, Any]:
    """What the browser lacks: features new or changed since its fingerprints, keys gone.

    ``known`` comes from the browser and is only compared against, never trusted:
    anything malformed just means "send everything".
    """
    seen = known if isinstance(known, dict) else {}
    prints = {key: fingerprint(f) for key, f in features.items()}
    upsert = [features[k] for k, p in prints.items() if seen.get(k) != p]
    remove = [k for k in seen if isinstance(k, str) and k not in features]
    return {"upsert": upsert, "remove": remove, "prints": prints}


def seen_ago(minutes: float) -> str:
    """"last seen 40 min ago", "last seen 2 h ago", "last seen 3 days ago"."""
    minutes = max(0, round(minutes))
    if minutes < 60:
        return _("last seen %(n)s min ago", n=minutes)
    if minutes < 48 * 60:
        return _("last seen %(n)s h ago", n=round(minutes / 60))
    return _("last seen %(n)s days ago", n=round(minutes / (24 * 60)))


def position_text(suggestion: Suggestion) -> str:
    """What the board knows of where the crew is, for a crew whose position is not live."""
    if suggestion.position == UNKNOWN_POSITION:
        return _("position unknown — at the office?")
    if suggestion.seen_min_ago is not None:
        return seen_ago(suggestion.seen_min_ago)
    return ""


def reason_text(code: str, values: Mapping[str, Any]) -> str:
    minutes = values.get("minutes", 0)
    texts = {
        "eta": lambda: _("arrives in %(n)s min", n=minutes),
        "last_seen": lambda: seen_ago(minutes),
        "position_unknown": lambda: _("position unknown — at the office?"),
        "eta_guess": lambda: _("about %(n)s min if it is at the office", n=minutes)
        if values.get("from") == "office"
        else _("about %(n)s min if it is still where it was last seen", n=minutes),
        "busy": lambda: _("busy for %(n)s min first", n=minutes),
        "slack": lambda: _("%(n)s min to spare", n=minutes),
        "late_by": lambda: _("%(n)s min late", n=minutes),
        "skills_ok": lambda: _("has the skills"),
        "missing_skills": lambda: _("lacks %(skills)s", skills=", ".join(
            label(SKILLS, s) for s in values.get("skills", []))),
        "load": lambda: _("%(n)s open jobs", n=values.get("orders", 0)),
        "off_duty": lambda: _("off duty"),
        "outside_territory": lambda: _("outside its territory"),
    }
    return texts[code]() if code in texts else code


def above_text(code: str, values: Mapping[str, Any]) -> str:
    """One part of why a crew ranks above the next one."""
    texts = {
        "may_take": lambda: _("it may take the order, the next one may not"),
        "fewer_obstacles": lambda: _("fewer obstacles than the next one"),
        "on_time": lambda: _("in time, the next one may not be"),
        "sooner": lambda: _("arrives %(n)s min sooner", n=values.get("minutes", 0)),
        "nearer_anyway": lambda: _("%(n)s min nearer even allowing for its uncertain position",
                                   n=values.get("minutes", 0)),
        "position_live": lambda: _("its position is live, the next one's is not"),
        "position_newer": lambda: _("its position is more recent"),
        "same_eta": lambda: _("same ETA"),
        "fewer_jobs": lambda: _("fewer open jobs"),
        "same_load": lambda: _("as many open jobs"),
        "crew_number": lambda: _("then by crew number"),
    }
    return texts[code]() if code in texts else code


IN_THE_BADGE = frozenset({"position_unknown", "last_seen"})  # said once, in the row's badge


def suggestion_rows(suggestions: Sequence[Suggestion]) -> list[dict[str, Any]]:
    """What the panel shows per crew; a crew whose position is not live gets no ETA badge
    but where it was last seen, and every crew but the last says why it is above the next."""
    rows = []
    for i, s in enumerate(suggestions):
        below = suggestions[i + 1] if i + 1 < len(suggestions) else None
        why = "; ".join(above_text(code, values) for code, values in s.above_next)
        rows.append({
            "crew_id": s.crew_id, "code": s.code, "eta": round(s.eta_min),
            "slack": round(s.slack_min), "late": s.slack_min < 0,
            "ok": s.may_take, "load": s.load, "position": s.position,
            "where": "" if s.position == LIVE_POSITION else position_text(s),
            "reasons": [reason_text(code, values) for code, values in s.reasons
                        if code not in IN_THE_BADGE],
            "above": _("Above %(crew)s: %(why)s", crew=below.code, why=why) if below and why else "",
        })
    return rows


def proposal_rows(plan: Plan, board: Board) -> list[dict[str, Any]]:
    """The optimiser's proposal, one row per order, for the station head to check and change.

    Orders no eligible crew can take come last, unticked and without a crew.
    """
    crews = {c.id: c for c in board.crews}

    def row(order_id: int, crew: str = "", eta: float | None = None,
            late: float | None = None) -> dict[str, Any] | None:
        order = board.order(order_id)
        if order is None:
            return None
        return {"id": str(order.id), "code": order.code, "address": order.address,
                "what": label(REPAIR_CATEGORIES, order.category),
                "urgency": label(URGENCIES, str(order.urgency)) if order.urgency else "",
                "crew": crew, "eta": None if eta is None else round(eta),
                "late": None if late is None else round(late), "apply": bool(crew)}

    rows = [row(a.order_id, crews[a.crew_id].code, a.eta_min, a.lateness_min)
            for a in sorted(plan.assignments, key=lambda a: (a.crew_id, a.sequence))]
    rows += [row(order_id) for order_id in plan.unassigned]
    return [r for r in rows if r is not None]


def territory_geojson(features: Iterable[TerritoryFeature], locale: str) -> dict[str, Any]:
    return {"type": "FeatureCollection", "features": [
        {"type": "Feature", "id": f.unit_id, "geometry": f.geometry,
         "properties": {"name": f.name(locale), "area": f.area_type or "urban"}}
        for f in features]}


# -- layout --------------------------------------------------------------------------------

def texts() -> dict[str, str]:
    """Words the browser script needs, in the user's language."""
    return {"locale": "zh-CN" if get_locale() == "zh_CN" else "en",
            "min": _("min"), "ago": _("%(n)s min ago", n="{n}"),
            "never": _("never"), "live": _("Live · updated %(time)s", time="{time}"),
            "stale": _("Reconnecting… last update %(time)s", time="{time}"),
            "now": _("just now"),
            "counts": _("%(unassigned)s unassigned · %(overdue)s overdue · %(risk)s at risk · "
                        "%(free)s of %(crews)s crews free",
                        unassigned="{unassigned}", overdue="{overdue}", risk="{risk}", free="{free}",
                        crews="{crews}")}


def _legend() -> html.Div:
    def item(classes: str, text: str) -> html.Span:
        return html.Span([html.Span(className=classes), text], className="sp-legend-item")

    return html.Div([
        item("sp-order sp-kind-repair sp-sla-on_track", _("Repair")),
        item("sp-order sp-kind-application sp-sla-on_track", _("Application")),
        item("sp-order sp-kind-park_case sp-sla-on_track", _("Park case")),
        item("sp-order sp-kind-repair sp-sla-on_track sp-unassigned", _("Unassigned")),
        item("sp-swatch sp-sla-on_track", label(SLA_STATUSES, "on_track")),
        item("sp-swatch sp-sla-at_risk", label(SLA_STATUSES, "at_risk")),
        item("sp-swatch sp-sla-overdue", label(SLA_STATUSES, "overdue")),
        item("sp-swatch sp-sla-no_limit", _("Paused or no limit")),
        item("sp-outage-swatch", _("Outage area (red: power off now)")),
        *[item(f"sp-crew-dot sp-crew-{code}", label(CREW_STATUSES, code)) for code in CREW_STATUSES],
    ], className="sp-legend small text-body-secondary mt-2")


def outage_geojson(rows: Sequence[OutageRow]) -> dict[str, Any]:
    """The areas of running and imminent outages (circles sized by customers): calls from
    there are the outage, not new faults."""
    features = []
    for r in rows:
        window = f"{format_local(r.starts_at)} – {format_local(r.ends_at)}"
        for a in r.areas:
            features.append({
                "type": "Feature", "id": f"a{r.id}-{a.area_id}",
                "geometry": {"type": "Point", "coordinates": [round(a.lon, 6), round(a.lat, 6)]},
                "properties": {"running": r.status == "in_progress", "n": a.customers,
                               "tip": [f"{label(OUTAGE_KINDS, r.kind)} {r.code}", a.name,
                                       window, r.reason,
                                       _("%(n)s customers", n=a.customers)]}})
    return {"type": "FeatureCollection", "features": features}


def board_map(tile_url: str, attribution: str) -> dl.Map:
    """The map with empty layers; the first callback brings the territories and the view."""
    empty = {"type": "FeatureCollection", "features": []}
    layers: list[Any] = []
    if tile_url:
        layers.append(dl.TileLayer(url=tile_url, attribution=attribution))
    layers += [
        dl.GeoJSON(id=TERRITORY_LAYER, data=empty, interactive=False,
                   style={"variable": "stationPortal.board.territoryStyle"}),
        dl.GeoJSON(id=OUTAGE_LAYER, data=empty,
                   pointToLayer={"variable": "stationPortal.board.outageMarker"},
                   onEachFeature={"variable": "stationPortal.board.tooltip"}),
        dl.GeoJSON(id=ORDERS_LAYER, data=empty,
                   pointToLayer={"variable": "stationPortal.board.orderMarker"},
                   onEachFeature={"variable": "stationPortal.board.tooltip"}),
        dl.GeoJSON(id=CREWS_LAYER, data=empty,
                   pointToLayer={"variable": "stationPortal.board.crewMarker"},
                   onEachFeature={"variable": "stationPortal.board.tooltip"}),
    ]
    centre, zoom = view_of([])
    return dl.Map(layers, id=MAP, center=[centre["lat"], centre["lon"]], zoom=zoom, zoomSnap=0.5,
                  className="sp-board-map", attributionControl=bool(tile_url))


def territory_view(features: Sequence[TerritoryFeature]) -> dict[str, Any]:
    """The map view that fits the territories (centre and zoom)."""
    points = [pt for f in features for pt in _outer_ring(f.geometry)]
    centre, zoom = view_of(points, 760, 560)
    # view_of is for MapLibre's 512-pixel tiles; Leaflet's are 256 pixels: one zoom level more.
    return {"center": [centre["lat"], centre["lon"]], "zoom": round((zoom + 1) * 2) / 2}


def _outer_ring(geometry: dict[str, Any]) -> list[tuple[float, float]]:
    polys = geometry["coordinates"] if geometry["type"] == "MultiPolygon" else [geometry["coordinates"]]
    return [(pt[0], pt[1]) for poly in polys for pt in poly[0]]


def queue_grid() -> dag.AgGrid:
    minutes = json.dumps(_("min"))
    return dag.AgGrid(
        id=QUEUE,
        columnDefs=[
            {"field": "left", "headerName": _("Time left"), "sort": "asc", "width": 100,
             "valueFormatter": {"function": f"spMinutesLeft(params, {minutes})"},
             "cellClassRules": {"portal-sla-overdue": "params.value < 0",
                                "portal-sla-at_risk": "params.value >= 0 && params.data.sla == 'at_risk'"}},
            {"field": "summary", "headerName": _("Order"), "flex": 1, "wrapText": True,
             "autoHeight": True, "cellClass": "sp-queue-summary"},
        ],
        rowData=[],
        getRowId="params.data.key",
        defaultColDef={"sortable": True, "resizable": True},
        dashGridOptions={"localeText": {**locale_text(), "noRowsToShow": _("No unassigned repairs.")},
                         "rowSelection": {"mode": "singleRow", "checkboxes": False,
                                          "enableClickSelection": True}},
        className="portal-grid portal-grid-clickable sp-board-grid",
        style={"height": "560px"},
    )


def crews_grid() -> dag.AgGrid:
    return dag.AgGrid(
        id=CREWS,
        columnDefs=[
            {"field": "code", "headerName": _("Crew"), "pinned": "left", "minWidth": 130},
            {"field": "st_label", "headerName": _("Status"), "minWidth": 110,
             "cellClassRules": {f"sp-crew-cell-{c}": f"params.data.st == '{c}'" for c in CREW_STATUSES}},
            {"field": "duty", "headerName": _("On duty"), "editable": True, "minWidth": 90,
             "cellDataType": "boolean"},
            {"field": "load", "headerName": _("Open jobs"), "minWidth": 90},
            {"field": "skills", "headerName": _("Skills"), "minWidth": 200, "wrapText": True,
             "autoHeight": True},
            {"field": "members", "headerName": _("Members"), "minWidth": 160, "wrapText": True,
             "autoHeight": True},
            {"field": "seen_text", "headerName": _("Position reported"), "minWidth": 140},
        ],
        rowData=[],
        getRowId="params.data.key",
        defaultColDef={"sortable": True, "resizable": True, "flex": 1},
        dashGridOptions={"localeText": {**locale_text(), "noRowsToShow": _("No crews in your area.")},
                         "domLayout": "autoHeight"},
        className="portal-grid sp-board-grid",
    )


def proposal_grid(rows: list[dict[str, Any]], crew_codes: list[str]) -> dag.AgGrid:
    return dag.AgGrid(
        id=PROPOSAL_GRID,
        columnDefs=[
            {"field": "apply", "headerName": _("Apply"), "editable": True, "cellDataType": "boolean",
             "maxWidth": 90},
            {"field": "code", "headerName": _("Number"), "minWidth": 130},
            {"field": "crew", "headerName": _("Crew (click to change)"), "editable": True,
             "minWidth": 150, "cellEditor": "agSelectCellEditor",
             "cellEditorParams": {"values": crew_codes}, "cellClass": "sp-editable"},
            {"field": "eta", "headerName": _("Arrives in (min)"), "maxWidth": 130},
            {"field": "late", "headerName": _("Late by (min)"), "maxWidth": 130,
             "cellClassRules": {"portal-sla-overdue": "params.value > 0"}},
            {"field": "urgency", "headerName": _("Urgency"), "maxWidth": 100},
            {"field": "what", "headerName": _("Category")},
            {"field": "address", "headerName": _("Address"), "minWidth": 180},
        ],
        rowData=rows,
        getRowId="params.data.id",
        defaultColDef={"resizable": True, "flex": 1, "sortable": True},
        dashGridOptions={"localeText": locale_text(), "domLayout": "autoHeight",
                         "singleClickEdit": True, "stopEditingWhenCellsLoseFocus": True},
        className="portal-grid",
    )


def layout(user: Any, query: dict[str, str]) -> html.Div:
    from station_portal.web.context import portal

    config = portal().config
    return html.Div([
        page_header(
            _("Dispatch board"),
            _("Open work orders and crews of your area, live. Pick an order on the map or in the queue."),
            actions=html.Div([
                html.Span(_("Connecting…"), id=LIVE, className="small text-body-secondary me-3"),
                dbc.Button([html.I(className="bi bi-magic me-1"), _("Dispatch all")], id=DISPATCH_ALL,
                           color="primary", n_clicks=0),
            ], className="d-flex align-items-center"),
        ),
        html.Div(id=COUNTS, className="mb-2"),
        html.Div(id=MESSAGE),
        dbc.Row([
            dbc.Col(dbc.Card([dbc.CardHeader(_("Unassigned repairs")), queue_grid()]), lg=3,
                    className="mb-3"),
            dbc.Col([
                board_map(config.tile_url, config.tile_attribution),
                _legend(),
            ], lg=6, className="mb-3"),
            dbc.Col(dbc.Card([dbc.CardHeader(_("Selected order")), dbc.CardBody(
                html.Div(empty_state(_("Pick an order on the map or in the queue."),
                                     icon="bi-hand-index"), id=PANEL))]), lg=3, className="mb-3"),
        ]),
        dbc.Card([dbc.CardHeader(_("Crews")), crews_grid()], className="mb-3"),
        dbc.Modal([
            dbc.ModalHeader(dbc.ModalTitle(_("Dispatch all: proposal"))),
            dbc.ModalBody(html.Div(id=PROPOSAL_BODY)),
            dbc.ModalFooter([
                html.Div(id=PROPOSAL_RESULT, className="me-auto"),
                dbc.Button(_("Back to the board"), id=PROPOSAL_CLOSE, color="secondary", n_clicks=0),
                dbc.Button([html.I(className="bi bi-check2-all me-1"), _("Apply the checked rows")],
                           id=PROPOSAL_APPLY, color="primary", n_clicks=0),
            ]),
        ], id=PROPOSAL_MODAL, size="xl", is_open=False, scrollable=True),
        dcc.Interval(id=INTERVAL, interval=POLL_MS),
        dcc.Store(id=POLL), dcc.Store(id=INFLIGHT, data=0), dcc.Store(id=KNOWN, data={}),
        dcc.Store(id=DELTA), dcc.Store(id=FEATURES, data={}), dcc.Store(id=SELECTED),
        dcc.Store(id=REFRESH, data=0), dcc.Store(id=TEXTS, data=texts()),
        dcc.Store(id=SELECTED_PRINT), dcc.Store(id=PANEL_VERSION), dcc.Store(id=PROPOSAL_VERSIONS),
    ])


def _timing_badges(row: Mapping[str, Any]) -> list[html.Span]:
    """ETA and time to spare for a live position; where the crew was seen otherwise."""
    if row["position"] != LIVE_POSITION:
        return [html.Span(row["where"], className="badge text-bg-warning sp-position-"
                          + row["position"])]
    return [html.Span(_("ETA %(n)s min", n=row["eta"]), className="badge text-bg-light me-1"),
            html.Span(_("%(n)s min late", n=-row["slack"]) if row["late"]
                      else _("%(n)s min to spare", n=row["slack"]),
                      className="badge " + ("text-bg-danger" if row["late"] else "text-bg-success"))]


def order_panel(order: BoardOrder, suggestions: list[dict[str, Any]], crew_codes: Mapping[int, str],
                *, can_reassign: bool, can_support: bool) -> html.Div:
    """The selected order and, for a repair, every crew ranked with its reasons."""
    head = html.Div([
        html.Div([
            html.A(order.code, href=f"/order?id={order.id}", className="fw-semibold me-2"),
            dbc.Badge(status_label(order), color="secondary", className="me-1"),
            html.Span(label(SLA_STATUSES, order.sla or "no_limit"),
                      className=f"badge sp-badge-sla sp-sla-{order.sla or 'no_limit'}"),
        ]),
        html.Div(order.address, className="small"),
        html.Div(_("Due %(when)s", when=format_local(order.due_at)) if order.due_at else "",
                 className="small text-body-secondary"),
        html.Div(_("Crew %(crew)s", crew=", ".join(
            [crew_codes.get(order.crew_id, "?"), *[crew_codes.get(c, "?") for c in order.support_crew_ids]]))
            if order.crew_id else _("No crew yet."), className="small mb-2"),
    ])
    if order.kind != "repair":
        return html.Div([head, html.P(_("Applications and park cases are not dispatched to crews; "
                                        "open the order to work on it."), className="small")])
    if not order.unassigned and not can_reassign and not can_support:
        return html.Div([head, html.P(_("This repair is under way; crews cannot be changed now."),
                                      className="small")])
    if not suggestions:
        return html.Div([head, empty_state(_("No crews in your area."))])
    items = []
    for rank, row in enumerate(suggestions, start=1):
        buttons = []
        if order.unassigned or can_reassign:
            buttons.append(dbc.Button(_("Assign") if order.unassigned else _("Reassign"),
                                      id={"type": ASSIGN, "crew": row["crew_id"], "role": "lead"},
                                      size="sm", color="primary" if row["ok"] else "outline-secondary",
                                      n_clicks=0, className="me-1"))
        if can_support:
            buttons.append(dbc.Button(_("Add as support"),
                                      id={"type": ASSIGN, "crew": row["crew_id"], "role": "support"},
                                      size="sm", color="outline-primary", n_clicks=0))
        items.append(html.Li([
            html.Div([html.Span(f"{rank}. ", className="text-body-secondary"),
                      html.Span(row["code"], className="fw-semibold me-2"),
                      *_timing_badges(row)]),
            html.Div(" · ".join(row["reasons"]), className="small text-body-secondary"),
            html.Div(row["above"], className="small sp-suggestion-why") if row["above"] else None,
            html.Div(buttons, className="mt-1"),
        ], className="list-group-item" + ("" if row["ok"] else " sp-suggestion-blocked"),
            **{"data-crew": row["code"]}))
    return html.Div([head, html.Div(_("Suggested crews, best first"), className="small fw-semibold mb-1"),
                     html.Ol(items, className="list-group list-group-flush sp-suggestions")])


PAGE = Page(path="/dispatch", title=_l("Dispatch"), roles=ROLES, layout=layout, icon="bi-truck")
