"""Work-order lists: repairs, connection applications, industrial-park cases.

Each list is an AG Grid on the infinite row model: the browser asks for a
block of rows with its sort and filter, the server answers from SQL (paged,
scoped). A click on a row opens the order.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

import dash_ag_grid as dag
import dash_bootstrap_components as dbc
from dash import html

from station_portal.auth.roles import ALL_STAFF, Role
from station_portal.db import utcnow
from station_portal.i18n import LazyString, _, _l, get_locale
from station_portal.labels import (
    APPLICATION_STATUSES,
    BUSINESS_TYPES,
    CUSTOMER_CLASSES,
    HOLDERS,
    PARK_STATUSES,
    REPAIR_CATEGORIES,
    REPAIR_SOURCES,
    REPAIR_STATUSES,
    SLA_STATUSES,
    URGENCIES,
    label,
    stage_label,
    standing_text,
)
from station_portal.pages import Page, park_case
from station_portal.pages.grid import locale_text
from station_portal.pages.ui import page_header
from station_portal.sla.calendar import WorkCalendar
from station_portal.sla.clock import late_amount, left_amount
from station_portal.sla.rules import MINUTE, WORKDAY
from station_portal.timefmt import format_deadline, format_local
from station_portal.workorders.models import Kind

GRID = "orders-grid"
KIND = "orders-kind"

# Columns per kind: (field, header) — the field is also the server-side sort/filter key.
COLUMNS: dict[Kind, list[tuple[str, LazyString]]] = {
    Kind.REPAIR: [
        ("code", _l("Number")), ("status", _l("Status")), ("sla", _l("Time limit")),
        ("created_at", _l("Reported at")), ("due_at", _l("Due")),
        ("standing", _l("Left or overdue by")), ("category", _l("Category")),
        ("urgency", _l("Urgency")), ("address", _l("Address")), ("unit", _l("Unit")),
        ("crew", _l("Crew")), ("source", _l("Source")),
    ],
    Kind.APPLICATION: [
        ("code", _l("Number")), ("status", _l("Status")), ("current_stage", _l("Stage")),
        ("sla", _l("Time limit")), ("holder", _l("Held by")), ("due_at", _l("Due")),
        ("standing", _l("Left or overdue by")),
        ("customer_name", _l("Applicant")), ("customer_class", _l("Class")),
        ("business_type", _l("Business")), ("load_kw", _l("kW")), ("capacity_kva", _l("kVA")),
        ("created_at", _l("Applied")), ("unit", _l("Unit")),
    ],
    Kind.PARK_CASE: [
        ("code", _l("Number")), ("status", _l("Status")), ("client", _l("Client")),
        ("current_stage", _l("Next milestone")), ("sla", _l("Milestones")),
        ("projected_load_kw", _l("Projected kW")), ("created_at", _l("Opened")),
        ("unit", _l("Unit")),
    ],
}
NUMBER_COLUMNS = {"urgency", "capacity_kva", "load_kw", "projected_load_kw"}
# Worked out per row from the due time (the one figure of lateness); not a server sort key.
COMPUTED_COLUMNS = {"standing"}
DATE_COLUMNS = {"created_at", "due_at", "closed_at"}
STATUS_LABELS = {Kind.REPAIR: REPAIR_STATUSES, Kind.APPLICATION: APPLICATION_STATUSES,
                 Kind.PARK_CASE: PARK_STATUSES}
# Columns shown as translated labels: filters typed in the user's language are
# translated back into codes on the server.
LABELLED: dict[str, Callable[[Kind], dict[str, Any]]] = {
    "status": lambda kind: STATUS_LABELS[kind],
    "sla": lambda kind: SLA_STATUSES,
    "category": lambda kind: REPAIR_CATEGORIES,
    "source": lambda kind: REPAIR_SOURCES,
    "customer_class": lambda kind: CUSTOMER_CLASSES,
    "business_type": lambda kind: BUSINESS_TYPES,
    "urgency": lambda kind: URGENCIES,
}


def column_defs(kind: Kind) -> list[dict[str, Any]]:
    defs = []
    for field, header in COLUMNS[kind]:
        col: dict[str, Any] = {"field": field, "headerName": str(header)}
        if field in COMPUTED_COLUMNS:
            col["sortable"], col["filter"] = False, False
        elif field in NUMBER_COLUMNS and field != "urgency":
            col["filter"] = "agNumberColumnFilter"
            col["filterParams"] = {"filterOptions": ["equals", "lessThan", "greaterThan",
                                                     "inRange", "blank", "notBlank"],
                                   "maxNumConditions": 1}
        elif field in DATE_COLUMNS:
            col["filter"] = "agDateColumnFilter"
            col["minWidth"] = 150
            col["filterParams"] = {"filterOptions": ["inRange", "equals", "lessThan", "greaterThan"],
                                   "maxNumConditions": 1}
        else:
            col["filter"] = "agTextColumnFilter"
            col["filterParams"] = {"filterOptions": ["contains", "notContains", "equals",
                                                     "startsWith"], "maxNumConditions": 1}
        if field == "sla":
            col["cellClassRules"] = {
                f"portal-sla portal-sla-{code}": f"params.data && params.data.sla_code == '{code}'"
                for code in SLA_STATUSES}
        if field == "code":
            col["pinned"] = "left"
            col["minWidth"] = 150
        defs.append(col)
    return defs


def list_layout(kind: Kind, title: str, subtitle: str, actions: Any = None) -> html.Div:
    return html.Div([
        page_header(title, subtitle, actions),
        dag.AgGrid(
            id=GRID,
            columnDefs=column_defs(kind),
            rowModelType="infinite",
            defaultColDef={"sortable": True, "resizable": True, "floatingFilter": True,
                           "flex": 1, "minWidth": 110},
            dashGridOptions={
                "pagination": True, "paginationPageSize": 50,
                "paginationPageSizeSelector": [50, 100, 200],
                "cacheBlockSize": 50, "maxBlocksInCache": 10, "rowBuffer": 0,
                "localeText": locale_text(), "domLayout": "autoHeight",
                "enableCellTextSelection": True,
            },
            getRowId="params.data.id",
            className="portal-grid portal-grid-clickable",
        ),
        html.Div(kind.value, id=KIND, hidden=True),
        html.P(_("Click an order to open it. Sorting and filtering run on the server."),
               className="small text-body-secondary mt-2"),
    ])


def _new_case_button(user: Any) -> dbc.Button | None:
    """Those who open park cases find the form from their list."""
    if getattr(user, "role", None) not in park_case.ROLES:
        return None
    return dbc.Button([html.I(className="bi bi-plus-lg me-1"), _("New park case")],
                      href=park_case.PATH, color="primary", size="sm", id="new-park-case")


def _page(kind: Kind, path: str, title: LazyString, subtitle: LazyString,
          roles: frozenset[Role], icon: str) -> Page:
    def layout(user: Any, query: dict[str, str]) -> html.Div:
        actions = _new_case_button(user) if kind == Kind.PARK_CASE else None
        return list_layout(kind, str(title), str(subtitle), actions)
    return Page(path=path, title=title, roles=roles, layout=layout, icon=icon)


REPAIRS = _page(Kind.REPAIR, "/orders/repairs", _l("Repairs"),
                _l("Fault repairs against the arrival and restoration commitments."),
                ALL_STAFF - {Role.ACCOUNT_MANAGER}, "bi-lightning")
APPLICATIONS = _page(Kind.APPLICATION, "/orders/applications", _l("Applications"),
                     _l("Connection applications, stage by stage against the time limits."),
                     ALL_STAFF - {Role.CREW}, "bi-plug")
PARK_CASES = _page(Kind.PARK_CASE, "/orders/parks", _l("Park cases"),
                   _l("Industrial-park clients from first contact to formal application."),
                   ALL_STAFF - {Role.CREW}, "bi-buildings")
PAGES = (REPAIRS, APPLICATIONS, PARK_CASES)


def _standing(row: dict[str, Any], now: datetime, calendar: WorkCalendar) -> str:
    if row["due_at"] is None or row["closed_at"] is not None:
        return ""
    unit = WORKDAY if row["kind"] == Kind.APPLICATION else MINUTE
    return standing_text(unit, late_amount(unit, row["due_at"], now, calendar),
                         left_amount(unit, row["due_at"], now, calendar))


def grid_rows(kind: Kind, rows: list[dict[str, Any]], now: datetime | None = None,
              calendar: WorkCalendar | None = None) -> list[dict[str, Any]]:
    """SQL rows → what the grid shows (translated labels, Shanghai times, the time left or
    overdue in working days for applications and minutes for repairs)."""
    zh = get_locale().startswith("zh")
    now = now or utcnow()
    calendar = calendar or WorkCalendar.default()
    status_labels = STATUS_LABELS[kind]
    out = []
    for r in rows:
        holder = (r["holder_zh"] if zh else r["holder_en"]) if r["holder"] == "unit" \
            else label(HOLDERS, r["holder"])
        stage = stage_label(r["current_stage"])
        if r["paused"]:
            stage = f"{stage} ⏸" if stage else "⏸"
        out.append({
            "id": str(r["id"]),
            "code": r["code"],
            "status": label(status_labels, r["status"]),
            "sla": label(SLA_STATUSES, r["sla"]) if r["sla"] else "",
            "sla_code": r["sla"] or "",
            "created_at": format_local(r["created_at"]),
            "due_at": format_deadline(r["due_at"]),
            "standing": _standing(r, now, calendar) if kind != Kind.PARK_CASE else "",
            "unit": r["unit_zh"] if zh else r["unit_en"],
            "holder": holder or "",
            "category": label(REPAIR_CATEGORIES, r["category"]),
            "source": label(REPAIR_SOURCES, r["source"]),
            "urgency": label(URGENCIES, str(r["urgency"])) if r["urgency"] else "",
            "address": r["address"],
            "crew": r["crew"] or "",
            "customer_name": r["customer_name"],
            "customer_class": label(CUSTOMER_CLASSES, r["customer_class"]),
            "business_type": label(BUSINESS_TYPES, r["business_type"]),
            "current_stage": stage,
            "capacity_kva": r["capacity_kva"],
            "load_kw": r["load_kw"],
            "client": (r["client_zh"] if zh else r["client_en"]) or "",
            "projected_load_kw": r["projected_load_kw"],
        })
    return out
