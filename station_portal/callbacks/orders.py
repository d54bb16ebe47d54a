"""Work-order lists: rows on demand from the server, a click opens the order."""

from __future__ import annotations

from typing import Any

from dash import Dash, Input, Output, State, no_update

from station_portal.auth.roles import ALL_STAFF
from station_portal.callbacks._secure import secure_callback
from station_portal.db import utcnow
from station_portal.i18n import get_locale
from station_portal.labels import label
from station_portal.pages import orders as page
from station_portal.pages import shell
from station_portal.validate import as_id, mapping
from station_portal.web.context import read_session, signed_in_user
from station_portal.workorders.models import Kind
from station_portal.workorders.queries import CODES, GridRequest, list_orders


def _label_matches(op: str, label_text: str, code: str, wanted: str) -> bool | None:
    """Whether a label (or its code) passes a text filter; None for an unknown operator."""
    candidates = (label_text.lower(), code.lower())
    if op == "contains":
        return any(wanted in c for c in candidates)
    if op == "notContains":
        return all(wanted not in c for c in candidates)
    if op == "equals":
        return wanted in candidates
    if op == "notEqual":
        return wanted not in candidates
    if op == "startsWith":
        return any(c.startswith(wanted) for c in candidates)
    if op == "endsWith":
        return any(c.endswith(wanted) for c in candidates)
    return None


def translate_filters(kind: Kind, filters: dict[str, Any]) -> dict[str, Any]:
    """Filters on labelled columns (status, class …) typed in the user's language → codes."""
    out = {}
    for column, spec in filters.items():
        table_of = page.LABELLED.get(column)
        if table_of is None:
            out[column] = spec
            continue
        op, text_value = spec.get("type"), spec.get("filter")
        if op in ("blank", "notBlank"):
            out[column] = {"type": op}
            continue
        if not isinstance(op, str) or not isinstance(text_value, str) or "conditions" in spec:
            continue  # not a filter this column offers: ignored
        table = table_of(kind)
        wanted = text_value.strip().lower()
        codes = [code for code in table
                 if _label_matches(op, label(table, code), str(code), wanted)]
        if column == "urgency":
            codes = [int(c) for c in codes]
        out[column] = {CODES: codes}
    return out


def register(app: Dash) -> None:
    @secure_callback(app, Output(page.GRID, "getRowsResponse"), Input(page.GRID, "getRowsRequest"),
                     State(page.KIND, "children"), roles=ALL_STAFF)
    def rows(request: Any, kind_value: Any):
        try:
            kind = Kind(kind_value)
        except ValueError:
            return no_update
        parsed = GridRequest.parse(request)
        parsed = GridRequest(parsed.start, parsed.end, parsed.sort,
                             translate_filters(kind, parsed.filters))
        data, total = list_orders(read_session(), signed_in_user().scope(), kind, parsed, utcnow(),
                                  get_locale())
        return {"rowData": page.grid_rows(kind, data), "rowCount": total}

    @secure_callback(app, Output(shell.URL, "href", allow_duplicate=True),
                     Input(page.GRID, "cellClicked"), roles=ALL_STAFF, prevent_initial_call=True)
    def open_order(clicked: Any):
        order_id = as_id(mapping(clicked).get("rowId"))
        return f"/order?id={order_id}" if order_id else no_update
