"""Building Dash callback requests from the app's own callback map, as the browser does."""

from __future__ import annotations

from typing import Any

from dash import Dash
from flask import Flask

from station_portal.web.context import EXTENSION
from station_portal.web.guard import output_specs as guard_output_specs

DASH_UPDATE = "/_dash-update-component"


def dash_app_of(app: Flask) -> Dash:
    return app.extensions[EXTENSION].dash


def output_specs(callback_id: str) -> list[dict[str, str]]:
    """``"..a.children...b.figure.."`` → [{"id": "a", "property": "children"}, …]."""
    return [{"id": cid, "property": prop} for cid, prop in guard_output_specs(callback_id)]


def _dep(spec: dict[str, Any], value: Any) -> dict[str, Any]:
    return {"id": spec["id"], "property": spec["property"], "value": value}


def body_for(app: Flask, callback_id: str, values: list[Any] | None = None,
             state: list[Any] | None = None, changed: int = 0) -> dict[str, Any]:
    """A request body for one callback, with the given input and state values."""
    entry = dash_app_of(app).callback_map[callback_id]
    inputs, states = entry["inputs"], entry.get("state", [])
    values = values if values is not None else [None] * len(inputs)
    state = state if state is not None else [None] * len(states)
    outputs = output_specs(callback_id)
    return {
        "output": callback_id,
        "outputs": outputs if callback_id.startswith("..") else outputs[0],
        "inputs": [_dep(i, v) for i, v in zip(inputs, values, strict=True)],
        "state": [_dep(s, v) for s, v in zip(states, state, strict=True)],
        "changedPropIds": [f"{inputs[changed]['id']}.{inputs[changed]['property']}"]
        if inputs else [],
    }


def callback_id_for(app: Flask, output_id: str, prop: str) -> str:
    """The callback whose outputs include ``output_id.prop`` (the first one)."""
    for key in dash_app_of(app).callback_map:
        if any(s["id"] == output_id and s["property"].split("@")[0] == prop
               for s in output_specs(key)):
            return key
    raise KeyError(f"{output_id}.{prop}")


def call(client, app: Flask, output_id: str, prop: str, values: list[Any] | None = None,
         state: list[Any] | None = None, changed: int = 0):
    key = callback_id_for(app, output_id, prop)
    return client.post(DASH_UPDATE, json=body_for(app, key, values, state, changed))


def text_of(response) -> str:
    """A JSON answer as readable text (Dash escapes non-ASCII characters)."""
    import json

    return json.dumps(response.json, ensure_ascii=False)


def order_fields(**values: Any) -> list[Any]:
    """The order page's action fields in the submit callback's order, e.g.
    ``order_fields(note="…", pause_reason="customer_documents")`` (names as in
    ``pages.order_detail``: crew, unit, pause_reason, supply, reason, application, visit,
    visit_date, note)."""
    from station_portal.pages import order_detail as page

    by_id = {getattr(page, name.upper()): value for name, value in values.items()}
    return [by_id.get(field) for field in page.FIELD_ROWS]
