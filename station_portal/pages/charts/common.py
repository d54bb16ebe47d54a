"""What every dashboard's figures share: figures as plain dicts (``trace``, ``new_figure``),
the empty-state figure, colours, label helpers, and tables (``Column``, ``Table``)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import pandas as pd

from station_portal.labels import (
    APPLICATION_STATUSES,
    CUSTOMER_CLASSES,
    ORDER_KINDS,
    PARK_STATUSES,
    REPAIR_CATEGORIES,
    REPAIR_STATUSES,
    label,
)
from station_portal.pages.ui import plotly_text

SLA_COLOURS = {"on_track": "#2ca02c", "at_risk": "#ff9800", "overdue": "#d62728",
               "no_limit": "#7f7f7f", None: "#7f7f7f"}


KIND_COLOURS = {"repair": "#1f77b4", "application": "#9467bd", "park_case": "#17becf"}


KIND_SIZES = {"repair": 9, "application": 12, "park_case": 15}


STATUS_TABLES = {"repair": REPAIR_STATUSES, "application": APPLICATION_STATUSES,
                 "park_case": PARK_STATUSES}


RED_TO_GREEN = [[0, "#d73027"], [0.5, "#fee08b"], [1, "#1a9850"]]  # plotly.js has no "RdYlGn"


DAY_AXIS = {"type": "date", "tickformat": "%m-%d", "minor": {"dtick": 86400000.0}}


FONT = "system-ui, -apple-system, 'PingFang SC', 'Microsoft YaHei', 'Noto Sans CJK SC', sans-serif"


Figure = dict[str, Any]  # {"data": [trace, …], "layout": {…}}: what dcc.Graph takes

# A trace's properties that carry data (names of units, crews, clients, projects, parks …
# typed by users) into what plotly.js draws: text on and beside the marks, hover labels,
# category tick labels and legend entries. Hover templates, titles and annotations are ours.
DATA_TEXT_PROPS = frozenset({"text", "hovertext", "customdata", "x", "y", "labels", "name",
                             "parents", "ids"})
def trace(kind: str, **props: Any) -> dict[str, Any]:
    """A trace as a plain dict (plotly's graph objects validate every property: too slow for a
    dashboard that answers in milliseconds). ``marker_color`` style keys are nested. Text in
    the data properties (:data:`DATA_TEXT_PROPS`) goes through :func:`plotly_text`."""
    out: dict[str, Any] = {"type": kind}
    for key, value in props.items():
        if "_" in key and key.split("_", 1)[0] in ("marker", "line"):
            outer, inner = key.split("_", 1)
            out.setdefault(outer, {})[inner] = value
        elif key in DATA_TEXT_PROPS:
            out[key] = plotly_text(value)
        else:
            out[key] = value
    return out


def new_figure(traces: list[dict[str, Any]] | None = None) -> Figure:
    return {"data": list(traces or []), "layout": {}}


def update_layout(fig: Figure, **layout: Any) -> None:
    fig["layout"].update(layout)


def figure_layout(**extra: Any) -> dict[str, Any]:
    # the chart's toolbar sits in the top margin, not over the data
    base = {"margin": {"l": 48, "r": 16, "t": 36, "b": 40}, "font": {"family": FONT, "size": 12},
            "paper_bgcolor": "rgba(0,0,0,0)", "plot_bgcolor": "#ffffff",
            "legend": {"orientation": "h", "y": -0.18}, "uirevision": "keep", "height": 320}
    base.update(extra)
    return base


def empty_figure(message: str, height: int = 320) -> Figure:
    """A figure that explains why there is nothing to draw."""
    fig = new_figure()
    update_layout(fig, **figure_layout(height=height), xaxis={"visible": False},
                  yaxis={"visible": False}, annotations=[{
                          "text": message, "showarrow": False, "xref": "paper", "yref": "paper",
                          "x": 0.5, "y": 0.5, "font": {"size": 14, "color": "#6c757d"}}])
    return fig


def is_empty(fig: Figure) -> bool:
    return not fig["data"]


def is_figure(value: Any) -> bool:
    return isinstance(value, dict) and "data" in value and "layout" in value


def placeholder_figure(height: int = 320) -> Figure:
    """A blank chart of the given height: where a chart is drawn a moment later (the page
    below it does not move when it comes)."""
    fig = new_figure()
    update_layout(fig, **figure_layout(height=height), xaxis={"visible": False},
                  yaxis={"visible": False})
    return fig


def category_label(kind: str, code: str) -> str:
    if kind == "repair":
        return label(REPAIR_CATEGORIES, code)
    if kind == "application":
        return label(CUSTOMER_CLASSES, code)
    return label(ORDER_KINDS, kind)


def status_label(kind: str, code: str) -> str:
    return label(STATUS_TABLES.get(kind, {}), code)


def _pct(value: Any) -> float | None:
    return None if value is None or pd.isna(value) else round(100 * float(value), 1)


def _num(value: Any, digits: int = 1) -> float | None:
    return None if value is None or pd.isna(value) else round(float(value), digits)


@dataclass(frozen=True)
class Column:
    field: str
    header: str
    kind: str = "text"  # text | number | percent
    width: int | None = None  # narrowest it may get, in pixels (else the kind's default)
    pinned: bool = False  # stays at the left when the table scrolls sideways (phones)
    alert: str | None = None  # a row field that, when true, draws this cell in red


@dataclass(frozen=True)
class Table:
    columns: tuple[Column, ...]
    rows: list[dict[str, Any]]
    empty: str  # what to say when there are no rows

    def frame(self) -> pd.DataFrame:
        """The table as the user sees it (headers in their language), for Excel."""
        data = pd.DataFrame(self.rows, columns=[c.field for c in self.columns])
        return data.rename(columns={c.field: c.header for c in self.columns})


def column_defs(columns: Sequence[Column]) -> list[dict[str, Any]]:
    defs = []
    for c in columns:
        item: dict[str, Any] = {"field": c.field, "headerName": c.header}
        if c.kind == "text":
            item["flex"], item["minWidth"] = 2, 140  # names and addresses get the room
        if c.kind in ("number", "percent"):
            item["type"] = "rightAligned"
            item["minWidth"] = 130
            item["filter"] = "agNumberColumnFilter"
        if c.kind == "percent":
            item["cellClassRules"] = {"portal-sla-overdue": "params.value !== null && params.value < 90"}
        if c.width is not None:
            item["minWidth"] = c.width
            if c.width < 100:  # a narrow column's header keeps its room for the words
                item["suppressHeaderFilterButton"] = True
        if c.pinned:  # a pinned column does not flex: without a width it takes 200 px
            item["pinned"], item["width"] = "left", c.width or 140
        if c.alert is not None:
            item["cellClassRules"] = {"portal-sla-overdue": f"params.data && params.data.{c.alert} === true"}
        defs.append(item)
    return defs
