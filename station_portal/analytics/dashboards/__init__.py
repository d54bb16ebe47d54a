"""The data of the four role dashboards, scoped and filtered on the server: one module
per board (``operations``, ``workload``, ``clients``, ``kpis``) and what they share
(``common``: filters, names, the change fingerprint).

Each function takes the caller's :class:`~station_portal.auth.scope.Scope`
and a :class:`Filters` (date range, unit) and returns small DataFrames: sums
read from the snapshot tables (:class:`~station_portal.analytics.daily.Daily`)
or aggregates of the open orders computed in SQL. Nothing here loads the
history into memory. Figures and tables are built from these frames by pure
functions in ``pages/charts/``. This package re-exports each board's public names.
"""

from __future__ import annotations

from station_portal.analytics.dashboards.clients import (
    VISIT_COLUMNS,
    Clients,
    case_timeline,
    client_visits,
    clients,
)
from station_portal.analytics.dashboards.common import (
    AREA_TYPES,
    CLASSES,
    LEAGUE_KINDS,
    MAX_RANGE_DAYS,
    REPAIR_CLOCKS,
    FilterError,
    Filters,
    Names,
    default_range,
    fingerprint,
    make_filters,
    unit_options,
)
from station_portal.analytics.dashboards.kpis import (
    Kpis,
    kpis,
)
from station_portal.analytics.dashboards.operations import (
    MAP_DETAIL,
    Operations,
    cell_degrees,
    operations,
)
from station_portal.analytics.dashboards.workload import (
    Workload,
    crew_loads,
    every_day,
    workload,
)

__all__ = [
    "AREA_TYPES",
    "CLASSES",
    "LEAGUE_KINDS",
    "MAP_DETAIL",
    "MAX_RANGE_DAYS",
    "REPAIR_CLOCKS",
    "VISIT_COLUMNS",
    "Clients",
    "FilterError",
    "Filters",
    "Kpis",
    "Names",
    "Operations",
    "Workload",
    "case_timeline",
    "cell_degrees",
    "client_visits",
    "clients",
    "crew_loads",
    "default_range",
    "every_day",
    "fingerprint",
    "kpis",
    "make_filters",
    "operations",
    "unit_options",
    "workload",
]
