"""Work-order lists and detail over HTTP: scoped, paged and filtered on the server."""

from __future__ import annotations

from sqlalchemy import func, select

from station_portal.org.models import Unit
from station_portal.workorders.models import Kind, WorkOrder
from tests.dash_calls import call, order_fields, text_of


def rows(client, app, kind: str, request: dict):
    response = call(client, app, "orders-grid", "getRowsResponse", [request], [kind])
    assert response.status_code == 200, response.text[:300]
    return response.json["response"]["orders-grid"]["getRowsResponse"]


def test_a_station_head_lists_only_their_stations_repairs(app, db, as_user):
    with db.read() as s:
        station = s.scalar(select(Unit).where(Unit.code == "JL-CY-S"))
        own = s.scalar(select(func.count()).where(WorkOrder.kind == "repair",
                                                  WorkOrder.unit_id == station.id))
        codes = set(s.scalars(select(WorkOrder.code).where(WorkOrder.kind == "repair",
                                                           WorkOrder.unit_id == station.id)))
    answer = rows(as_user("head"), app, "repair", {"startRow": 0, "endRow": 50})
    assert answer["rowCount"] == own > 0
    assert len(answer["rowData"]) == min(50, own)
    assert {r["code"] for r in answer["rowData"]} <= codes


def test_sorting_paging_and_filters_run_on_the_server(app, as_user):
    client = as_user("manager")
    first = rows(client, app, "repair", {"startRow": 0, "endRow": 20,
                                        "sortModel": [{"colId": "code", "sort": "asc"}]})
    second = rows(client, app, "repair", {"startRow": 20, "endRow": 40,
                                         "sortModel": [{"colId": "code", "sort": "asc"}]})
    codes = [r["code"] for r in first["rowData"] + second["rowData"]]
    assert codes == sorted(codes) and len(set(codes)) == 40
    missed = rows(client, app, "repair", {"startRow": 0, "endRow": 100, "filterModel": {
        "sla": {"filterType": "text", "type": "contains", "filter": "Missed"}}})
    assert 0 < missed["rowCount"] < first["rowCount"]
    assert {r["sla_code"] for r in missed["rowData"]} == {"missed"}


def test_filters_typed_in_chinese_find_the_codes(app, db, as_user):
    from station_portal.auth.models import User
    from station_portal.services.users import set_locale

    client = as_user("manager")
    with db.write() as s:
        set_locale(s, s.scalar(select(User).where(User.username == "manager")), "zh_CN")
    try:
        urgent = rows(client, app, "repair", {"startRow": 0, "endRow": 10, "filterModel": {
            "urgency": {"filterType": "text", "type": "contains", "filter": "紧急"}}})
        assert urgent["rowCount"] > 0 and {r["urgency"] for r in urgent["rowData"]} == {"紧急"}
    finally:
        with db.write() as s:
            set_locale(s, s.scalar(select(User).where(User.username == "manager")), "en")


def test_the_detail_shows_clocks_holder_and_timeline_of_an_own_order(app, db, as_user):
    with db.read() as s:
        station = s.scalar(select(Unit.id).where(Unit.code == "JL-CY-S"))
        order = s.scalar(select(WorkOrder).where(WorkOrder.kind == "application",
                                                 WorkOrder.unit_id == station,
                                                 WorkOrder.status == "in_progress").limit(1))
        other = s.scalar(select(WorkOrder.id).where(WorkOrder.unit_id != station).limit(1))
    head = as_user("head")
    response = call(head, app, "order-content", "children", [str(order.id), 0])
    text = text_of(response)
    assert order.code in text and "order-clocks" in text and "order-timeline" in text
    assert "Whole process" in text and "order-holder" in text
    forged = call(head, app, "order-content", "children", [str(other), 0])
    assert "portal-out-of-scope" in text_of(forged) and "order-clocks" not in text_of(forged)
    assert forged.json["response"]["order-actions"]["style"] == {"display": "none"}
    # a number that names no order says so (not "outside your area"), with no actions
    missing = call(head, app, "order-content", "children", ["987654321", 0])
    assert "There is no such work order" in text_of(missing)
    assert "portal-out-of-scope" not in text_of(missing)
    assert missing.json["response"]["order-actions"]["style"] == {"display": "none"}
    assert response.json["response"]["order-actions"]["style"] == {}


def test_acting_on_an_order_from_the_page_writes_the_timeline(app, db, as_user):
    with db.read() as s:
        station = s.scalar(select(Unit.id).where(Unit.code == "JL-CY-S"))
        order = s.scalar(select(WorkOrder).where(
            WorkOrder.kind == "application", WorkOrder.unit_id == station,
            WorkOrder.status == "in_progress", WorkOrder.paused.is_(False)).limit(1))
    head = as_user("head")
    shown = call(head, app, "order-content", "children", [str(order.id), 0]).json["response"]
    version = shown["order-version"]["data"]
    assert "pause" in [o["value"] for o in shown["order-action"]["options"]]
    fields = order_fields(pause_reason="customer_documents", note="缺少产权证明")
    done = call(head, app, "order-feedback", "children", [1],
                ["pause", str(order.id), version, 0, *fields])
    assert "Done" in done.text
    stale = call(head, app, "order-feedback", "children", [1],
                 ["resume", str(order.id), version, 0, *order_fields()])
    assert "Someone else changed this work order" in stale.text
    with db.read() as s:
        refreshed = s.get(WorkOrder, order.id)
        assert refreshed.paused and refreshed.holder == "customer"


BAD_REQUESTS = [
    {"sortModel": 5}, {"sortModel": True}, {"sortModel": [{"colId": 5}]},
    {"filterModel": {"status": {"type": ["contains"], "filter": "x"}}},
    {"filterModel": {"status": {"type": {}, "filter": "x"}}},
    {"filterModel": {"capacity_kva": {"type": "equals", "filter": 10**30}}},
    {"filterModel": {"urgency": {"type": "equals", "filter": 10**30}}},
    {"filterModel": {"code": {"type": "in", "values": [1, 2]}}},
    {"filterModel": {"code": {"__codes": ["x\x00"]}}},
    {"filterModel": {"urgency": {"__codes": ["abc"] * 70_000}}},
    {"filterModel": {"address": {"type": "contains", "filter": "a\ud800b"}}},
    {"filterModel": {"address": {"operator": "AND", "conditions": [
        {"operator": "AND", "conditions": [{"type": "contains", "filter": "x"}] * 2}] * 2}}},
    {"filterModel": {"created_at": {"type": "inRange", "dateFrom": "0001-01-01",
                                    "dateTo": "9999-12-31"}}},
    {"startRow": -5, "endRow": 10**12},
]


def test_forged_grid_requests_are_answered_not_crashed(app, as_user):
    client = as_user("manager")
    for bad in BAD_REQUESTS:
        for kind in ("repair", "application"):
            response = call(client, app, "orders-grid", "getRowsResponse", [bad], [kind])
            assert response.status_code == 200, (bad, response.text[:200])


def test_label_filters_honour_their_operator_and_number_ranges_work(app, as_user):
    client = as_user("manager")
    base = {"startRow": 0, "endRow": 200}
    en_route = rows(client, app, "repair", {**base, "filterModel": {
        "status": {"filterType": "text", "type": "startsWith", "filter": "e"}}})
    assert {r["status"] for r in en_route["rowData"]} <= {"En route"}
    not_closed = rows(client, app, "repair", {**base, "filterModel": {
        "status": {"filterType": "text", "type": "notContains", "filter": "closed"}}})
    assert "Closed" not in {r["status"] for r in not_closed["rowData"]}
    mid = rows(client, app, "application", {**base, "filterModel": {
        "load_kw": {"filterType": "number", "type": "inRange", "filter": 100,
                    "filterTo": 200}}})
    assert mid["rowCount"] > 0
    assert all(100 <= r["load_kw"] <= 200 for r in mid["rowData"])


def test_a_paused_application_is_not_listed_as_overdue(app, db, as_user):
    """Its stored due time is 'if it ran again now': time passing must not escalate it."""
    from datetime import timedelta

    from station_portal.auth.models import User
    from station_portal.db import utcnow
    from station_portal.services import applications
    from station_portal.workorders.queries import GridRequest, list_orders

    with db.write() as s:  # one paused before its deadline (one paused after it stays overdue)
        head = s.scalar(select(User).where(User.username == "head"))
        applied = utcnow() - timedelta(hours=2)
        made = applications.create_application(s, head, applications.ApplicationInput(
            business_type="new_connection", customer_type="non_resident", load_kw=60.0,
            customer_name="暂停测试", lat=43.8817, lon=126.5744, address="昌邑区暂停路1号",
            applied_at=applied), accept=True, now=applied)
        applications.pause(s, head, made.id, made.version, "customer_documents",
                           note="待补资料", now=utcnow())
        made_id = made.id
    with db.read() as s:
        paused = [s.get(WorkOrder, made_id)]
        assert paused[0].paused and paused[0].sla_status != "overdue"
    later = utcnow() + timedelta(days=400)
    from station_portal.auth.scope import scope_for

    with db.read() as s:
        scope = scope_for(s, s.scalar(select(User).where(User.username == "manager")))
        data, _total = list_orders(s, scope, Kind.APPLICATION, GridRequest(
            0, 500, (), {"code": {"type": "equals", "filter": paused[0].code}}), later)
        assert data[0]["sla"] == paused[0].sla_status != "overdue"
        overdue, _n = list_orders(s, scope, Kind.APPLICATION, GridRequest(
            0, 500, (), {"sla": {"__codes": ["overdue"]}}), later)
        assert paused[0].code not in {r["code"] for r in overdue}
