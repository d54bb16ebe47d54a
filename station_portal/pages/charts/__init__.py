"""Dashboard figures and tables as pure functions: DataFrame in, figure or rows out; one
module per board (``operations``, ``workload``, ``clients``, ``kpis``) and what they
share (``common``: plain-dict figures, the empty state, colours, ``Table``).

Every builder takes the frames of ``analytics.dashboards`` and returns a
Plotly figure (or a :class:`Table`). A builder with nothing to show returns an
empty-state figure that says why, never a blank chart. Tested without a
browser in tests/unit/test_charts.py. This package re-exports each board's public names.
"""

from __future__ import annotations

from station_portal.pages.charts.clients import (
    capacity_table,
    cases_table,
    load_text,
    load_unit,
    parks_figure,
    pipeline_figure,
    timeline_figure,
    visits_table,
)
from station_portal.pages.charts.common import (
    DAY_AXIS,
    FONT,
    KIND_COLOURS,
    KIND_SIZES,
    RED_TO_GREEN,
    SLA_COLOURS,
    STATUS_TABLES,
    Column,
    Figure,
    Table,
    category_label,
    column_defs,
    empty_figure,
    figure_layout,
    is_empty,
    is_figure,
    new_figure,
    placeholder_figure,
    status_label,
    trace,
    update_layout,
)
from station_portal.pages.charts.kpis import (
    attribution_figure,
    compliance_heatmap,
    compliance_table,
    electricity_table,
    league_table,
    notice_table,
    repairs_figure,
    satisfaction_table,
    stage_days_figure,
)
from station_portal.pages.charts.operations import (
    arrivals_figure,
    at_risk_table,
    orders_map,
    received_bars,
    status_bars,
)
from station_portal.pages.charts.workload import (
    category_figure,
    crew_workload_table,
    forecast_names,
    forecast_note,
    per_day_figure,
    unit_workload_table,
    year_figure,
)

__all__ = [
    "DAY_AXIS",
    "FONT",
    "KIND_COLOURS",
    "KIND_SIZES",
    "RED_TO_GREEN",
    "SLA_COLOURS",
    "STATUS_TABLES",
    "Column",
    "Figure",
    "Table",
    "arrivals_figure",
    "at_risk_table",
    "attribution_figure",
    "capacity_table",
    "cases_table",
    "category_figure",
    "category_label",
    "column_defs",
    "compliance_heatmap",
    "compliance_table",
    "crew_workload_table",
    "electricity_table",
    "empty_figure",
    "figure_layout",
    "forecast_names",
    "forecast_note",
    "is_empty",
    "is_figure",
    "league_table",
    "load_text",
    "load_unit",
    "new_figure",
    "notice_table",
    "orders_map",
    "parks_figure",
    "per_day_figure",
    "pipeline_figure",
    "placeholder_figure",
    "received_bars",
    "repairs_figure",
    "satisfaction_table",
    "stage_days_figure",
    "status_bars",
    "status_label",
    "timeline_figure",
    "trace",
    "unit_workload_table",
    "update_layout",
    "visits_table",
    "year_figure",
]
