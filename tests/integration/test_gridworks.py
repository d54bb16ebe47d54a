"""Supporting grid works: projects hold the applications that wait on them.

Each test builds its own project and applications in the module's demo city
(no history), through the services, as the pages do.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from station_portal.audit import AuditEvent
from station_portal.auth.scope import scope_for
from station_portal.db import utcnow
from station_portal.errors import Conflict, Forbidden, NotFound, ValidationFailed
from station_portal.gridworks import queries
from station_portal.gridworks.dashboard import grid_works_board
from station_portal.gridworks.models import MILESTONES, GridWorksProject
from station_portal.org.models import Unit
from station_portal.services import applications
from station_portal.services import gridworks as gw
from station_portal.timefmt import local
from station_portal.workorders.models import WorkOrder, WorkOrderEvent
from tests.helpers import account

CHANGYI = (43.8817, 126.5744)  # inside the head's station (Changyi)
GUDIANZI = (43.9730, 126.4580)  # a grid of the Gudianzi supply office (the grid manager's)


def unit_id(s, code: str) -> int:
    return s.scalar(select(Unit.id).where(Unit.code == code))


def application(s, where=CHANGYI, actor="head", hours_ago: float = 3) -> WorkOrder:
    """A high-voltage application accepted a few hours ago, in progress."""
    when = utcnow() - timedelta(hours=hours_ago)
    data = applications.ApplicationInput(business_type="new_connection", customer_type="non_resident",
                                         load_kw=630.0, customer_name="吉林松江机械有限公司",
                                         lat=where[0], lon=where[1], address="昌邑区松江路8号",
                                         applied_at=when)
    return applications.create_application(s, account(s, actor), data, accept=True, now=when)


def plan(first_offset: int = 5, step: int = 10) -> dict[str, str]:
    """Planned dates from ``first_offset`` days after today, ``step`` days apart."""
    today = local(utcnow()).date()
    return {code: (today + timedelta(days=first_offset + i * step)).isoformat()
            for i, code in enumerate(MILESTONES)}


def project(s, unit_code="JL-CY-S", planned=None, actor="manager", funds=300) -> GridWorksProject:
    return gw.create_project(s, account(s, actor), gw.ProjectInput(
        name="昌邑站10kV松江线新建工程", unit_id=unit_id(s, unit_code),
        planned=planned or plan(), funds_expected=funds))


def complete_all(s, p: GridWorksProject, actor="manager", now=None) -> None:
    day = local(now or utcnow()).date()
    for code in MILESTONES:
        p = gw.complete_milestone(s, account(s, actor), p.id, p.version, code, day, now=now)


def _scope(s, username):
    return scope_for(s, account(s, username))


def audit_count(s, project_id: int) -> int:
    return s.scalar(select(func.count()).select_from(AuditEvent).where(
        AuditEvent.entity_type == "grid_works_project", AuditEvent.entity_id == project_id))


def test_linking_never_pauses_the_clocks_and_energising_ends_the_wait(city):
    """Grid works are no pause (DOMAIN.md): the due times stand, the wait is on record."""
    with city.write() as s:
        order = application(s)
        due_before = order.due_at
        p = project(s)
        gw.link_application(s, account(s, "head"), p.id, p.version, order.code)
        order_id, project_id = order.id, p.id
    with city.read() as s:
        order = s.get(WorkOrder, order_id)
        assert not order.paused and order.holder == "unit" and order.due_at == due_before
        wait = next(x for x in order.pauses if x.ended_at is None)
        assert wait.reason == "grid_works" and "GW" in wait.note
        assert [w.project_id for w in queries.works_for_order(s, order_id)] == [project_id]
        assert s.scalar(select(WorkOrderEvent.action).where(
            WorkOrderEvent.work_order_id == order_id).order_by(WorkOrderEvent.id.desc())) \
            == "grid_works_waiting"
    later = utcnow() + timedelta(days=7)  # a week of waiting, energised then
    with city.write() as s:
        complete_all(s, s.get(GridWorksProject, project_id), now=later)
    with city.read() as s:
        order = s.get(WorkOrder, order_id)
        assert not order.paused and order.due_at == due_before  # HV: no rule moves the limit
        assert all(x.ended_at is not None for x in order.pauses)
        assert s.get(GridWorksProject, project_id).status == "energised"
        assert audit_count(s, project_id) == 1 + 1 + len(MILESTONES) + 1  # created, linked,
        # six milestones, and the waits ended


def test_energising_ends_the_wait_only_where_no_other_open_project_holds(city):
    with city.write() as s:
        first, second, third = application(s), application(s), application(s)
        p, other = project(s), project(s)
        head = account(s, "head")
        for order in (first, second, third):
            p = gw.link_application(s, head, p.id, p.version, order.id).project_id
            p = s.get(GridWorksProject, p)
        other = s.get(GridWorksProject, other.id)
        gw.link_application(s, head, other.id, other.version, second.code)
        p = gw.unlink_application(s, head, p.id, p.version, third.code, reason="改由低压接入")
        ids = first.id, second.id, third.id
        project_id = p.id
    with city.read() as s:
        assert not gw_waiting(s.get(WorkOrder, ids[2]))  # unlinked: it no longer waits
    with city.write() as s:
        complete_all(s, s.get(GridWorksProject, project_id))
    with city.read() as s:
        first, second, third = (s.get(WorkOrder, i) for i in ids)
        assert not gw_waiting(first)
        assert gw_waiting(second)  # still waits on the other one
        assert not second.paused  # waiting is never a pause
        shown = {w.code: w.status for w in queries.works_for_order(s, second.id)}
        assert sorted(shown.values()) == ["energised", "planned"]


def gw_waiting(order: WorkOrder) -> bool:
    return any(x.reason == "grid_works" and x.ended_at is None for x in order.pauses)


def test_a_small_firm_waiting_on_grid_works_gets_the_2020_policys_limit(city):
    with city.write() as s:
        when = utcnow() - timedelta(hours=3)
        order = applications.create_application(s, account(s, "head"), applications.ApplicationInput(
            business_type="new_connection", customer_type="non_resident", load_kw=60,
            small_firm=True, customer_name="吉林小微商贸有限公司", lat=CHANGYI[0],
            lon=CHANGYI[1], address="昌邑区松江路9号", applied_at=when), now=when)
        assert order.customer_class == "lv_small_firm"
        total = next(c for c in order.clocks if c.stage == "total")
        assert total.limit_amount == 6
        p = project(s)
        gw.link_application(s, account(s, "head"), p.id, p.version, order.code)
        assert total.limit_amount == 15 and "1479" in total.limit_source
        # not connected while the works are awaited
        with pytest.raises(ValidationFailed) as refused:
            applications.advance_stage(s, account(s, "head"), order.id, order.version)
        assert "waits on grid works" in str(refused.value)
        p = s.get(GridWorksProject, p.id)
        gw.unlink_application(s, account(s, "head"), p.id, p.version, order.code,
                              reason="不需外线工程")
        assert total.limit_amount == 6  # the works were not needed after all
        # energised works: the application had grid works, the policy's limit stays
        p = project(s)
        gw.link_application(s, account(s, "head"), p.id, p.version, order.code)
        complete_all(s, s.get(GridWorksProject, p.id))
        assert not gw_waiting(order) and total.limit_amount == 15
        order = applications.advance_stage(s, account(s, "head"), order.id, order.version)
        assert order.current_stage == "archiving" and total.ended_at is not None
        s.rollback()


def test_a_late_project_lists_the_applications_it_delays(city):
    today = local(utcnow()).date()
    with city.write() as s:
        late = project(s, planned=plan(first_offset=-10))  # approval was due ten days ago
        on_time = project(s)
        order, waiting = application(s), application(s)
        gw.link_application(s, account(s, "head"), late.id, late.version, order.code)
        gw.link_application(s, account(s, "head"), on_time.id, on_time.version, waiting.code)
        late_id, code, on_time_id = late.id, order.code, on_time.id
    with city.read() as s:
        board = grid_works_board(s, None, utcnow(), "en")
        row = board.late[board.late["id"] == late_id].iloc[0]
        assert row["late_by"] == 10 and code in row["codes"] and row["next_milestone"] == "approval"
        assert on_time_id not in board.late["id"].tolist()
        works = queries.works_for_order(s, s.scalar(select(WorkOrder.id).where(WorkOrder.code == code)))
        assert works[0].late and works[0].milestone == "approval"
        assert works[0].milestone_planned_on == today - timedelta(days=10)
        detail = queries.project_detail(s, _scope(s, "manager"), late_id, "en")
        assert detail.progress.late_by_days == 10
        assert [a.code for a in detail.applications if a.waiting] == [code]


def test_other_areas_neither_see_nor_touch_a_project_and_forged_ids_give_nothing(city):
    with city.write() as s:
        p = project(s)
        project_id, version = p.id, p.version
        rural = application(s, where=GUDIANZI, actor="gridmgr")
        rural_code = rural.code
    with city.write() as s:
        with pytest.raises(NotFound):  # the supply office does not see the station's project
            gw.link_application(s, account(s, "gridmgr"), project_id, version, rural_code)
        with pytest.raises(NotFound):  # the head does not see the supply office's application
            gw.link_application(s, account(s, "head"), project_id, version, rural_code)
        with pytest.raises(Forbidden):
            gw.link_application(s, account(s, "crew"), project_id, version, rural_code)
        with pytest.raises(Forbidden):  # linking is not managing
            gw.replan_milestone(s, account(s, "head"), project_id, version, "approval",
                                plan()["design"])
    with city.read() as s:
        assert queries.project_detail(s, _scope(s, "gridmgr"), project_id, "en") is None
        assert queries.project_detail(s, _scope(s, "head"), project_id, "en") is not None
        assert queries.project_detail(s, _scope(s, "head"), "99999", "en") is None
        assert project_id not in {r.id for r in queries.list_projects(s, _scope(s, "gridmgr"), "en")}
    # the application must lie in the project's area
    with city.write() as s, pytest.raises(ValidationFailed, match="outside the project's area"):
        gw.link_application(s, account(s, "manager"), project_id, version, rural_code)


def test_a_station_head_sees_the_county_project_their_application_waits_on(city):
    with city.write() as s:
        county = project(s, unit_code="JL-CY")
        order = application(s)
        with pytest.raises(NotFound):  # before any link, the county's project is not theirs
            gw.link_application(s, account(s, "head"), county.id, county.version, order.code)
        gw.link_application(s, account(s, "manager"), county.id, county.version, order.code)
        county_id = county.id
    with city.read() as s:
        assert county_id in {r.id for r in queries.list_projects(s, _scope(s, "head"), "en")}


def test_a_stale_version_is_a_conflict_and_the_first_change_stands(city):
    with city.write() as s:
        p = project(s)
        project_id, version = p.id, p.version
        gw.replan_milestone(s, account(s, "manager"), project_id, version, "approval",
                            plan(first_offset=8)["approval"])
    with city.write() as s, pytest.raises(Conflict, match="Someone else changed this project"):
        gw.record_funds(s, account(s, "manager"), project_id, version, 50, local(utcnow()).date())
    with city.read() as s:
        p = s.get(GridWorksProject, project_id)
        assert p.funds_arrived == 0 and p.version == version + 1
        assert p.milestones[0].planned_on.isoformat() == plan(first_offset=8)["approval"]


BAD = [
    ("complete", {"milestone": "design", "day": 0}, "Complete Approval first"),
    ("complete", {"milestone": "approval", "day": 2}, "future"),
    ("complete", {"milestone": "nonsense", "day": 0}, "Choose one of the listed values"),
    ("replan", {"milestone": "design", "day": -60}, "before the one it follows"),
    ("replan", {"milestone": "design", "day": "2026-02-30"}, "YYYY-MM-DD"),
    ("funds", {"amount": -5}, "above zero"),
    ("funds", {"amount": "lots"}, "above zero"),
    ("link", {"order": "A000"}, "no such work order"),
]


@pytest.mark.parametrize(("action", "values", "message"), BAD)
def test_bad_input_is_refused_with_a_message_and_changes_nothing(city, action, values, message):
    today = local(utcnow()).date()
    with city.write() as s:
        p = project(s)
        project_id, version = p.id, p.version
        before = [(m.planned_on, m.actual_on) for m in p.milestones]
    with city.write() as s:
        manager = account(s, "manager")
        day = values.get("day")
        day = today + timedelta(days=day) if isinstance(day, int) else day
        with pytest.raises((ValidationFailed, NotFound), match=message):
            if action == "complete":
                gw.complete_milestone(s, manager, project_id, version, values["milestone"], day)
            elif action == "replan":
                gw.replan_milestone(s, manager, project_id, version, values["milestone"], day)
            elif action == "funds":
                gw.record_funds(s, manager, project_id, version, values["amount"], today)
            else:
                gw.link_application(s, manager, project_id, version, values["order"])
    with city.read() as s:
        p = s.get(GridWorksProject, project_id)
        assert p.version == version and p.funds_arrived == 0
        assert [(m.planned_on, m.actual_on) for m in p.milestones] == before
        assert audit_count(s, project_id) == 1  # only its creation


def test_a_new_project_needs_a_name_a_unit_in_scope_and_plans_in_order(city):
    with city.write() as s:
        count = s.scalar(select(func.count()).select_from(GridWorksProject))
        dates = plan()
        dates["design"] = plan(first_offset=-30)["approval"]
        with pytest.raises(ValidationFailed) as refused:
            gw.create_project(s, account(s, "manager"), gw.ProjectInput(
                name=" ", unit_id=unit_id(s, "JL-CY-S"), planned=dates))
        assert set(refused.value.fields) == {"name", "planned.design"}
        with pytest.raises(Forbidden):
            gw.create_project(s, account(s, "head"), gw.ProjectInput(
                name="x", unit_id=unit_id(s, "JL-CY-S"), planned=plan()))
        assert s.scalar(select(func.count()).select_from(GridWorksProject)) == count


def test_replanning_a_milestone_pushes_later_ones_only_as_far_as_needed(city):
    with city.write() as s:
        p = project(s, planned=plan(first_offset=5, step=10))  # 5, 15, 25, 35, 45, 55
        p = gw.replan_milestone(s, account(s, "manager"), p.id, p.version, "funds_released",
                                plan(first_offset=32)["approval"], note="资金批复推迟")
        today = local(utcnow()).date()
        offsets = [(m.planned_on - today).days for m in p.milestones]
        assert offsets == [5, 32, 32, 35, 45, 55]
        assert [m.replans for m in p.milestones] == [0, 1, 1, 0, 0, 0]


def test_an_application_paused_for_the_customer_can_still_wait_on_grid_works(city):
    with city.write() as s:
        order = application(s)
        applications.pause(s, account(s, "head"), order.id, order.version, "customer_documents")
        p = project(s)
        gw.link_application(s, account(s, "head"), p.id, p.version, order.code)
        assert order.paused and order.holder == "customer" and gw_waiting(order)
        order = applications.resume(s, account(s, "head"), order.id, order.version)
        assert not order.paused and gw_waiting(order)  # the customer's pause ended, not the wait
        s.rollback()


def test_the_portals_own_codes_cannot_be_typed_for_a_new_project(city):
    """A typed "GW2026-00007" would collide with the code the portal gives project 7."""
    with city.write() as s:
        manager = account(s, "manager")
        unit = s.scalar(select(Unit).where(Unit.code == "JL-CY-S"))
        planned = {m: f"2027-0{i + 1}-15" for i, m in enumerate(
            ("approval", "funds_released", "design", "construction", "acceptance", "energised"))}
        with pytest.raises(ValidationFailed) as refused:
            gw.create_project(s, manager, gw.ProjectInput(
                name="配电台区新增工程", code="gw2026-00007", unit_id=unit.id, funds_expected=100,
                planned=planned))
        assert "given by the portal" in str(refused.value)
        s.rollback()


def test_a_grid_works_wait_is_not_ended_by_hand(city):
    """Only unlinking or energising ends a wait that an open project holds: "resume" does not
    touch it, and no pause for grid works can be made by hand."""
    with city.write() as s:
        order = application(s)
        p = project(s)
        gw.link_application(s, account(s, "head"), p.id, p.version, order.code)
        with pytest.raises(ValidationFailed) as refused:
            applications.resume(s, account(s, "head"), order.id, order.version)
        assert "not paused" in str(refused.value)
        with pytest.raises(ValidationFailed):
            applications.pause(s, account(s, "head"), order.id, order.version, "grid_works")
        assert gw_waiting(order)
        p = s.get(GridWorksProject, p.id)
        gw.unlink_application(s, account(s, "head"), p.id, p.version, order.code)
        assert not gw_waiting(s.get(WorkOrder, order.id)), "unlinking ended the wait"
        s.rollback()
