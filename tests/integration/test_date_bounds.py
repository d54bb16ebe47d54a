"""Every date a user, a browser or an API client sends is read by ``validate.day``, with the
working-day calendar's range (2000-01-01 to 2060-12-31): a malformed day or one outside the
range is refused with a message (or, where the page falls back, ignored) and changes nothing;
a good day still works. One test per place that reads such a date.
"""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import func, select

from station_portal.analytics.briefing import BriefingError, parse_week
from station_portal.analytics.dashboards import FilterError, make_filters
from station_portal.audit import AuditEvent
from station_portal.auth.scope import scope_for
from station_portal.db import utcnow
from station_portal.errors import ValidationFailed
from station_portal.gridworks.models import MILESTONES, GridWorksProject
from station_portal.hall.models import ServiceHall
from station_portal.hall.queue import local_day
from station_portal.pages import audit_log as audit_page
from station_portal.pages import hall_dashboard as hall_page
from station_portal.services import gridworks as gw
from station_portal.timefmt import local
from station_portal.validate import FIRST_DAY, LAST_DAY
from station_portal.workorders.models import WorkOrder
from tests.dash_calls import call, text_of
from tests.helpers import API, CHANGYI, account, head_of, token, unit_of

OUTSIDE = ["1999-12-31", "2061-01-01", "9999-12-31", "0001-01-01"]
MALFORMED = ["2026-02-30", "yesterday", "2026-13-45"]
RANGE_MESSAGE = "Give a date as YYYY-MM-DD, from 2000-01-01 to 2060-12-31."


def today() -> date:
    return local(utcnow()).date()


def _props(component, name: str, found=None) -> list:
    """Every component under ``component`` (Dash layout) with the given id."""
    found = [] if found is None else found
    if getattr(component, "id", None) == name:
        found.append(component)
    children = getattr(component, "children", None)
    for child in children if isinstance(children, list | tuple) else [children]:
        if child is not None and hasattr(child, "to_plotly_json"):
            _props(child, name, found)
    return found


# -- services/gridworks.py: the project form's and the API's dates ----------------------------

def _plan(offset: int = 5) -> dict[str, str]:
    return {code: (today() + timedelta(days=offset + 10 * i)).isoformat()
            for i, code in enumerate(MILESTONES)}


def _project_count(s) -> int:
    return s.scalar(select(func.count()).select_from(GridWorksProject))


@pytest.mark.parametrize("bad", OUTSIDE + MALFORMED + ["", None, 20260302, date(1999, 12, 31)])
def test_a_grid_works_plan_outside_the_calendar_is_refused_and_nothing_is_created(city, bad):
    with city.read() as s:
        before = _project_count(s)
    with city.write() as s, pytest.raises(ValidationFailed) as refused:
        gw.create_project(s, account(s, "manager"), gw.ProjectInput(
            name="松江线配套工程", unit_id=unit_of(city, "JL-CY-S").id,
            planned={**_plan(), "design": bad}))
    assert refused.value.fields == {"planned.design": RANGE_MESSAGE}
    with city.read() as s:
        assert _project_count(s) == before


def test_grid_works_dates_at_the_calendars_ends_work_and_beyond_them_change_nothing(city):
    with city.write() as s:
        project = gw.create_project(s, account(s, "manager"), gw.ProjectInput(
            name="松江线配套工程", unit_id=unit_of(city, "JL-CY-S").id, planned=_plan()))
        project_id, version = project.id, project.version
    with city.read() as s:
        planned = [m.planned_on for m in s.get(GridWorksProject, project_id).milestones]
    for bad in OUTSIDE:
        with city.write() as s, pytest.raises(ValidationFailed, match="2000-01-01 to 2060-12-31"):
            gw.replan_milestone(s, account(s, "manager"), project_id, version, "energised", bad)
        with city.write() as s, pytest.raises(ValidationFailed) as refused:
            gw.record_funds(s, account(s, "manager"), project_id, version, 10, bad)
        assert refused.value.fields == {"arrived_on": RANGE_MESSAGE}
    with city.read() as s:
        project = s.get(GridWorksProject, project_id)
        assert project.version == version and project.funds_arrived == 0
        assert [m.planned_on for m in project.milestones] == planned
    with city.write() as s:  # the calendar's last day is a day like any other
        gw.replan_milestone(s, account(s, "manager"), project_id, version, "energised",
                            LAST_DAY.isoformat())
    with city.read() as s:
        assert s.get(GridWorksProject, project_id).milestones[-1].planned_on == LAST_DAY


# -- callbacks/hall_dashboard.py and its page --------------------------------------------------

def test_the_hall_dashboard_refuses_a_day_outside_the_calendar_and_shows_a_good_one(
        app, db, as_user):
    with db.write() as s:
        if not s.scalar(select(ServiceHall.id).limit(1)):
            from station_portal.hall.demo import build_halls
            build_halls(s, seed=7)
        changyi = s.scalar(select(ServiceHall.id).where(ServiceHall.code == "JL-CY-B01"))
    head = as_user("head")
    for bad in OUTSIDE + MALFORMED:
        answer = call(head, app, "halls-message", "children", [bad, changyi, None])
        assert answer.status_code == 200, answer.text[:300]
        assert "This is not a date" in text_of(answer), bad
        assert "halls-headline" not in text_of(answer)
    too_old = (local_day(utcnow()) - timedelta(days=hall_page.MAX_DAYS_BACK + 1)).isoformat()
    assert "within the last year" in text_of(call(head, app, "halls-message", "children",
                                                  [too_old, changyi, None]))
    good = call(head, app, "halls-message", "children", [local_day(utcnow()).isoformat(),
                                                         changyi, None])
    assert "halls-headline" in text_of(good) and "Changyi District Service Hall" in text_of(good)


def test_the_hall_dashboards_picker_offers_only_the_days_the_server_serves():
    first, last = hall_page.day_window(local_day(utcnow()))
    picker, = _props(hall_page.layout(None, {}), hall_page.DAY)
    assert picker.min_date_allowed == first.isoformat()
    assert picker.max_date_allowed == last.isoformat() == local_day(utcnow()).isoformat()
    assert hall_page.day_window(date(2000, 3, 1)) == (FIRST_DAY, date(2000, 3, 1))
    assert hall_page.day_window(date(2061, 6, 1))[1] == LAST_DAY


# -- callbacks/audit_log.py and its page -------------------------------------------------------

def test_the_security_log_ignores_a_day_outside_the_calendar_and_filters_by_a_good_one(
        app, db, as_user):
    admin = as_user("admin")  # a sign-in today: at least one "admin" row

    def ids(start, end):
        answer = call(admin, app, "audit-table", "rowData", [None, "admin", start, end])
        assert answer.status_code == 200, answer.text[:300]
        return [r["id"] for r in answer.json["response"]["audit-table"]["rowData"]]

    everything = ids(None, None)
    assert everything
    for bad in OUTSIDE + MALFORMED + [5, ["2026-01-01"]]:
        assert ids(bad, None) == everything, bad  # that end stays open, as documented
        assert ids(None, bad) == everything, bad
    assert ids("2000-01-01", "2000-01-01") == []
    with db.read() as s:
        newest = s.scalar(select(func.max(AuditEvent.at)).where(AuditEvent.id.in_(everything)))
    day = local(newest).date().isoformat()
    assert ids(day, day) and set(ids(day, day)) <= set(everything)


def test_the_security_logs_picker_spans_the_calendar():
    picker, = _props(audit_page.layout(None, {}), audit_page.DATES)
    assert (picker.min_date_allowed, picker.max_date_allowed) == ("2000-01-01", "2060-12-31")


# -- analytics/dashboards/common.py: the boards' period -----------------------------------------

def test_a_dashboard_period_outside_the_calendar_is_refused_with_a_message(app, db, as_user):
    with db.read() as s:
        scope = scope_for(s, account(s, "manager"))
        for bad in OUTSIDE + MALFORMED:
            for start, end in ((bad, None), (None, bad), (bad, bad)):
                with pytest.raises(FilterError, match="dates"):
                    make_filters(s, scope, start, end, None, utcnow())
        good = make_filters(s, scope, "2059-01-01", LAST_DAY.isoformat(), None, utcnow())
        assert (good.start, good.end) == (date(2059, 1, 1), LAST_DAY)
        assert make_filters(s, scope, FIRST_DAY.isoformat(), "2001-06-30", None, utcnow()
                            ).start == FIRST_DAY
    client = as_user("manager")
    for bad in OUTSIDE:
        answer = call(client, app, "dash-work-units", "rowData", [bad, None, None])
        assert answer.status_code == 200
        assert "dash-work-units" not in answer.json["response"]
        assert "Pick days from 2000-01-01 to 2060-12-31." in text_of(answer)
    # a period at the calendar's end, or wholly after today, is drawn (empty), not a 500
    soon = today() + timedelta(days=10)
    for start, end in (("2059-06-01", LAST_DAY.isoformat()),
                       (soon.isoformat(), (soon + timedelta(days=10)).isoformat())):
        for board, panel, prop in (("ops", "map", "figure"), ("work", "units", "rowData"),
                                   ("clients", "pipeline", "figure"), ("kpi", "league", "rowData")):
            answer = call(client, app, f"dash-{board}-{panel}", prop, [start, end, None])
            assert answer.status_code == 200, (board, start, answer.text[:300])
            assert f"dash-{board}-{panel}" in answer.json["response"], (board, start)


# -- analytics/briefing.py: the week of a briefing ----------------------------------------------

def test_a_briefing_week_must_lie_in_the_calendar():
    for bad in ("1999-12-27", "2061-01-03", "9999-12-27", "0001-01-01", "2060-12-27",
                "2026-02-30", "2026-11-17", "", None, date(2026, 11, 16)):
        with pytest.raises(BriefingError, match="week"):
            parse_week(bad)
    assert parse_week("2000-01-03") == date(2000, 1, 3)  # the calendar's first Monday
    assert parse_week("2060-12-20") == date(2060, 12, 20)  # its last whole week
    assert parse_week("2026-11-16") == date(2026, 11, 16)


# -- workorders/queries.py: the order grid's date filter -----------------------------------------

def test_the_order_grids_date_filter_ignores_days_outside_the_calendar(app, as_user):
    client = as_user("manager")

    def count(spec=None):
        request = {"startRow": 0, "endRow": 10,
                   "filterModel": {"created_at": spec} if spec else {}}
        answer = call(client, app, "orders-grid", "getRowsResponse", [request], ["repair"])
        assert answer.status_code == 200, answer.text[:300]
        return answer.json["response"]["orders-grid"]["getRowsResponse"]["rowCount"]

    everything = count()
    assert everything > 0
    for bad in OUTSIDE + MALFORMED:
        for op in ("greaterThan", "lessThan", "equals"):
            assert count({"filterType": "date", "type": op, "dateFrom": f"{bad} 00:00:00"}
                         ) == everything, (bad, op)
        assert count({"filterType": "date", "type": "inRange", "dateFrom": "2000-01-01",
                      "dateTo": bad}) == everything, bad
    assert count({"filterType": "date", "type": "lessThan", "dateFrom": "2000-01-01 00:00:00"}
                 ) == 0
    assert count({"filterType": "date", "type": "inRange", "dateFrom": "2000-01-01 00:00:00",
                  "dateTo": f"{LAST_DAY} 00:00:00"}) == everything


# -- api/fields.py: Day (created_from, created_to) and Instant -----------------------------------

@pytest.fixture
def head_token(client, db) -> str:
    return token(client, head_of(db))


def test_the_api_refuses_a_day_outside_the_calendar_with_its_range(client, head_token):
    auth = {"Authorization": f"Bearer {head_token}"}
    for bad in OUTSIDE:
        for name in ("created_from", "created_to"):
            response = client.get(f"{API}/work-orders", headers=auth, query_string={name: bad})
            assert response.status_code == 422, bad
            assert response.json["fields"] == {name: RANGE_MESSAGE}
    malformed = client.get(f"{API}/work-orders", headers=auth,
                           query_string={"created_from": "2026-02-30"})
    assert malformed.json["fields"] == {"created_from": "Give a date as YYYY-MM-DD."}
    good = client.get(f"{API}/work-orders", headers=auth, query_string={
        "created_from": FIRST_DAY.isoformat(), "created_to": LAST_DAY.isoformat()})
    assert good.status_code == 200 and good.json["items"]


def test_the_api_refuses_a_time_outside_the_calendar_and_creates_nothing(client, db, head_token):
    where = unit_of(db, CHANGYI)
    body = {"source": "app", "category": "metering", "urgency": 2, "lat": where.lat,
            "lon": where.lon, "address": "吉林市昌邑区日期路1号"}
    auth = {"Authorization": f"Bearer {head_token}"}
    with db.read() as s:
        before = s.scalar(select(func.count()).select_from(WorkOrder))
    for bad in ("2061-01-01T00:00:00+08:00", "1999-12-31T23:59:59+08:00",
                "2000-01-01T00:30:00+09:00",  # 23:30 on 1999-12-31, Beijing time
                "0001-01-01T00:00:00+14:00", "9999-12-31T23:59:59-12:00"):
        response = client.post(f"{API}/repairs", headers=auth, json={**body, "reported_at": bad})
        assert response.status_code == 422, (bad, response.text[:300])
        assert response.json["fields"] == {
            "reported_at": "Give a time from 2000-01-01 to 2060-12-31 (Beijing time)."}
    with db.read() as s:
        assert s.scalar(select(func.count()).select_from(WorkOrder)) == before
    good = client.post(f"{API}/repairs", headers=auth,
                       json={**body, "reported_at": utcnow().isoformat()})
    assert good.status_code == 201, good.json
