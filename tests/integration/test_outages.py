"""Outages: a plan goes draft → approved → announced → in progress → ended through the
services, each step audited; the customers on its areas are told; a repair reported inside
it is marked and left out of "dispatch all"; a missed notice is escalated; the public page
lists it and finds it by account number, case number or address.

Service tests use the module's demo city (no history); the HTTP tests the seeded app.
"""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from station_portal.audit import AuditEvent
from station_portal.auth.scope import scope_for
from station_portal.config import Config
from station_portal.db import utcnow
from station_portal.dispatch.board import load_board
from station_portal.errors import Conflict, Forbidden, NotFound, ValidationFailed
from station_portal.gridworks.models import MILESTONES
from station_portal.network.models import (
    ConnectionPoint,
    NoticeStatus,
    Outage,
    OutageNotice,
    TransformerArea,
)
from station_portal.network.outages import Verdict, notice_verdict, public_outages
from station_portal.notify import outage_notices
from station_portal.notify.models import Notification
from station_portal.org.models import Unit
from station_portal.services import outages as service
from station_portal.services import repairs
from station_portal.workorders.models import WorkOrderEvent
from tests.dash_calls import call
from tests.helpers import account

STATION = "JL-CY-S"  # the head's station (Changyi)


def station_areas(s, code: str = STATION, n: int = 2) -> list[TransformerArea]:
    station = s.scalar(select(Unit).where(Unit.code == code))
    return list(s.scalars(select(TransformerArea).join(Unit, Unit.id == TransformerArea.unit_id)
                          .where(Unit.path.startswith(station.path))
                          .order_by(TransformerArea.code).limit(n)))


def planned(s, areas, *, days=10, actor="head", now=None) -> Outage:
    now = now or utcnow()
    starts = now + timedelta(days=days)
    return service.create_outage(s, account(s, actor), service.OutageInput(
        kind="planned", reason="10kV线路检修", starts_at=starts, ends_at=starts + timedelta(hours=6),
        area_ids=[a.id for a in areas]), now=now)


def test_a_plan_runs_its_whole_life_and_every_step_is_audited_and_told(city):
    with city.write() as s:
        areas = station_areas(s)
        outage = planned(s, areas)
        assert outage.status == "draft" and outage.kind == "planned"
        with pytest.raises(Forbidden):  # a station head plans; a company manager approves
            service.outage_step(s, account(s, "head"), outage.id, outage.version, "approve")
    with city.write() as s:
        outage = s.scalar(select(Outage).order_by(Outage.id.desc()))
        service.outage_step(s, account(s, "manager"), outage.id, outage.version, "approve")
        service.outage_step(s, account(s, "head"), outage.id, outage.version, "announce")
        assert outage.status == "announced"
        on_areas = s.scalar(select(func.count()).select_from(ConnectionPoint)
                            .where(ConnectionPoint.area_id.in_([a.id for a in areas])))
        assert outage.customers == on_areas > 0
        contacts = s.scalar(select(func.count()).select_from(ConnectionPoint).where(
            ConnectionPoint.area_id.in_([a.id for a in areas]), ConnectionPoint.phone.isnot(None)))
        sms = s.scalar(select(func.count()).select_from(OutageNotice).where(
            OutageNotice.outage_id == outage.id, OutageNotice.channel == "sms"))
        assert sms == contacts > 0
        assert notice_verdict(outage.kind, outage.status, outage.starts_at, outage.announced_at,
                              utcnow()) == Verdict.IN_TIME
        outage_id = outage.id
    with city.write() as s:
        actions = list(s.scalars(select(AuditEvent.action).where(
            AuditEvent.entity_type == "outage", AuditEvent.entity_id == outage_id)
            .order_by(AuditEvent.id)))
    assert actions == ["outage_created", "outage_approved", "outage_announced"]


def test_a_stale_step_is_a_conflict_and_changes_nothing(city):
    with city.write() as s:
        outage = planned(s, station_areas(s, n=1))
        seen = outage.version
        service.outage_step(s, account(s, "manager"), outage.id, seen, "approve")
        outage_id = outage.id
    with city.write() as s, pytest.raises(Conflict):
        service.outage_step(s, account(s, "manager"), outage_id, seen, "cancel")
    with city.read() as s:
        assert s.get(Outage, outage_id).status == "approved"


def test_bad_input_and_areas_out_of_scope_are_refused_in_words(city):
    with city.write() as s:
        head = account(s, "head")
        with pytest.raises(ValidationFailed) as bad:
            service.create_outage(s, head, service.OutageInput(
                kind="planned", reason="", starts_at="tomorrow", ends_at="2026-13-01 00:00",
                area_ids=[]))
        assert set(bad.value.fields) >= {"reason", "starts_at", "ends_at", "area_ids"}
        other = station_areas(s, "JL-CH-S", n=1)  # another county's station
        with pytest.raises(ValidationFailed) as foreign:
            planned(s, other)
        assert "area_ids" in foreign.value.fields
        with pytest.raises(ValidationFailed) as past:
            planned(s, station_areas(s, n=1), days=-1)
        assert "starts_at" in past.value.fields
        with pytest.raises(NotFound):
            service.outage_step(s, head, 10**6, 1, "announce")
        assert s.scalar(select(func.count()).select_from(Outage).where(Outage.reason == "")) == 0


def test_a_repair_inside_an_announced_outage_is_marked_and_left_out_of_dispatch_all(city):
    now = utcnow()
    with city.write() as s:
        area = station_areas(s, n=1)[0]
        outage = service.create_outage(s, account(s, "head"), service.OutageInput(
            kind="temporary", reason="变压器故障抢修", starts_at=now - timedelta(minutes=30),
            ends_at=now + timedelta(hours=4), area_ids=[area.id]), now=now)
        assert outage.status == "in_progress" and outage.announced_at == now
        assert notice_verdict(outage.kind, outage.status, outage.starts_at, outage.announced_at,
                              now) == Verdict.LATE
        order = repairs.create_repair(s, account(s, "head"), repairs.RepairInput(
            source="hotline_95598", category="low_voltage", urgency=2, lat=area.lat, lon=area.lon,
            address="昌邑区测试路1号"), now=now)
        assert order.area_id == area.id and order.outage_id == outage.id
        board = load_board(s, scope_for(s, account(s, "head")), now)
        assert order.id in {o.id for o in board.queue()}
        plan = board.proposal()
        assert order.id not in {a.order_id for a in plan.assignments} | set(plan.unassigned)


def test_a_plan_not_announced_by_its_deadline_is_escalated_once(city):
    now = utcnow()
    with city.write() as s:
        outage = planned(s, station_areas(s, n=1), days=8, now=now - timedelta(days=2))
        outage_id = outage.id
    with city.write() as s:
        first = outage_notices.watch(s, now)
        again = outage_notices.watch(s, now + timedelta(minutes=1))
        assert first["escalated"] >= 1 and again["escalated"] == 0
        notes = s.scalars(select(Notification).where(Notification.event == "outage_notice_missed"))
        assert any(n.params.get("code") == s.get(Outage, outage_id).code for n in notes)


def test_notices_go_out_by_the_configured_sender_once(city):
    with city.write() as s:
        outage = planned(s, station_areas(s, n=1))
        service.outage_step(s, None, outage.id, None, "approve")
        service.outage_step(s, None, outage.id, None, "announce")
        outage_id = outage.id
    production = Config(env="production")
    outage_notices.deliver(city, production)
    with city.read() as s:
        states = dict(s.execute(select(OutageNotice.channel, OutageNotice.status)
                                .where(OutageNotice.outage_id == outage_id)).all())
    assert states.get("sms") == NoticeStatus.NO_SENDER.value
    with city.write() as s:  # a gateway appears: offer them again
        s.execute(OutageNotice.__table__.update().where(OutageNotice.outage_id == outage_id)
                  .values(status="pending"))
    GATEWAY.clear()
    report = outage_notices.deliver(city, Config(env="production",
                                                 sms_sender=f"{__name__}:gateway"))
    assert report.sent >= 1 and GATEWAY and "停电通知" in GATEWAY[0][1]
    assert outage_notices.deliver(city, Config(env="production",
                                               sms_sender=f"{__name__}:gateway")).sent == 0


GATEWAY: list[tuple[str, str]] = []


def gateway(phone: str, text: str) -> None:
    GATEWAY.append((phone, text))


def test_the_public_page_lists_an_announced_outage_and_finds_it_by_account_number(app, db, client):
    with db.read() as s:
        rows = public_outages(s, utcnow())
        assert rows, "the demo seeds announced outages"
        row = rows[0]
        customer = s.scalar(select(ConnectionPoint.account_no)
                            .where(ConnectionPoint.area_id == row.areas[0].area_id).limit(1))
    page = client.get("/service/outages")
    assert page.status_code == 200 and row.code in page.text
    found = client.get(f"/service/outages?q={customer}")
    assert found.status_code == 200 and 'id="outage-answer"' in found.text
    assert f'id="answer-{row.code}"' in found.text
    unknown = client.get("/service/outages?q=9999999999")
    assert unknown.status_code == 200 and "answer-" not in unknown.text
    odd = client.get("/service/outages?q=%00%ff" + "x" * 500)
    assert odd.status_code == 200


def test_the_outages_page_is_for_staff_in_scope_and_refuses_crews(app, as_user):
    refused = call(as_user("crew"), app, "outages-stats", "children", ["week", None])
    assert refused.status_code == 403
    head = as_user("head")
    answer = call(head, app, "outages-stats", "children", ["week", None])
    assert answer.status_code == 200
    body = answer.json["response"]
    table = json.dumps(body["outages-table"], ensure_ascii=False)
    # the head sees the outages of the station only (the demo seeds some in every unit)
    assert "PO" in table or "TO" in table
    forged = call(head, app, "outages-feedback", "children",
                  [1, None], ["10 OR 1=1", "approve", {"x": 1}, "planned", "", [], "", "", None])
    assert forged.status_code == 200
    assert "Choose an outage" in json.dumps(forged.json, ensure_ascii=False)


def test_the_page_announces_a_plan_at_the_version_it_showed(app, db, as_user):
    with db.write() as s:
        area = station_areas(s, n=1)[0]
        outage = planned(s, [area], days=12)
        service.outage_step(s, account(s, "manager"), outage.id, outage.version, "approve")
        outage_id, version = outage.id, outage.version
    head = as_user("head")
    stale = call(head, app, "outages-feedback", "children", [1, None],
                 [outage_id, "announce", {str(outage_id): version - 1}, "planned", "", [], "", "",
                  None])
    assert "Someone else changed this outage" in json.dumps(stale.json, ensure_ascii=False)
    done = call(head, app, "outages-feedback", "children", [1, None],
                [outage_id, "announce", {str(outage_id): version}, "planned", "", [], "", "", None])
    assert done.status_code == 200
    with db.read() as s:
        assert s.get(Outage, outage_id).status == "announced"


def test_staff_correct_an_orders_area_within_their_area_and_the_timeline_says_so(city):
    now = utcnow()
    with city.write() as s:
        first, second = station_areas(s, n=2)
        order = repairs.create_repair(s, account(s, "head"), repairs.RepairInput(
            source="hotline_95598", category="low_voltage", urgency=2, lat=first.lat,
            lon=first.lon, address="昌邑区测试路2号"), now=now)
        assert order.area_id == first.id
        from station_portal.services import orders

        with pytest.raises(ValidationFailed):  # another station's area
            orders.set_area(s, account(s, "head"), order.id, order.version,
                            station_areas(s, "JL-CH-S", n=1)[0].id)
        with pytest.raises(Forbidden):
            orders.set_area(s, account(s, "crew"), order.id, order.version, second.id)
        orders.set_area(s, account(s, "head"), order.id, order.version, second.id)
        assert order.area_id == second.id
        events = s.execute(select(WorkOrderEvent.action, WorkOrderEvent.from_value,
                                  WorkOrderEvent.to_value)
                           .where(WorkOrderEvent.work_order_id == order.id)).all()
        assert ("area_changed", first.code, second.code) in [tuple(e) for e in events]


def test_a_hookup_outage_shows_on_the_application_and_its_end_energises_the_works(city):
    from station_portal.gridworks.models import GridWorksProject
    from station_portal.services import applications
    from station_portal.services import gridworks as gw
    from station_portal.timefmt import local

    now = utcnow()
    with city.write() as s:
        area = station_areas(s, n=1)[0]
        station = s.scalar(select(Unit.id).where(Unit.code == STATION))
        today = local(now).date()
        project = gw.create_project(s, account(s, "manager"), gw.ProjectInput(
            name="停电接火测试工程", unit_id=station, funds_expected=100,
            planned={c: (today + timedelta(days=1 + i)).isoformat()
                     for i, c in enumerate(MILESTONES)}))
        for code in MILESTONES[:-1]:  # everything done but energising
            gw.complete_milestone(s, account(s, "manager"), project.id, project.version, code,
                                  today.isoformat())
        app_order = applications.create_application(s, account(s, "head"),
            applications.ApplicationInput(
                business_type="new_connection", customer_type="non_resident", load_kw=40.0,
                customer_name="停电接火测试", lat=area.lat, lon=area.lon, address="昌邑区接火路1号",
                applied_at=now - timedelta(hours=1)), accept=True, now=now - timedelta(hours=1))
        starts = now - timedelta(hours=2)
        outage = service.create_outage(s, account(s, "head"), service.OutageInput(
            kind="temporary", reason="配套工程接火", starts_at=starts,
            ends_at=now + timedelta(hours=2), area_ids=[area.id],
            grid_works_project_id=project.id), now=now - timedelta(hours=2))
        with pytest.raises(ValidationFailed):  # it is running, not approved or announced
            service.link_hookup(s, account(s, "head"), app_order.id, app_order.version, outage.id)
        planned_one = planned(s, [area], days=9)
        service.outage_step(s, account(s, "manager"), planned_one.id, planned_one.version,
                            "approve")
        service.link_hookup(s, account(s, "head"), app_order.id, app_order.version,
                            planned_one.id)
        assert app_order.outage_id == planned_one.id
        service.outage_step(s, account(s, "head"), outage.id, outage.version, "end", now=now)
        works = s.get(GridWorksProject, project.id)
        assert works.status == "energised" and works.milestones[-1].actual_on == today


def test_the_page_plans_an_outage_from_the_form_in_beijing_time(app, db, as_user):
    from station_portal.timefmt import local

    with db.read() as s:
        area = station_areas(s, n=1)[0]
    starts = local(utcnow() + timedelta(days=10)).replace(hour=8, minute=30, second=0,
                                                          microsecond=0)
    form = ["planned", "更换柱上开关", [area.id], starts.strftime("%Y-%m-%dT%H:%M"),
            starts.replace(hour=14).strftime("%Y-%m-%dT%H:%M"), None]
    answer = call(as_user("head"), app, "outages-feedback", "children", [None, 1],
                  [None, None, None, *form], changed=1)
    assert answer.status_code == 200, answer.text
    with db.read() as s:
        outage = s.scalar(select(Outage).where(Outage.reason == "更换柱上开关"))
        assert outage is not None and outage.status == "draft"
        assert local(outage.starts_at).strftime("%H:%M") == "08:30"
    bad = call(as_user("head"), app, "outages-feedback", "children", [None, 1],
               [None, None, None, "planned", "x", [area.id], "soon", "later", None], changed=1)
    assert "YYYY-MM-DD HH:MM" in json.dumps(bad.json, ensure_ascii=False)


def test_the_park_board_says_which_feeders_take_a_parks_load_without_grid_works(db):
    import pandas as pd

    from station_portal.analytics.dashboards.clients import park_capacity
    from station_portal.network.areas import feeder_capacity, spare_capacity
    from station_portal.network.rules import network_rules

    rules = network_rules().capacity
    with db.read() as s:
        area = station_areas(s, n=1)[0]
        room = feeder_capacity(s, [area.feeder_id])[0]
        on_feeder = [a.id for a in s.scalars(select(TransformerArea).where(
            TransformerArea.feeder_id == area.feeder_id, TransformerArea.active.is_(True)))]
        peaks = sum(a.peak_kva for a in spare_capacity(s, None, area_ids=on_feeder))
        assert room.areas_kva == pytest.approx(peaks, abs=1)
        assert room.spare_kva == pytest.approx(
            room.capacity_kva * rules.heavy_load_ratio - room.areas_kva - room.hv_applied_kva,
            abs=0.2)
        fits = max(1.0, (room.spare_kva - 5) * rules.power_factor)
        too_much = (room.spare_kva + 50) * rules.power_factor
        parks = pd.DataFrame([
            {"park": "P", "lat": area.lat, "lon": area.lon, "load_kw": fits, "cases": 1},
            {"park": "Q", "lat": area.lat, "lon": area.lon, "load_kw": too_much, "cases": 1}])
        table = park_capacity(s, parks)
    mine = table[table["feeder"].str.contains(room.code)]
    assert mine.set_index("park")["takes"].to_dict() == {"P": room.spare_kva > 5, "Q": False}


def test_an_area_counts_only_low_voltage_applications(city):
    from station_portal.network.areas import feeder_capacity, spare_capacity
    from station_portal.services import applications

    now = utcnow()
    with city.write() as s:
        area = station_areas(s, n=1)[0]
        before = spare_capacity(s, None, area_ids=[area.id])[0]
        feeder_before = feeder_capacity(s, [area.feeder_id])[0]
        for load, kind in ((20.0, "non_resident"), (800.0, "non_resident")):
            applications.create_application(s, account(s, "head"), applications.ApplicationInput(
                business_type="new_connection", customer_type=kind, load_kw=load,
                customer_name="容量测试", lat=area.lat, lon=area.lon, address="昌邑区容量路1号",
                applied_at=now), accept=True, now=now)
        after = spare_capacity(s, None, area_ids=[area.id])[0]
        feeder_after = feeder_capacity(s, [area.feeder_id])[0]
    assert after.applied_kw == pytest.approx(before.applied_kw + 20.0)  # the 800 kW one is HV
    assert feeder_after.hv_applied_kva >= feeder_before.hv_applied_kva + 800.0 / 0.9 - 0.2


def test_the_dispatch_board_draws_the_areas_of_running_outages(app, db, as_user):
    now = utcnow()
    with db.write() as s:
        area = station_areas(s, n=3)[-1]
        outage = service.create_outage(s, account(s, "head"), service.OutageInput(
            kind="temporary", reason="看板测试", starts_at=now - timedelta(minutes=10),
            ends_at=now + timedelta(hours=3), area_ids=[area.id]), now=now)
        code = outage.code
    answer = call(as_user("head"), app, "board-outages", "data", [None])
    assert answer.status_code == 200
    layer = answer.json["response"]["board-outages"]["data"]
    mine = [f for f in layer["features"] if code in f["properties"]["tip"][0]]
    assert mine and mine[0]["properties"]["running"] is True
    other = call(as_user("gridmgr"), app, "board-outages", "data", [None])
    assert code not in json.dumps(other.json)  # another office's board does not show it


def test_a_fault_outage_runs_at_once_and_has_no_notice_verdict(city):
    now = utcnow()
    with city.write() as s:
        area = station_areas(s, n=1)[0]
        fault = service.create_outage(s, account(s, "head"), service.OutageInput(
            kind="fault", reason="变压器烧毁", starts_at=now - timedelta(minutes=20),
            ends_at=now + timedelta(hours=3), area_ids=[area.id]), now=now)
        assert fault.status == "in_progress" and fault.notice_due_at is None
        assert notice_verdict("fault", fault.status, fault.starts_at, fault.announced_at,
                              now) == Verdict.NONE
        with pytest.raises(ValidationFailed) as ahead:
            service.create_outage(s, account(s, "head"), service.OutageInput(
                kind="fault", reason="x", starts_at=now + timedelta(hours=2),
                ends_at=now + timedelta(hours=4), area_ids=[area.id]), now=now)
        assert "starts_at" in ahead.value.fields


def test_an_applications_page_shows_the_room_on_its_area_or_feeder(app, db, as_user):
    from station_portal.services import applications

    now = utcnow()
    made = {}
    with db.write() as s:
        area = station_areas(s, n=1)[0]
        for load in (12.0, 900.0):
            order = applications.create_application(s, account(s, "head"),
                applications.ApplicationInput(
                    business_type="new_connection", customer_type="non_resident", load_kw=load,
                    customer_name="容量页面测试", lat=area.lat, lon=area.lon,
                    address="昌邑区容量路2号", applied_at=now), accept=True, now=now)
            made[load] = order.id
    head = as_user("head")
    for load, title in ((12.0, "Room on the transformer area"), (900.0, "Room on the feeder")):
        shown = call(head, app, "order-content", "children", [made[load], None])
        assert shown.status_code == 200
        text = json.dumps(shown.json, ensure_ascii=False)
        assert title in text and "order-capacity-verdict" in text


def refusing_gateway(phone: str, text: str) -> None:
    raise OSError("gateway down")


def test_a_refused_notice_is_tried_again_then_left_failed(city):
    with city.write() as s:  # the other tests' notices are not this test's business
        s.execute(OutageNotice.__table__.update().where(OutageNotice.status == "pending")
                  .values(status="sent"))
        outage = planned(s, station_areas(s, n=1))
        service.outage_step(s, None, outage.id, None, "approve")
        service.outage_step(s, None, outage.id, None, "announce")
        outage_id = outage.id
    config = Config(env="production", sms_sender=f"{__name__}:refusing_gateway")
    for run in range(outage_notices.MAX_ATTEMPTS):
        outage_notices.deliver(city, config, utcnow() + timedelta(seconds=run))
    with city.read() as s:
        rows = s.execute(select(OutageNotice.status, OutageNotice.attempts, OutageNotice.error)
                         .where(OutageNotice.outage_id == outage_id,
                                OutageNotice.channel == "sms")).all()
    assert rows and all(r.status == "failed" and r.attempts == outage_notices.MAX_ATTEMPTS
                        and "gateway down" in r.error for r in rows)


def test_calling_off_an_announced_outage_tells_those_told_that_it_is_off(city):
    with city.write() as s:  # the other tests' notices are not this test's business
        s.execute(OutageNotice.__table__.update().where(OutageNotice.status == "pending")
                  .values(status="sent"))
        outage = planned(s, station_areas(s, n=2))
        service.outage_step(s, None, outage.id, None, "approve")
        service.outage_step(s, None, outage.id, None, "announce")
        outage_id = outage.id
        first = s.scalar(select(func.min(OutageNotice.id)).where(OutageNotice.outage_id == outage_id))
        s.execute(OutageNotice.__table__.update().where(OutageNotice.id == first)
                  .values(status="sent"))  # one customer was told already
    with city.write() as s:
        outage = s.get(Outage, outage_id)
        service.outage_step(s, account(s, "head"), outage_id, outage.version, "cancel")
        pending = s.execute(select(OutageNotice.connection_point_id)
                            .where(OutageNotice.outage_id == outage_id,
                                   OutageNotice.status == "pending")).all()
        told = s.scalar(select(OutageNotice.connection_point_id).where(OutageNotice.id == first))
    assert [p[0] for p in pending] == [told]
    GATEWAY.clear()
    outage_notices.deliver(city, Config(env="production", sms_sender=f"{__name__}:gateway"))
    assert len(GATEWAY) == 1 and "取消" in GATEWAY[0][1]


def test_the_operations_board_map_draws_the_areas_of_running_outages(db):
    from station_portal.analytics.dashboards import make_filters, operations
    from station_portal.pages.charts import orders_map

    now = utcnow()
    with db.write() as s:
        area = station_areas(s, n=4)[-1]
        outage = service.create_outage(s, account(s, "head"), service.OutageInput(
            kind="fault", reason="运行看板测试", starts_at=now - timedelta(minutes=5),
            ends_at=now + timedelta(hours=2), area_ids=[area.id]), now=now)
        code = outage.code
    with db.read() as s:
        scope = scope_for(s, account(s, "head"))
        ops = operations(s, make_filters(s, scope, None, None, None, now), now, "zh_CN", scope)
    assert code in {o.code for o in ops.outages}
    fig = orders_map(ops.points, "zh_CN", ops.cells, ops.territories, ("", ""), ops.outages)
    assert any(code in " ".join(t.get("text") or []) for t in fig["data"]
               if isinstance(t.get("text"), list))


def test_the_kpi_board_counts_notices_in_time_late_and_missed_per_station(city):
    from station_portal.network.outages import notice_by_unit

    now = utcnow()
    with city.write() as s:
        areas = station_areas(s, n=3)
        station = s.scalar(select(Unit.id).where(Unit.code == STATION))
        before = notice_by_unit(s, frozenset({station}), now, now + timedelta(days=30), now)
        told = planned(s, areas[:1], days=10, now=now - timedelta(days=1))  # in time
        service.outage_step(s, None, told.id, None, "approve", now=now - timedelta(days=1))
        service.outage_step(s, None, told.id, None, "announce", now=now - timedelta(days=1))
        late = planned(s, areas[1:2], days=3, now=now - timedelta(days=1))
        service.outage_step(s, None, late.id, None, "approve", now=now - timedelta(days=1))
        service.outage_step(s, None, late.id, None, "announce", now=now)  # 3 days ahead: late
        missed = planned(s, areas[2:3], days=2, now=now - timedelta(days=1))
        service.outage_step(s, None, missed.id, None, "approve", now=now)  # never announced
        after = notice_by_unit(s, frozenset({station}), now, now + timedelta(days=30), now)
    was = before.get(station)
    got = after[station]
    base = (was.in_time, was.late, was.missed) if was else (0, 0, 0)
    assert (got.in_time - base[0], got.late - base[1], got.missed - base[2]) == (1, 1, 1)


def test_an_area_list_with_something_else_in_it_is_refused_whole(city):
    with city.write() as s:
        area = station_areas(s, n=1)[0]
        now = utcnow()
        with pytest.raises(ValidationFailed) as junk:
            service.create_outage(s, account(s, "head"), service.OutageInput(
                kind="planned", reason="混入的编号", starts_at=now + timedelta(days=9),
                ends_at=now + timedelta(days=9, hours=2), area_ids=[area.id, "1 OR 1=1"]),
                now=now)
        assert "area_ids" in junk.value.fields
        assert s.scalar(select(func.count()).select_from(Outage)
                        .where(Outage.reason == "混入的编号")) == 0


def test_customers_with_a_mail_address_get_the_notice_by_a_real_smtp_server(city):
    from aiosmtpd.controller import Controller

    from tests.helpers import Inbox, free_port, subject_of

    with city.write() as s:  # the other tests' notices are not this test's business
        s.execute(OutageNotice.__table__.update().where(OutageNotice.status == "pending")
                  .values(status="sent"))
        area = station_areas(s, n=1)[0]
        customer = s.scalar(select(ConnectionPoint).where(ConnectionPoint.area_id == area.id)
                            .limit(1))
        customer.email = "dark@example.cn"
        outage = planned(s, [area])
        service.outage_step(s, None, outage.id, None, "approve")
        service.outage_step(s, None, outage.id, None, "announce")
        code = outage.code
    inbox, port = Inbox(), free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        report = outage_notices.deliver(city, Config(env="production", smtp_host="127.0.0.1",
                                                     smtp_port=port))
    finally:
        controller.stop()
    mails = [m for m in inbox.messages if m["To"] == "dark@example.cn"]
    assert report.sent >= 1 and len(mails) == 1
    assert subject_of(mails[0]) == "停电通知" and code in mails[0].get_payload(decode=True).decode()


def test_a_plan_made_weeks_ahead_shows_in_the_default_window(app, db, as_user):
    with db.write() as s:
        outage = planned(s, station_areas(s, n=1), days=30)
        code = outage.code
    shown = call(as_user("head"), app, "outages-table", "children", ["week", None])
    assert code in json.dumps(shown.json, ensure_ascii=False)
