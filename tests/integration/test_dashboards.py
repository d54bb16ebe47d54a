"""The role dashboards over HTTP: scope whatever the browser sends, live patches, Excel,
and snapshot tables that agree with the live tables."""

from __future__ import annotations

import base64
import io
from datetime import date, timedelta

import pytest
from openpyxl import load_workbook
from sqlalchemy import select

from station_portal.analytics.daily import Daily
from station_portal.analytics.dashboards import default_range, workload
from station_portal.analytics.snapshots import horizon, refresh
from station_portal.auth.models import User
from station_portal.auth.scope import scope_for
from station_portal.db import utcnow
from station_portal.org.models import Unit
from station_portal.pages.dashboards import KPIS
from station_portal.timefmt import SHANGHAI
from tests.dash_calls import call, dash_app_of
from tests.helpers import board_repair as new_repair


def fill(client, app, board: str, panel: str, prop: str, start=None, end=None, unit=None):
    response = call(client, app, f"dash-{board}-{panel}", prop, [start, end, unit])
    assert response.status_code == 200, response.text[:500]
    return response.json["response"]


def test_snapshots_give_the_same_figures_as_the_live_tables(db):
    now = utcnow()
    today = now.astimezone(SHANGHAI).date()
    start = today - timedelta(days=90)

    def figures():
        with db.read() as s:
            daily = Daily(s, None, start, today, now)
            return (daily.orders(["kind", "category"]).sort_values(["kind", "category"])
                    .reset_index(drop=True),
                    daily.stages(["stage", "area_type"]).sort_values(["stage", "area_type"])
                    .reset_index(drop=True),
                    daily.crews(["crew_id"]).sort_values("crew_id").reset_index(drop=True))

    with db.write() as s:  # start from no snapshot: every day is aggregated live
        from station_portal.analytics.models import CrewDay, OrderDay, SnapshotState, StageDay
        for model in (OrderDay, StageDay, CrewDay, SnapshotState):
            s.query(model).delete()
    live = figures()
    assert live[0]["received"].sum() > 100
    with db.write() as s:
        report = refresh(s, now)
    assert report.through == today - timedelta(days=1)
    assert report.order_rows and report.stage_rows and report.crew_rows
    snapshot = figures()
    for a, b in zip(live, snapshot, strict=True):
        assert list(a.columns) == list(b.columns) and len(a) == len(b)
        for column in a.columns:
            if column in ("kind", "category", "stage", "area_type"):
                assert a[column].tolist() == b[column].tolist()
            else:
                assert a[column].astype(float).to_numpy() == pytest.approx(
                    b[column].astype(float).to_numpy())
    with db.write() as s:  # a second run writes the last two days again, counting nothing twice
        again = refresh(s, now)
        assert again.first == today - timedelta(days=2)
        assert horizon(s) == today - timedelta(days=1)
    for a, b in zip(snapshot, figures(), strict=True):
        assert len(a) == len(b)
        for column in a.columns:
            if column not in ("kind", "category", "stage", "area_type"):
                assert a[column].astype(float).to_numpy() == pytest.approx(
                    b[column].astype(float).to_numpy())


def test_events_fall_on_their_local_day_on_every_engine(db):
    """23:30 and 00:30 in Shanghai are the same UTC day but two local days."""
    from datetime import UTC, datetime

    from station_portal.analytics.snapshots import aggregates
    from station_portal.workorders.models import WorkOrder

    late_evening = datetime(2020, 3, 2, 15, 30, tzinfo=UTC)  # 23:30 in Shanghai
    after_midnight = datetime(2020, 3, 2, 16, 30, tzinfo=UTC)  # 00:30 the next day
    ids = []
    try:
        for at in (late_evening, after_midnight):
            order = new_repair(db, address="Midnight street")
            with db.write() as s:
                row = s.get(WorkOrder, order.id)
                row.created_at = at
            ids.append(order.id)
        with db.read() as s:
            unit = s.get(WorkOrder, ids[0]).unit_id
            found = aggregates(s, datetime(2020, 3, 1, tzinfo=UTC), datetime(2020, 3, 5, tzinfo=UTC),
                               frozenset({unit}))
        days = dict(zip(found.orders["day"], found.orders["received"], strict=True))
        assert days == {date(2020, 3, 2): 1, date(2020, 3, 3): 1}
    finally:
        with db.write() as s:
            for order_id in ids:
                s.delete(s.get(WorkOrder, order_id))


def test_each_role_gets_its_board(app, as_user):
    for user, board, panel, prop in (("head", "ops", "map", "figure"),
                                     ("gridmgr", "work", "year", "figure"),
                                     ("account", "clients", "pipeline", "figure"),
                                     ("manager", "kpi", "compliance", "figure"),
                                     ("admin", "kpi", "league", "rowData")):
        answer = fill(as_user(user), app, board, panel, prop)
        assert answer[f"dash-{board}-{panel}"][prop], (user, board)
        assert "dash-" + board + "-stats" in answer


def test_a_crew_member_gets_no_dashboard(app, as_user):
    crew = as_user("crew")
    for board, panel, prop in (("ops", "map", "figure"), ("work", "year", "figure"),
                               ("clients", "pipeline", "figure"), ("kpi", "league", "rowData")):
        response = call(crew, app, f"dash-{board}-{panel}", prop, [None, None, None])
        assert response.status_code == 403


def test_a_grid_manager_sees_only_their_grids_whatever_the_browser_sends(app, db, as_user):
    with db.read() as s:
        user = s.scalar(select(User).where(User.username == "gridmgr"))
        scope = scope_for(s, user)
        own = {u.name_en for u in s.scalars(select(Unit).where(Unit.id.in_(scope.unit_ids)))}
        others = s.scalars(select(Unit).where(Unit.id.not_in(scope.unit_ids),
                                              Unit.kind == "grid")).all()
        station = s.scalar(select(Unit).where(Unit.code == "JL-CY-S"))
        other_names = {u.name_en for u in others}
        start, end = default_range(utcnow(), 90)
        data = workload(s, __import__("station_portal.analytics.dashboards",
                                      fromlist=["make_filters"]).make_filters(
            s, scope, start.isoformat(), end.isoformat(), None, utcnow()), utcnow(), "en")
        assert set(data.per_unit["unit_id"]) <= scope.unit_ids
    client = as_user("gridmgr")
    answer = fill(client, app, "work", "units", "rowData", start.isoformat(), end.isoformat())
    rows = answer["dash-work-units"]["rowData"]
    assert rows and {r["unit"] for r in rows} <= own
    assert not {r["unit"] for r in rows} & other_names
    # units outside the scope, and values that are not units at all
    for forged in (station.id, others[0].id, str(others[0].id), "1 OR 1=1", -5, True, [1, 2],
                   {"id": 1}, 10**12):
        answer = fill(client, app, "work", "units", "rowData", start.isoformat(),
                      end.isoformat(), forged)
        assert "dash-work-units" not in answer, forged
        assert "not in your area" in text_of_answer(answer) or "check" in text_of_answer(answer)
    for bad_start, bad_end in (("yesterday", None), ("2026-13-01", None), (None, "2020-01-01"),
                               ("2020-01-01", "2026-01-01"), (5, {"a": 1})):
        answer = fill(client, app, "work", "units", "rowData", bad_start, bad_end)
        assert "dash-work-units" not in answer, (bad_start, bad_end)
        assert "dash-work-alert" in answer


def text_of_answer(answer) -> str:
    import json

    return json.dumps(answer, ensure_ascii=False)


def test_the_board_polls_cheaply_and_patches_what_changed(app, db, as_user):
    client = as_user("head")
    new_repair(db, address="Dashboard live street 4")  # the map has a repair layer already
    answer = fill(client, app, "ops", "map", "figure")
    known = answer["dash-ops-known"]["data"]
    start, end = default_range(utcnow(), 1)
    state = [start.isoformat(), end.isoformat(), None]

    def poll(known):
        response = call(client, app, "dash-ops-live", "children", [1], [*state, known])
        assert response.status_code == 200, response.text[:300]
        return response.json["response"]

    assert "_print" in known  # the fill's answer carries its fingerprint
    quiet = poll(known)
    assert set(quiet) <= {"dash-ops-inflight", "dash-ops-live"}
    assert len(text_of_answer(quiet)) < 400
    new_repair(db, address="Dashboard live street 5")
    changed = poll(known)
    sent = {k for k in changed if k.startswith("dash-ops-")}
    assert {"dash-ops-stats", "dash-ops-map", "dash-ops-status", "dash-ops-risk"} & sent
    assert "dash-ops-map" in sent
    update = changed["dash-ops-map"]["figure"]
    assert "__dash_patch_update" in update  # a patch of the trace data, not a new figure
    assert all(op["location"][0] == "data" for op in update["operations"])
    known = changed["dash-ops-known"]["data"]
    assert set(poll(known)) <= {"dash-ops-inflight", "dash-ops-live"}  # and quiet again


def test_tables_export_to_excel_in_the_users_language(app, as_user):
    client = as_user("manager")
    others = [None] * (len(KPIS.tables) - 1)  # one Excel button per table: the league's is clicked
    response = call(client, app, "dash-kpi-download", "data", [1, *others], [None, None, None])
    assert response.status_code == 200, response.text[:300]
    download = response.json["response"]["dash-kpi-download"]["data"]
    assert download["filename"].startswith("kpi-league-") and download["filename"].endswith(".xlsx")
    book = load_workbook(io.BytesIO(base64.b64decode(download["content"])))
    sheet = book.active
    assert [c.value for c in sheet[1]][:3] == ["Rank", "Station or supply office",
                                               "Arrival on time (%)"]
    assert sheet.max_row > 2
    ranks = [sheet.cell(r, 1).value for r in range(2, sheet.max_row + 1)]
    assert ranks == list(range(1, len(ranks) + 1))
    # nothing clicked: nothing sent
    quiet = call(client, app, "dash-kpi-download", "data", [None, *others], [None, None, None])
    assert quiet.status_code in (200, 204)


def test_a_cancelled_repair_is_not_counted_as_an_arrival(db):
    from station_portal.analytics.snapshots import stage_aggregates
    from station_portal.services import repairs
    from station_portal.sla.calendar import local_midnight
    from station_portal.workorders.models import StageClock

    now = utcnow()
    start = local_midnight(now.astimezone(SHANGHAI).date())

    def arrivals():
        with db.read() as s:
            found = stage_aggregates(s, start, now + timedelta(hours=1))
        return int(found.loc[found["stage"] == "arrival", "done"].sum())

    before = arrivals()
    order = new_repair(db, address="Cancelled street 1")
    with db.write() as s:
        repairs.repair_action(s, None, order.id, order.version, "cancel", reason="duplicate call")
    with db.read() as s:
        clock = s.scalar(select(StageClock).where(StageClock.work_order_id == order.id,
                                                  StageClock.stage == "arrival"))
        assert clock.ended_at is not None and clock.status == "cancelled"
    assert arrivals() == before


@pytest.mark.parametrize("forged", [
    {"start": "0001-01-01", "end": "0001-01-02"},
    {"start": "9999-12-30", "end": "9999-12-31"},
    {"unit": "²"},
    {"unit": "1" * 5000},
    {"unit": 10**30},
    {"unit": 2**63},
    {"unit": "99999999999999999999999"},
])
def test_forged_filters_get_a_message_not_an_error(app, as_user, forged):
    client = as_user("admin")  # a global scope: every unit id "is in scope" until parsed
    answer = fill(client, app, "kpi", "league", "rowData", forged.get("start"),
                  forged.get("end"), forged.get("unit"))
    assert "dash-kpi-league" not in answer
    assert "dash-kpi-alert" in answer


def test_forged_poll_stores_and_selected_rows_are_harmless(app, as_user):
    client = as_user("head")
    start, end = default_range(utcnow(), 1)
    for known in ({"_print": "x", "stats": "s"}, {"_print": "x", "map": [1, 2]},
                  {"_print": 5, "risk": {"h": 3}}, ["not", "a", "dict"], "x" * 1000):
        response = call(client, app, "dash-ops-live", "children", [1],
                        [start.isoformat(), end.isoformat(), None, known])
        assert response.status_code == 200, (known, response.text[:200])
    account = as_user("account")
    for rows in ([{"order_id": 10**30}], [{"order_id": "²"}], [{"order_id": 1, "code": "<b>"}],
                 [5], "rows", [{}]):
        response = call(account, app, "dash-clients-timeline", "figure", [rows])
        assert response.status_code == 200, (rows, response.text[:200])
        assert "<b>" not in response.text


def test_a_unit_without_crews_has_an_empty_crew_table(app, db, as_user):
    with db.read() as s:
        office_group = s.scalar(select(Unit).where(Unit.kind == "office_group"))
    answer = fill(as_user("admin"), app, "work", "crews", "rowData", None, None, office_group.id)
    assert answer["dash-work-crews"]["rowData"] == []


def test_the_workload_board_shows_who_carries_more_than_they_can(app, db, as_user):
    """A crew that holds more repairs than its capacity (data/dispatch.toml) is marked and
    counted; its load comes first in the crew table."""
    from station_portal.dispatch.board import default_settings
    from station_portal.org.models import Crew
    from station_portal.services.dispatch import assign_lead
    from station_portal.workorders.models import WorkOrder

    capacity = default_settings().capacity_jobs
    orders = [new_repair(db, address=f"Overload lane {i}") for i in range(capacity + 1)]
    with db.write() as s:
        station = s.scalar(select(Unit).where(Unit.code == "JL-CY-S"))
        crew = s.scalars(select(Crew).join(Unit, Unit.id == Crew.unit_id)
                         .where(Unit.parent_id == station.id).order_by(Crew.code.desc())).first()
        code = crew.code
        for order in orders:
            assign_lead(s, None, order.id, order.version, crew.id)
    try:
        answer = fill(as_user("admin"), app, "work", "crews", "rowData", None, None, station.id)
        rows = answer["dash-work-crews"]["rowData"]
        mine = next(r for r in rows if r["crew"] == code)
        assert mine["open_jobs"] >= capacity + 1 and mine["capacity"] == capacity
        assert mine["overloaded"] is True
        assert rows[0]["overloaded"] is True  # the overloaded come first
        assert all(r["overloaded"] == (r["open_jobs"] > r["capacity"]) for r in rows)
        fields = [c["field"] for c in answer["dash-work-crews"]["columnDefs"]]
        assert fields[:3] == ["crew", "open_jobs", "capacity"]
        stats = text_of_answer(answer["dash-work-stats"])
        overloaded = sum(r["overloaded"] for r in rows)
        assert "Crews over capacity" in stats and f"{overloaded} / {len(rows)}" in stats
    finally:
        with db.write() as s:  # the crew is free again for the other tests
            for order in orders:
                row = s.get(WorkOrder, order.id)
                row.status, row.closed_at = "cancelled", utcnow()


# -- the page arrives filled ---------------------------------------------------------------------
def opened(client, app, path: str) -> dict:
    """The router's answer for a dashboard: its components' props by id."""
    response = call(client, app, "page-content", "children", [path], [""])
    assert response.status_code == 200, response.text[:300]
    found: dict = {}

    def walk(node) -> None:
        if isinstance(node, dict):
            props = node.get("props")
            if isinstance(props, dict):
                if isinstance(props.get("id"), str):
                    found[props["id"]] = props
                walk(list(props.values()))
        elif isinstance(node, list):
            for item in node:
                walk(item)

    walk(response.json["response"]["page-content"]["children"])
    return found


def test_each_board_opens_filled_in_one_round_trip(app, as_user):
    """The router's answer holds the headline numbers, the first row's charts and tables, the
    filters set to the period the board shows and the fingerprint the first poll compares
    with; the panels below the first screen travel in the same answer; no dashboard callback
    runs as the page opens (each would be a round trip more)."""
    from station_portal.pages.dashboards import DASHBOARDS

    for user, board in (("head", DASHBOARDS[0]), ("gridmgr", DASHBOARDS[1]),
                        ("account", DASHBOARDS[2]), ("manager", DASHBOARDS[3])):
        props = opened(as_user(user), app, board.path)
        stats = text_of_answer(props[board.id("stats")]["children"])
        assert stats.count('"type": "Card"') >= 4, board.key  # the headline numbers
        start, end = default_range(utcnow(), board.default_days, board.ahead_days)
        assert props[board.id("range")]["start_date"] == start.isoformat()
        assert props[board.id("range")]["end_date"] == end.isoformat()
        assert props[board.id("unit")]["options"], board.key
        known = props[board.id("known")]["data"]
        assert known["_print"].startswith(f"{start}:{end}:None:")
        assert {p.id for p in board.filled} | {"stats", "_print"} == set(known)
        for panel in board.first_row:
            shown = props[board.id(panel.id)]
            assert shown.get("figure", {}).get("data") or shown.get("columnDefs"), panel.id
        later = props[board.id("later")]["data"]
        assert later["print"] == known["_print"]
        assert [p[0] for p in later["panels"]] == [board.id(p.id) for p in board.later]
        for panel_id, panel_props in later["panels"]:
            assert panel_props.get("figure") or panel_props.get("columnDefs"), panel_id
    on_load = [c for c in dash_app_of(app)._callback_list
               if "dash-" in c["output"] and not c.get("prevent_initial_call")]
    assert on_load and all(c.get("clientside_function") for c in on_load), \
        [c["output"] for c in on_load if not c.get("clientside_function")]


def test_an_opened_board_shows_only_the_callers_area(app, db, as_user):
    """The layout is computed with the caller's scope, as the callbacks are: a grid manager's
    workload board lists their own grids and offers only their units; a crew member gets
    no board at all."""
    with db.read() as s:
        user = s.scalar(select(User).where(User.username == "gridmgr"))
        scope = scope_for(s, user)
        own = {u.name_en for u in s.scalars(select(Unit).where(Unit.id.in_(scope.unit_ids)))}
    props = opened(as_user("gridmgr"), app, "/dashboards/workload")
    rows = props["dash-work-units"]["rowData"]
    assert rows and {r["unit"] for r in rows} <= own
    assert {o["value"] for o in props["dash-work-unit"]["options"]} <= scope.unit_ids
    crew = opened(as_user("crew"), app, "/dashboards/workload")
    assert "page-forbidden" in crew and not any(k.startswith("dash-work-") for k in crew)
