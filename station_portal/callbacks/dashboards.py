"""The dashboards' callbacks: fill on filter change, live patches, Excel export.

For each board (``pages/dashboards.DASHBOARDS``; the page arrives filled with the
default filters, its ``known`` store set, so nothing here runs as it opens):

- ``fill`` runs when a filter changes: it checks the filters against the
  caller's scope, computes the board and sends every panel;
- in the browser, the panels below the first screen are drawn from the layout
  once the first screen is (``assets/dashboards.js``);
- a clientside gate turns the interval's ticks into at most one poll in flight;
  ``poll`` first compares a cheap fingerprint of the scoped orders with the
  one the browser holds and answers "nothing changed" in a few bytes; when
  something did change it recomputes and sends, per panel whose data hash
  changed, a ``dash.Patch`` of the figure's trace data (the layout stays in
  the browser) or the table's rows;
- polls of boards with the same scope, filters and language share one computation per
  change in this process (``callbacks/_live.py``): the key holds the scope and the
  fingerprint, so no scope sees another's data and a change is always computed afresh;
- ``export`` writes the table the user sees to an .xlsx file.
"""

from __future__ import annotations

import io
import re
from collections.abc import Callable
from typing import Any

from dash import ClientsideFunction, Dash, Input, Output, Patch, State, ctx, dcc, no_update

from station_portal.analytics import dashboards as data
from station_portal.callbacks._live import LiveCache, scope_key
from station_portal.callbacks._secure import clientside_callback, secure_callback
from station_portal.db import utcnow
from station_portal.i18n import _, get_locale
from station_portal.pages import charts
from station_portal.pages import dashboards as page
from station_portal.pages.ui import feedback
from station_portal.timefmt import format_local
from station_portal.web.context import read_session, signed_in_user

Result = page.Result
LIVE = LiveCache()  # the boards' data by scope, filters, language and fingerprint, per process
DATA_KEYS = ("x", "y", "z", "lat", "lon", "text", "customdata", "marker", "name", "values")


# -- turning results into outputs ------------------------------------------------------------------
def figure_patch(fig: charts.Figure, known: dict[str, Any] | None) -> Any:
    """Only the traces' data (and the annotations) of a figure whose layout the browser
    already has.

    A figure that changes between empty and not, or changes its number of
    traces, is sent whole.
    """
    traces = fig["data"]
    if not known or known.get("e") != charts.is_empty(fig) or known.get("n") != len(traces):
        return fig
    patch = Patch()
    for i, trace in enumerate(traces):
        for key in DATA_KEYS:
            if key in trace:
                patch["data"][i][key] = trace[key]
    if "annotations" in fig["layout"]:  # notes that say what the data is (which forecast line)
        patch["layout"]["annotations"] = fig["layout"]["annotations"]
    return patch


def known_entries(board: page.Board, result: Result) -> dict[str, Any]:
    """The hashes a browser holding ``result`` has in its ``known`` store."""
    entries: dict[str, Any] = {"stats": {"h": page.digest(result["stats"])}}
    for panel in board.filled:
        entries[panel.id] = page.known_entry(panel, result[panel.id])
    return entries


def outputs_for(board: page.Board, result: Result, known: dict[str, Any], *,
                patch: bool, entries: dict[str, Any] | None = None) -> tuple[list[Any], dict[str, Any]]:
    """Panel outputs in declaration order, and the new known hashes (``entries``: computed
    already, by :func:`known_entries`)."""
    out: list[Any] = []
    entries = entries or known_entries(board, result)
    new_known: dict[str, Any] = {}
    known = known_hashes(known)
    stats_hash = entries["stats"]["h"]
    new_known["stats"] = {"h": stats_hash}
    out.append(no_update if patch and known.get("stats", {}).get("h") == stats_hash
               else page.stats_row(result["stats"]))
    for panel in board.filled:
        value = result[panel.id]
        new_known[panel.id] = entries[panel.id]
        before = known.get(panel.id)
        same = patch and isinstance(before, dict) and before.get("h") == new_known[panel.id]["h"]
        if panel.kind == page.GRAPH:
            out.append(no_update if same else
                       figure_patch(value, before if patch else None))
        elif panel.kind == page.TABLE:
            out.append(no_update if same else value.rows)
            if patch and before:  # headers and texts are in the browser already
                out += [no_update, no_update]
            else:
                grid_options = Patch()  # its own empty message, and no loading overlay
                grid_options["localeText"]["noRowsToShow"] = value.empty
                grid_options["loading"] = False
                out += [charts.column_defs(value.columns), grid_options]
        else:
            out.append(no_update if same else value)
    return out, new_known


def _output_list(board: page.Board, duplicate: bool) -> list[Output]:
    extra = {"allow_duplicate": True} if duplicate else {}
    outs = [Output(board.id("stats"), "children", **extra)]
    for panel in board.filled:
        if panel.kind == page.GRAPH:
            outs.append(Output(board.id(panel.id), "figure", **extra))
        elif panel.kind == page.TABLE:
            outs += [Output(board.id(panel.id), "rowData", **extra),
                     Output(board.id(panel.id), "columnDefs", **extra),
                     Output(board.id(panel.id), "dashGridOptions", **extra)]
        else:
            outs.append(Output(board.id(panel.id), "children", **extra))
    return outs


def _blank(board: page.Board) -> list[Any]:
    return [no_update] * len(_output_list(board, False))


def compute(board: page.Board, start: Any, end: Any, unit: Any) -> tuple[Result, str]:
    """The board for the signed-in caller, and its fingerprint; FilterError for bad filters."""
    return page.compute(board, signed_in_user(), start, end, unit)


def _computed(board: page.Board, session: Any, scope: Any, filters: data.Filters, now: Any,
              locale: str) -> tuple[Result, dict[str, Any]]:
    result = page.BUILDERS[board.key](session, scope, filters, now, locale)
    return result, known_entries(board, result)


def known_hashes(known: Any) -> dict[str, Any]:
    """What the browser says it holds, kept only where it has the shape we wrote."""
    if not isinstance(known, dict):
        return {}
    clean: dict[str, Any] = {k: v for k, v in known.items()
                             if isinstance(k, str) and isinstance(v, dict)}
    if isinstance(known.get("_print"), str):
        clean["_print"] = known["_print"]
    return clean


def register(app: Dash) -> None:
    for board in page.DASHBOARDS:
        _register_board(app, board)


def _register_board(app: Dash, board: page.Board) -> None:
    range_id, unit_id = board.id("range"), board.id("unit")

    @secure_callback(app, *_output_list(board, False), Output(board.id("known"), "data"),
                     Output(board.id("alert"), "children"),
                     Input(range_id, "start_date"), Input(range_id, "end_date"),
                     Input(unit_id, "value"), roles=board.roles, prevent_initial_call=True)
    def fill(start: Any, end: Any, unit: Any):
        try:
            result, print_ = compute(board, start, end, unit)
        except data.FilterError as exc:
            return *_blank(board), no_update, feedback(page.filter_message(str(exc)), "warning")
        out, known = outputs_for(board, result, {}, patch=False)
        known["_print"] = print_
        return *out, known, None

    # the panels below the first screen: drawn from the layout's `later` store after the
    # first content, in the browser; a refill (another fingerprint in `known`) cancels the rest
    clientside_callback(
        app, ClientsideFunction(namespace="portalLive", function_name="later"),
        Output(board.id("drawn"), "data"), Input(board.id("later"), "data"),
        Input(board.id("known"), "data"),
    )

    clientside_callback(
        app, ClientsideFunction(namespace="portalLive", function_name="gate"),
        Output(board.id("poll"), "data"), Output(board.id("inflight"), "data"),
        Input(board.id("interval"), "n_intervals"), State(board.id("inflight"), "data"),
        prevent_initial_call=True,
    )

    @secure_callback(app, *_output_list(board, True), Output(board.id("known"), "data",
                                                              allow_duplicate=True),
                     Output(board.id("inflight"), "data", allow_duplicate=True),
                     Output(board.id("live"), "children"),
                     Input(board.id("poll"), "data"), State(range_id, "start_date"),
                     State(range_id, "end_date"), State(unit_id, "value"),
                     State(board.id("known"), "data"),
                     roles=board.roles, prevent_initial_call=True,
                     passive_inputs=[f"{board.id('poll')}.data"])
    def poll(_tick: Any, start: Any, end: Any, unit: Any, known: Any):
        known = known_hashes(known)
        user = signed_in_user()
        session, scope, now = read_session(), user.scope(), utcnow()
        live = _("Live · checked %(time)s", time=format_local(now, seconds=True)[11:])
        try:
            filters = data.make_filters(session, scope, start, end, unit, now,
                                        board.default_days, board.ahead_days)
        except data.FilterError:
            return *_blank(board), no_update, None, live
        print_ = page.fingerprint(board, session, scope, filters, now)
        if not known or known.get("_print") == print_:
            return *_blank(board), ({**known, "_print": print_} if not known.get("_print")
                                    else no_update), None, live
        # computed once per scope, filters, language and fingerprint in this process: the
        # other boards showing the same take it from the cache (callbacks/_live.py)
        locale = get_locale()
        result, entries = LIVE.get(
            ("dashboard", board.key, scope_key(scope), filters, locale, print_),
            lambda: _computed(board, session, scope, filters, now, locale))
        out, new_known = outputs_for(board, result, known, patch=True, entries=entries)
        new_known["_print"] = print_
        return *out, new_known, None, live

    tables = board.tables
    if tables:
        @secure_callback(app, Output(board.id("download"), "data"),
                         *[Input(board.id(f"{t.id}-xlsx"), "n_clicks") for t in tables],
                         State(range_id, "start_date"), State(range_id, "end_date"),
                         State(unit_id, "value"), roles=board.roles, prevent_initial_call=True)
        def export(*args: Any):
            start, end, unit = args[-3:]
            clicked = ctx.triggered_id
            panel = next((t for t in tables if board.id(f"{t.id}-xlsx") == clicked), None)
            if panel is None or not any(args[:-3]):
                return no_update
            try:
                result, print_ = compute(board, start, end, unit)
            except data.FilterError:
                return no_update
            table: charts.Table = result[panel.id]
            first, last = print_.split(":")[:2]
            name = f"{board.key}-{panel.id}-{first}-{last}.xlsx"
            return dcc.send_bytes(xlsx_bytes(table, str(panel.title)), name)

    if board.key == "clients":
        # the layout draws the empty timeline: nothing to ask until a case is picked
        @secure_callback(app, Output(board.id("timeline"), "figure"),
                         Input(board.id("cases"), "selectedRows"), roles=board.roles,
                         prevent_initial_call=True)
        def timeline(selected: Any):
            order_id = selected[0].get("order_id") if isinstance(selected, list) and selected \
                and isinstance(selected[0], dict) else None
            user = signed_in_user()
            code, frame = data.case_timeline(read_session(), user.scope(), order_id)
            return charts.timeline_figure(frame, code)


FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _plain_text(value: Any) -> Any:
    """Text that Excel would run as a formula (an address typed as "=HYPERLINK(…)") is
    written as text: a leading apostrophe."""
    if isinstance(value, str) and value.startswith(FORMULA_START):
        return "'" + value
    return value


def xlsx_bytes(table: charts.Table, title: str) -> Callable[[io.BytesIO], None]:
    """A writer for dcc.send_bytes: one sheet with the table as the user sees it."""
    def write(buffer: io.BytesIO) -> None:
        import pandas as pd

        frame = table.frame().map(_plain_text)
        with pd.ExcelWriter(buffer, engine="openpyxl") as writer:
            # the panel's title without its on-screen hint in brackets
            sheet = (re.split(r"[（(]", title)[0].strip()[:31] or "Sheet1").replace("/", "-")
            for bad in "[]:*?\\":
                sheet = sheet.replace(bad, " ")
            frame.to_excel(writer, index=False, sheet_name=sheet)
            ws = writer.sheets[sheet]
            for i, column in enumerate(frame.columns, start=1):
                width = max([len(str(column))] + [len(str(v)) for v in frame[column].head(200)])
                ws.column_dimensions[ws.cell(1, i).column_letter].width = min(60, width + 4)
            ws.freeze_panes = "A2"
    return write

