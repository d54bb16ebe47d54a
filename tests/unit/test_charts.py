"""Dashboard figures and tables from known frames; patches; Excel."""

from __future__ import annotations

import io
from datetime import UTC, date, datetime, timedelta

import numpy as np
import pandas as pd
import pytest
from openpyxl import load_workbook

from station_portal.analytics.forecast import forecast_daily
from station_portal.callbacks.dashboards import figure_patch, outputs_for, xlsx_bytes
from station_portal.i18n import set_locale
from station_portal.pages import charts
from station_portal.pages import dashboards as page


@pytest.fixture(autouse=True)
def english():
    set_locale("en")


def annotation(fig) -> str:
    notes = fig["layout"].get("annotations")
    return notes[0]["text"] if notes else ""


def test_every_builder_explains_an_empty_frame():
    empty = pd.DataFrame(columns=["kind", "status", "n", "area_type", "limit", "done", "late",
                                  "avg_minutes", "day", "received", "category", "overdue",
                                  "milestone", "load_kw", "park", "lat", "lon", "cases", "stage",
                                  "timed", "used", "avg_used", "holder", "late_by", "on_time",
                                  "what", "planned"])
    for builder in (charts.status_bars, charts.arrivals_figure, charts.received_bars,
                    charts.per_day_figure, charts.category_figure, charts.pipeline_figure,
                    charts.parks_figure, charts.timeline_figure, charts.compliance_heatmap,
                    charts.stage_days_figure, charts.attribution_figure, charts.repairs_figure):
        fig = builder(empty)
        assert charts.is_empty(fig), builder.__name__
        assert annotation(fig), builder.__name__
    assert "No open work orders" in annotation(charts.orders_map(empty, "en"))


def test_status_bars_stack_the_open_orders_by_kind_with_labels():
    counts = pd.DataFrame([("repair", "reported", 4), ("repair", "en_route", 2),
                           ("application", "in_progress", 7)], columns=["kind", "status", "n"])
    fig = charts.status_bars(counts)
    assert [t["name"] for t in fig["data"]] == ["Repair", "Connection application"]
    assert list(fig["data"][0]["x"]) == [4, 2]
    assert list(fig["data"][0]["y"]) == ["Reported", "En route"]
    assert fig["layout"]["barmode"] == "stack"


def test_the_arrivals_chart_draws_the_commitments():
    arrivals = pd.DataFrame([("urban", 45, 10, 1, 30.0), ("rural", 90, 4, 0, 60.0),
                             ("remote", 120, 0, 0, None)],
                            columns=["area_type", "limit", "done", "late", "avg_minutes"])
    fig = charts.arrivals_figure(arrivals)
    bars, marks = fig["data"]
    assert list(bars["y"]) == [30.0, 60.0, None]
    assert list(marks["y"]) == [45, 90, 120]
    assert bars["customdata"][0][1] == 90.0  # 9 of 10 on time


def test_the_map_has_a_layer_per_kind_coloured_by_time_limit():
    frame = pd.DataFrame([
        {"kind": "repair", "sla": "overdue", "lat": 43.8, "lon": 126.5, "n": 1, "code": "R1",
         "status": "reported"},
        {"kind": "repair", "sla": "on_track", "lat": 43.81, "lon": 126.51, "n": 1, "code": "R2",
         "status": "dispatched"},
        {"kind": "park_case", "sla": None, "lat": 43.7, "lon": 126.4, "n": 1, "code": "P1",
         "status": "open"},
    ])
    fig = charts.orders_map(frame, "en")
    assert [t["name"] for t in fig["data"]] == ["Repair", "Park case", "Repair", "Park case",
                                                "On track", "At risk", "Overdue"]
    assert [t.get("showlegend", True) for t in fig["data"]][:4] == [False, False, True, True]
    assert list(fig["data"][0]["marker"]["color"]) == [charts.SLA_COLOURS["overdue"],
                                                       charts.SLA_COLOURS["on_track"]]
    assert fig["data"][0]["text"][0] == "R1 · Reported"
    assert fig["data"][0]["customdata"][0] == "Overdue"


def test_a_crowded_map_draws_cells_sized_by_their_orders():
    cells = pd.DataFrame([
        {"kind": "repair", "sla": "on_track", "lat": 43.8, "lon": 126.5, "n": 1, "code": "",
         "status": ""},
        {"kind": "repair", "sla": "on_track", "lat": 43.81, "lon": 126.5, "n": 50, "code": "",
         "status": ""},
    ])
    fig = charts.orders_map(cells, "en", cells=True)
    sizes = fig["data"][0]["marker"]["size"]
    assert sizes[0] < sizes[1] <= 40
    assert fig["data"][0]["text"] == ["Orders here: 1", "Orders here: 50"]


def test_the_heatmap_leaves_out_stages_without_a_limit():
    compliance = pd.DataFrame([
        ("supply_plan", "hv_single", 10, 10, 2, 50.0, 0.8, 5.0),
        ("archiving", "hv_single", 10, 0, 0, 30.0, None, 3.0),
        ("total", "hv_single", 10, 10, 1, 200.0, 0.9, 20.0),
    ], columns=["stage", "category", "done", "timed", "late", "used", "on_time", "avg_used"])
    fig = charts.compliance_heatmap(compliance)
    assert list(fig["data"][0]["y"]) == ["Supply plan reply", "Whole process (utility's time)"]
    assert [list(row) for row in fig["data"][0]["z"]] == [[80.0], [90.0]]


def test_the_forecast_note_reports_its_held_out_error():
    days = pd.date_range("2025-11-01", periods=365, freq="D")
    history = pd.Series([10 + (d.weekday() < 5) * 5 for d in days], index=days, dtype=float)
    forecast = forecast_daily(history)
    note = charts.forecast_note(forecast)
    assert "held-out weeks" in note and f"{forecast.weekly_mape:.0f} %" in note
    assert f"the band held {round(100 * forecast.coverage)} % of the 56 held-out days" in note
    year = pd.DataFrame({"day": [d.date() for d in days], "received": history.to_numpy()})
    fig = charts.year_figure(year, forecast)
    coverage = round(100 * forecast.coverage)
    assert [t["name"] for t in fig["data"]] == [
        "Per day", "7-day mean", f"80 % band (held {coverage} % of held-out days)", "Forecast: model"]
    assert fig["data"][3]["x"][0] == (days[-1] + timedelta(days=1)).date().isoformat()
    assert annotation(fig).startswith("Drawn: the model, better than")


def test_tables_carry_translated_headers_and_rounded_values():
    league = pd.DataFrame([{"rank": 1, "unit": "Station A", "arrival": 0.9444, "restoration": None,
                            "stages": 1.0, "overdue": 3, "score": 0.97}])
    table = charts.league_table(league)
    assert table.rows == [{"rank": 1, "unit": "Station A", "arrival": 94.4, "restoration": None,
                           "stages": 100.0, "overdue": 3, "score": 97.0}]
    assert list(table.frame().columns)[:3] == ["Rank", "Station or supply office",
                                               "Arrival on time (%)"]
    set_locale("zh_CN")
    assert charts.league_table(league).frame().columns[0] == "排名"


def test_the_excel_file_holds_what_the_user_sees():
    now = datetime(2026, 7, 1, 2, 0, tzinfo=UTC)
    frame = pd.DataFrame([{"id": 5, "code": "R202607010000005", "kind": "repair",
                           "status": "reported", "stage": None, "sla": "overdue",
                           "due_at": now - timedelta(hours=1), "holder": "JL-CY-S-R1",
                           "address": "Jiefang Road 1"}])
    table = charts.at_risk_table(frame, now)
    buffer = io.BytesIO()
    xlsx_bytes(table, "At risk or overdue now")(buffer)
    sheet = load_workbook(io.BytesIO(buffer.getvalue())).active
    assert sheet.title == "At risk or overdue now"
    assert [c.value for c in sheet[1]][:4] == ["Order", "Kind", "Status or stage", "Time limit"]
    assert [c.value for c in sheet[2]][:4] == ["R202607010000005", "Repair", "Reported", "Overdue"]
    # the one figure of lateness: minutes for a repair, in words, with the due time at 24:00
    # style for a working-day deadline (the same words as on the order page)
    assert sheet.cell(2, 6).value == "overdue by 60 min"
    application = charts.at_risk_table(frame.assign(
        kind="application", stage="supply_plan",
        due_at=datetime(2026, 7, 1, 16, 0, tzinfo=UTC)), now)  # 24:00 Wed 1 July, Shanghai
    assert application.rows[0]["due"] == "2026-07-01 24:00"
    assert application.rows[0]["standing"] == "1 working days left"


def test_a_patch_sends_only_trace_data_when_the_shape_is_unchanged():
    counts = pd.DataFrame([("repair", "reported", 4)], columns=["kind", "status", "n"])
    fig = charts.status_bars(counts)
    patch = figure_patch(fig, {"h": "x", "n": 1, "e": False})
    ops = patch.to_plotly_json()["operations"]
    assert ops and all(op["location"][0] == "data" for op in ops)
    assert {tuple(op["location"][:3]) for op in ops} >= {("data", 0, "x"), ("data", 0, "y")}
    # a figure that was empty before (or has another number of traces) is sent whole
    assert figure_patch(fig, {"h": "x", "n": 1, "e": True}) is fig
    assert figure_patch(fig, {"h": "x", "n": 2, "e": False}) is fig


def test_unchanged_panels_are_not_sent_again():
    board = page.OPERATIONS
    result = {
        "stats": [("Open orders", 3, "bi-list", None)],
        "map": charts.orders_map(pd.DataFrame(), "en"),
        "status": charts.status_bars(pd.DataFrame([("repair", "reported", 4)],
                                                  columns=["kind", "status", "n"])),
        "risk": charts.at_risk_table(pd.DataFrame(columns=[
            "id", "code", "kind", "status", "stage", "sla", "due_at", "holder", "address"]),
            datetime.now(UTC)),
        "arrivals": charts.empty_figure("none"),
        "received": charts.empty_figure("none"),
    }
    first, known = outputs_for(board, result, {}, patch=False)
    again, _known = outputs_for(board, result, known, patch=True)
    from dash import no_update

    assert all(value is no_update for value in again)
    assert first[0] is not no_update
    result["status"] = charts.status_bars(pd.DataFrame([("repair", "reported", 5)],
                                                       columns=["kind", "status", "n"]))
    changed, _known = outputs_for(board, result, known, patch=True)
    sent = [v for v in changed if v is not no_update]
    assert len(sent) == 1 and type(sent[0]).__name__ == "Patch"


def test_each_board_draws_its_first_row_with_the_page_and_the_rest_just_after():
    """The first 12 columns of panels are the first screen at 1366 px; every chart and table
    below them is drawn after the first content, the notes and the case timeline at once."""
    assert [p.id for p in page.OPERATIONS.first_row] == ["map", "status"]
    assert [p.id for p in page.WORKLOAD.first_row] == ["units", "categories"]
    assert [p.id for p in page.KPIS.first_row] == ["league"]
    for board in page.DASHBOARDS:
        first, later = board.first_row, board.later
        assert sum(p.width for p in first) == 12, board.key
        assert not set(first) & set(later)
        assert all(p.kind in (page.GRAPH, page.TABLE) and not p.own_callback for p in later)
        assert {p for p in board.panels if p not in first and p.kind != page.NOTE
                and not p.own_callback} == set(later), board.key


def test_a_panel_drawn_later_keeps_its_place_and_says_it_is_loading():
    year = charts.year_figure(pd.DataFrame({"day": [date(2026, 7, 1)], "received": [3]}),
                              forecast_daily(pd.Series(dtype=float)))
    waiting = page.waiting_props(page.WORKLOAD, page.WORKLOAD.panels[4], year)["figure"]
    assert charts.is_empty(waiting)
    assert waiting["layout"]["height"] == year["layout"]["height"] == 340  # nothing moves
    crews = page.WORKLOAD.panels[2]
    table = page.waiting_props(page.WORKLOAD, crews)
    assert table["rowData"] == [] and table["dashGridOptions"]["loading"] is True
    shown = page.data_props(page.WORKLOAD, crews, charts.crew_workload_table(crews_frame()))
    assert shown["dashGridOptions"]["loading"] is False and shown["rowData"]
    # a refill by the callback (another filter) takes the overlay away too
    result = {"stats": [], "units": charts.unit_workload_table(pd.DataFrame(
        columns=["unit", "received", "closed", "backlog", "overdue"])),
        "crews": charts.crew_workload_table(crews_frame()), "days": year, "categories": year,
        "year": year, "forecast": "note"}
    out, _known = outputs_for(page.WORKLOAD, result, {}, patch=False)
    patches = [v.to_plotly_json()["operations"] for v in out if type(v).__name__ == "Patch"]
    assert patches and all({"operation": "Assign", "location": ["loading"], "params":
                            {"value": False}} in ops for ops in patches)


def test_dates_are_days_in_the_received_chart():
    received = pd.DataFrame([(date(2026, 7, 1), "repair", 3), (date(2026, 7, 2), "repair", 5)],
                            columns=["day", "kind", "received"])
    fig = charts.received_bars(received)
    assert list(fig["data"][0]["x"]) == ["2026-07-01", "2026-07-02"]
    assert list(fig["data"][0]["y"]) == [3, 5]


def test_the_territories_lie_under_the_orders():
    from station_portal.org.queries import TerritoryFeature

    area = TerritoryFeature(unit_id=7, code="S", kind="service_station", name_zh="站",
                            name_en="Station", area_type="urban", lat=43.8, lon=126.5,
                            parent_id=None, path="/7/", geometry={
                                "type": "Polygon", "coordinates": [[[126.4, 43.7], [126.6, 43.7],
                                                                    [126.6, 43.9], [126.4, 43.7]]]})
    points = pd.DataFrame([{"kind": "repair", "sla": "on_track", "lat": 43.8, "lon": 126.5,
                            "n": 1, "code": "R1", "status": "reported"}])
    fig = charts.orders_map(points, "en", areas=[area])
    assert fig["data"][0]["type"] == "choroplethmap"
    assert fig["data"][0]["locations"] == [7] and fig["data"][0]["text"] == ["Station"]
    assert fig["data"][1]["type"] == "scattermap"


def test_text_that_excel_would_run_is_written_as_text():
    table = charts.Table((charts.Column("a", "Address"),),
                         [{"a": "=HYPERLINK(\"http://x\",\"click\")"}, {"a": "+1"}, {"a": "Road 1"}],
                         "none")
    buffer = io.BytesIO()
    xlsx_bytes(table, "Sheet")(buffer)
    sheet = load_workbook(io.BytesIO(buffer.getvalue())).active
    cells = [sheet.cell(r, 1) for r in (2, 3, 4)]
    assert [c.data_type for c in cells] == ["s", "s", "s"]
    assert cells[0].value.startswith("'=HYPERLINK") and cells[2].value == "Road 1"


def test_the_maps_lay_the_deployments_tiles_underneath():
    points = pd.DataFrame([{"kind": "repair", "sla": "on_track", "lat": 43.8, "lon": 126.5,
                            "n": 1, "code": "R1", "status": "reported"}])
    tiles = ("https://tiles.internal/{z}/{x}/{y}.png", "© internal")
    layers = charts.orders_map(points, "en", tiles=tiles)["layout"]["map"]["layers"]
    assert layers[0]["source"] == [tiles[0]] and layers[0]["sourceattribution"] == tiles[1]
    assert charts.orders_map(points, "en")["layout"]["map"]["layers"] == []


def test_only_whole_weeks_get_a_weekly_total():
    # Wednesday 1 July to Sunday 19 July 2026: only 6–12 and 13–19 July are whole weeks
    days = [date(2026, 7, 1) + timedelta(days=i) for i in range(19)]
    per_day = pd.DataFrame({"day": days, "received": [1] * 19})
    weekly = charts.per_day_figure(per_day)["data"][1]
    assert weekly["x"] == ["2026-07-06", "2026-07-12", None, "2026-07-13", "2026-07-19", None]
    assert weekly["y"] == [7, 7, None, 7, 7, None]


def test_the_forecast_note_says_when_the_plain_average_did_better():
    from station_portal.analytics.forecast import BASELINE, Forecast

    worse = Forecast(days=[date(2026, 7, 1)], mean=[1.0], low=[0.0], high=[2.0], weekly_mape=31.0,
                     naive_mape=19.0, coverage=0.79, holdout_weeks=8, method="m", drawn=BASELINE)
    note = charts.forecast_note(worse)
    assert note.startswith("Forecast drawn: the plain four-week average")
    assert "because it did better than the model" in note
    assert "the model was off by 31 % per week, the plain four-week average by 19 %" in note
    assert "held 79 % of the 56 held-out days (aim: 80 %)" in note
    better = Forecast(days=[date(2026, 7, 1)], mean=[1.0], low=[0.0], high=[2.0], weekly_mape=10.0,
                      naive_mape=19.0, coverage=0.8, holdout_weeks=8, method="m")
    assert "did better" not in charts.forecast_note(better)
    assert charts.forecast_note(better).startswith("Forecast drawn: the model")


def test_where_the_plain_average_won_the_chart_draws_it_and_says_so():
    days = pd.date_range("2025-11-03", periods=365, freq="D")
    flat = pd.Series(np.random.default_rng(0).poisson(20.0, len(days)), index=days, dtype=float)
    forecast = forecast_daily(flat)
    assert forecast.naive_mape < forecast.weekly_mape  # nothing to model: the average wins
    year = pd.DataFrame({"day": [d.date() for d in days], "received": flat.to_numpy()})
    fig = charts.year_figure(year, forecast)
    line = fig["data"][3]
    assert line["name"] == "Forecast: four-week average"
    assert set(line["y"]) == {round(flat.iloc[-28:].mean(), 2)}  # the flat four-week average
    assert annotation(fig) == ("Drawn: the plain four-week average, better than the model on "
                               "the held-out weeks")


def test_categories_say_which_kind_of_work_they_belong_to():
    frame = pd.DataFrame([("repair", "low_voltage", 5, 1), ("application", "lv_resident", 3, 0),
                          ("application", "hv_single", 0, 0)],
                         columns=["kind", "category", "received", "overdue"])
    fig = charts.category_figure(frame)
    assert list(fig["data"][0]["y"]) == ["Connection application · LV resident",
                                         "Repair · Low voltage"]  # the empty class left out


def test_the_sheet_is_named_after_the_panel_without_its_hint():
    table = charts.Table((charts.Column("a", "A"),), [{"a": 1}], "none")
    for title, sheet_name in (("Cases (pick one for its timeline)", "Cases"),
                              ("案例（选中一条查看时间线）", "案例")):
        buffer = io.BytesIO()
        xlsx_bytes(table, title)(buffer)
        assert load_workbook(io.BytesIO(buffer.getvalue())).active.title == sheet_name


# Measured in Chromium on the workload board: a full-width card's grid is 1293 px wide in a
# 1366 px window (page padding, card padding and borders, a 15 px scroll bar) and 317 px on a
# 375 px phone (scroll bars overlaid), so 302 px on a 360 px phone.
GRID_AT_1366 = 1293
GRID_ON_A_PHONE = 302


def crews_frame() -> pd.DataFrame:
    return pd.DataFrame([
        {"crew": "JL-CY-S-R1", "group": "Repair group", "members": "Li ★, Wang", "jobs": 12,
         "site_hours": 14.5, "open_jobs": 1, "capacity": 3},
        {"crew": "JL-CY-S-R2", "group": "Repair group", "members": "Zhao ★", "jobs": 3,
         "site_hours": 2.0, "open_jobs": 5, "capacity": 3},
        {"crew": "JL-CY-S-R3", "group": "Repair group", "members": "Sun ★", "jobs": 0,
         "site_hours": 0.0, "open_jobs": 3, "capacity": 3},
    ])


def test_the_crew_table_shows_load_against_capacity_first_and_marks_the_overloaded():
    table = charts.crew_workload_table(crews_frame())
    headers = [c.header for c in table.columns]
    assert headers[:3] == ["Crew", "Open jobs now", "Can carry"]
    # the overloaded crew on top, then the fullest; at capacity is not over it
    assert [(r["crew"], r["open_jobs"], r["capacity"], r["overloaded"]) for r in table.rows] == [
        ("JL-CY-S-R2", 5, 3, True), ("JL-CY-S-R3", 3, 3, False), ("JL-CY-S-R1", 1, 3, False)]
    defs = {d["field"]: d for d in charts.column_defs(table.columns)}
    assert defs["crew"]["pinned"] == "left"
    rule = defs["open_jobs"]["cellClassRules"]["portal-sla-overdue"]
    assert "overloaded" in rule
    assert "cellClassRules" not in defs["capacity"]
    # Excel gets what the user sees: the load columns first, no helper fields
    assert list(table.frame().columns[:3]) == headers[:3] and "overloaded" not in table.frame()


def test_the_crew_table_fits_1366_px_and_a_phone_sees_the_load():
    defs = charts.column_defs(charts.crew_workload_table(crews_frame()).columns)
    widths = [d["minWidth"] for d in defs]
    assert sum(widths) <= GRID_AT_1366  # no column hidden behind a scroll bar at 1366 px
    assert sum(widths[:3]) <= GRID_ON_A_PHONE  # crew, open jobs, capacity: in sight on a phone
    assert [d["field"] for d in defs[:3]] == ["crew", "open_jobs", "capacity"]
    assert page.WORKLOAD.panels[[p.id for p in page.WORKLOAD.panels].index("crews")].width == 12


def parks(*rows) -> pd.DataFrame:
    return pd.DataFrame([{"park": p, "lat": 43.8, "lon": 126.5, "load_kw": kw, "cases": n}
                         for p, kw, n in rows], columns=["park", "lat", "lon", "load_kw", "cases"])


def test_the_parks_chart_labels_each_park_with_its_load_and_unit_largest_first():
    fig = charts.parks_figure(parks(("Jilin Chemical Park", 12_500.0, 3), ("Hi-tech Zone", 800.0, 1),
                                    ("Songhua Logistics Park", 46_000.0, 5), ("Port Park", 0.0, 2)))
    bars = fig["data"][0]
    assert bars["type"] == "bar" and bars["orientation"] == "h"
    assert bars["y"] == ["Songhua Logistics Park", "Jilin Chemical Park", "Hi-tech Zone", "Port Park"]
    assert bars["x"] == [46.0, 12.5, 0.8, 0.0]  # one unit for every park: MW here
    assert bars["text"] == ["46.0 MW", "12.5 MW", "0.8 MW", "0.0 MW"]
    assert bars["textposition"] == "outside" and bars["customdata"] == [5, 3, 1, 2]
    layout = fig["layout"]
    assert layout["yaxis"]["autorange"] == "reversed"  # the largest on top
    assert layout["xaxis"]["title"]["text"] == "Projected load (MW)"
    assert "Open cases" in bars["hovertemplate"]


def test_small_parks_are_labelled_in_kw():
    fig = charts.parks_figure(parks(("East Park", 350.0, 1), ("West Park", 960.0, 2)))
    bars = fig["data"][0]
    assert bars["text"] == ["960 kW", "350 kW"] and bars["x"] == [960.0, 350.0]
    assert fig["layout"]["xaxis"]["title"]["text"] == "Projected load (kW)"


EVIL = '<a href="https://example.com/">Evil & Co</a>'


def test_user_text_in_a_trace_is_escaped_for_plotly_and_our_own_markup_is_kept():
    from station_portal.pages.charts.common import trace
    from station_portal.pages.ui import plotly_text

    bar = trace("bar", x=[EVIL, "plain"], y=[1, 2], text=[EVIL], customdata=[[EVIL, 3]],
                name=EVIL, hovertemplate="<b>%{x}</b><br>%{y}<extra></extra>")
    escaped = "&lt;a href=\"https://example.com/\"&gt;Evil &amp; Co&lt;/a&gt;"
    assert bar["x"] == [escaped, "plain"] and bar["y"] == [1, 2]
    assert bar["text"] == [escaped] and bar["customdata"] == [[escaped, 3]]
    assert bar["name"] == escaped
    assert bar["hovertemplate"] == "<b>%{x}</b><br>%{y}<extra></extra>"  # ours, as written
    assert plotly_text(None) is None and plotly_text(3.5) == 3.5


def test_a_park_named_like_a_link_is_escaped_on_the_parks_chart():
    fig = charts.parks_figure(pd.DataFrame({"park": [EVIL, "园区"], "load_kw": [1200.0, 300.0],
                                     "cases": [2, 1]}))
    assert "<a" not in str(fig["data"]) and "&lt;a href" in fig["data"][0]["y"][0]
