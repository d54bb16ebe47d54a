"""Data grids (AG Grid community) with the portal's defaults and translated texts."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import dash_ag_grid as dag

from station_portal.i18n import _


def locale_text() -> dict[str, str]:
    """AG Grid's own texts (paging, filters) in the user's language."""
    return {
        "page": _("Page"), "of": _("of"), "to": _("to"), "more": _("more"),
        "next": _("Next"), "previous": _("Previous"), "first": _("First"), "last": _("Last"),
        "pageSizeSelectorLabel": _("Rows per page:"),
        "ariaPageSizeSelectorLabel": _("Rows per page"),
        "noRowsToShow": _("Nothing to show"), "loadingOoo": _("Loading…"),
        "filterOoo": _("Filter…"), "searchOoo": _("Search…"),
        "contains": _("Contains"), "notContains": _("Does not contain"),
        "equals": _("Equals"), "notEqual": _("Does not equal"),
        "startsWith": _("Starts with"), "endsWith": _("Ends with"),
        "blank": _("Blank"), "notBlank": _("Not blank"),
        "andCondition": _("AND"), "orCondition": _("OR"),
        "applyFilter": _("Apply"), "resetFilter": _("Reset"), "clearFilter": _("Clear"),
    }


def data_grid(id_: str, columns: Sequence[tuple[str, str]], rows: Sequence[dict[str, Any]] = (),
              *, page_size: int = 15, clickable: bool = False, **options: Any) -> dag.AgGrid:
    """A sortable, filterable, paged grid; rows need a string ``id`` field when ``clickable``."""
    grid_options = {
        "pagination": True,
        "paginationPageSize": page_size,
        "paginationPageSizeSelector": sorted({page_size, 15, 50, 200}),
        "domLayout": "autoHeight",
        "localeText": locale_text(),
        "suppressCellFocus": not clickable,
        "enableCellTextSelection": True,
        **options.pop("grid_options", {}),
    }
    return dag.AgGrid(
        id=id_,
        columnDefs=[{"field": key, "headerName": name} for key, name in columns],
        rowData=list(rows),
        defaultColDef={"sortable": True, "filter": True, "floatingFilter": True,
                       "resizable": True, "flex": 1, "minWidth": 110, "wrapText": True,
                       "autoHeight": True},
        dashGridOptions=grid_options,
        getRowId="params.data.id" if clickable else None,
        className="portal-grid" + (" portal-grid-clickable" if clickable else ""),
        **options,
    )
