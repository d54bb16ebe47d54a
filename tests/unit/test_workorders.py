"""The three kinds of work: life cycles, clocks against the limits, pauses, conflicts, scope."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import pytest
from sqlalchemy import func, select

from station_portal.auth.models import User
from station_portal.errors import Conflict, Forbidden, NotFound, ValidationFailed
from station_portal.i18n import set_locale
from station_portal.org.models import Crew, Unit
from station_portal.services import applications, orders, parks, repairs, visits
from station_portal.sla.calendar import WorkCalendar
from station_portal.sla.clock import AT_RISK, MET, MISSED, ON_TRACK, OVERDUE
from station_portal.timefmt import SHANGHAI
from station_portal.workorders.clocks import refresh_now
from station_portal.workorders.models import StageClock, WorkOrder, WorkOrderEvent
from station_portal.workorders.states import CLOSED_STAMPS

CHANGYI = (43.8817, 126.5744)  # urban: Changyi service station
GUDIANZI = (43.9730, 126.4580)  # rural: a Gudianzi grid
BEIDAHU = (43.4480, 126.5750)  # remote


def at(*args) -> datetime:
    return datetime(*args, tzinfo=SHANGHAI)


def user(s, name) -> User:
    return s.scalar(select(User).where(User.username == name))


def crew_of(s, code) -> Crew:
    return s.scalar(select(Crew).where(Crew.code == code))


MONDAY_9 = at(2026, 3, 2, 9)
MONDAY_10 = at(2026, 3, 2, 10)


def repair(s, where=CHANGYI, reported=MONDAY_9, actor="head", **extra) -> WorkOrder:
    data = repairs.RepairInput(source="hotline_95598", category="low_voltage", urgency=2,
                               lat=where[0], lon=where[1], address="吉林市昌邑区通江路12号",
                               customer_name="王先生", customer_phone="13900000000",
                               reported_at=reported, **extra)
    return repairs.create_repair(s, user(s, actor) if actor else None, data, now=reported)


def clock(order, stage) -> StageClock:
    return next(c for c in order.clocks if c.stage == stage)


def events(s, order) -> list[str]:
    return list(s.scalars(select(WorkOrderEvent.action).where(
        WorkOrderEvent.work_order_id == order.id).order_by(WorkOrderEvent.id)))


# -- repairs ---------------------------------------------------------------------------

def test_a_repair_is_routed_and_its_arrival_clock_runs(db):
    with db.write() as s:
        order = repair(s)
        station = s.scalar(select(Unit.id).where(Unit.code == "JL-CY-S"))
        assert order.unit_id == station and order.area_type == "urban"
        assert order.code.startswith("R20260302")
        assert clock(order, "arrival").due_at == at(2026, 3, 2, 9, 45)
        assert clock(order, "restoration").started_at is None
        assert order.sla_status == ON_TRACK and order.due_at == at(2026, 3, 2, 9, 45)
        assert events(s, order) == ["created"]


@pytest.mark.parametrize(("where", "minutes"), [(GUDIANZI, 90), (BEIDAHU, 120)])
def test_rural_and_remote_repairs_get_longer_arrival_limits(db, where, minutes):
    with db.write() as s:
        order = repair(s, where=where, actor=None)
        assert clock(order, "arrival").due_at == at(2026, 3, 2, 9) + timedelta(minutes=minutes)


def test_a_full_repair_stamps_every_step_and_meets_its_limits(db):
    with db.write() as s:
        head, crew = user(s, "head"), crew_of(s, "JL-CY-S-R2")
        order = repair(s)
        steps = [("dispatch", at(2026, 3, 2, 9, 3)), ("accept", at(2026, 3, 2, 9, 4)),
                 ("depart", at(2026, 3, 2, 9, 5)), ("arrive", at(2026, 3, 2, 9, 40)),
                 ("restore", at(2026, 3, 2, 11, 0)), ("close", at(2026, 3, 2, 11, 30))]
        for action, when in steps:
            order = repairs.repair_action(s, head, order.id, order.version, action, crew_id=crew.id,
                                          at=when, now=when)
        assert order.status == "closed"
        assert all(getattr(order, stamp) for stamp in CLOSED_STAMPS)
        assert clock(order, "arrival").status == MET
        assert clock(order, "restoration").started_at == at(2026, 3, 2, 9, 40)
        assert clock(order, "restoration").due_at == at(2026, 3, 2, 12, 40)
        assert clock(order, "restoration").status == MET
        assert events(s, order) == ["created", "dispatch", "accept", "depart", "arrive",
                                    "restore", "close"]


def test_a_late_arrival_is_missed(db):
    with db.write() as s:
        head, crew = user(s, "head"), crew_of(s, "JL-CY-S-R2")
        order = repair(s)
        for action, when in [("dispatch", at(2026, 3, 2, 9, 30)), ("accept", at(2026, 3, 2, 9, 31)),
                             ("depart", at(2026, 3, 2, 9, 32)), ("arrive", at(2026, 3, 2, 10, 5))]:
            order = repairs.repair_action(s, head, order.id, order.version, action, crew_id=crew.id,
                                          at=when, now=when)
        assert clock(order, "arrival").status == MISSED


def test_an_unanswered_repair_becomes_at_risk_then_overdue(db):
    with db.write() as s:
        order = repair(s)
        refresh_now(order, at(2026, 3, 2, 9, 40))
        assert order.sla_status == AT_RISK  # past 80 % of 45 minutes
        refresh_now(order, at(2026, 3, 2, 10))
        assert order.sla_status == OVERDUE and clock(order, "arrival").status == OVERDUE


@pytest.mark.parametrize("action", ["close", "restore", "arrive", "accept", "fly"])
def test_invalid_transitions_are_refused_and_change_nothing(db, action):
    with db.write() as s:
        order = repair(s)
        version = order.version
        with pytest.raises(ValidationFailed):
            repairs.repair_action(s, user(s, "head"), order.id, version, action,
                                  now=at(2026, 3, 2, 9, 10))
        s.refresh(order)
        assert order.status == "reported" and order.version == version
        assert events(s, order) == ["created"]


def test_times_from_the_field_cannot_run_ahead_or_backwards(db):
    with db.write() as s:
        head, crew = user(s, "head"), crew_of(s, "JL-CY-S-R2")
        order = repair(s)
        with pytest.raises(ValidationFailed, match="future"):
            repairs.repair_action(s, head, order.id, order.version, "dispatch", crew_id=crew.id,
                                  at=at(2026, 3, 2, 10), now=at(2026, 3, 2, 9, 5))
        with pytest.raises(ValidationFailed, match="before"):
            repairs.repair_action(s, head, order.id, order.version, "dispatch", crew_id=crew.id,
                                  at=at(2026, 3, 2, 8), now=at(2026, 3, 2, 9, 5))


def test_dispatch_needs_a_crew_of_the_heads_own_area(db):
    with db.write() as s:
        order = repair(s)
        other = crew_of(s, "JL-CH-S-R1")
        with pytest.raises(ValidationFailed) as caught:
            repairs.repair_action(s, user(s, "head"), order.id, order.version, "dispatch",
                                  crew_id=other.id, now=at(2026, 3, 2, 9, 5))
        assert "crew_id" in caught.value.fields


def test_a_transfer_hands_the_repair_over_and_the_customer_clock_keeps_running(db):
    with db.write() as s:
        order = repair(s, actor=None)
        target = s.scalar(select(Unit).where(Unit.code == "JL-LT-S"))
        order = repairs.repair_action(s, None, order.id, order.version, "transfer", unit_id=target.id,
                                      reason="属龙潭站辖区", now=at(2026, 3, 2, 9, 10))
        assert order.status == "transferred" and order.unit_id == target.id
        assert clock(order, "arrival").due_at == at(2026, 3, 2, 9, 45)
        with pytest.raises(NotFound):  # the Changyi head no longer sees it
            orders.add_note(s, user(s, "head"), order.id, "x", now=at(2026, 3, 2, 9, 11))


def test_a_crew_member_may_report_but_not_dispatch(db):
    with db.write() as s:
        crew_user = user(s, "crew")
        order = repair(s)
        with pytest.raises(Forbidden):
            repairs.repair_action(s, crew_user, order.id, order.version, "dispatch",
                                  crew_id=crew_user.staff.membership.crew_id, now=at(2026, 3, 2, 9, 5))
        order = repairs.repair_action(s, user(s, "head"), order.id, order.version, "dispatch",
                                      crew_id=crew_user.staff.membership.crew_id,
                                      now=at(2026, 3, 2, 9, 5))
        order = repairs.repair_action(s, crew_user, order.id, order.version, "accept",
                                      now=at(2026, 3, 2, 9, 6))
        assert order.status == "accepted"


def test_another_station_cannot_see_or_touch_the_order(db):
    with db.write() as s:
        order = repair(s)
        from station_portal.services.users import UserInput, create_user

        stranger = create_user(s, None, username=f"ch{order.id}", password="long enough pass",
                               data=UserInput(display_name="CH", role="station_head",
                                              scope_unit_id=s.scalar(select(Unit.id).where(
                                                  Unit.code == "JL-CH-S"))),
                               allow_demo_password=False)
        with pytest.raises(NotFound):
            repairs.repair_action(s, stranger, order.id, order.version, "cancel", reason="x",
                                  now=at(2026, 3, 2, 9, 5))


def test_a_location_outside_the_territory_or_the_heads_area_is_refused(db):
    with db.write() as s:
        before = s.scalar(select(func.count()).select_from(WorkOrder))
        with pytest.raises(ValidationFailed, match="service territory"):
            repair(s, where=(39.9, 116.4))
        with pytest.raises(ValidationFailed, match="your area"):
            repair(s, where=GUDIANZI)  # the Changyi head, a rural location
        with pytest.raises(ValidationFailed) as caught:
            repairs.create_repair(s, None, repairs.RepairInput(source="fax", category="x", urgency=9,
                                                               lat=CHANGYI[0], lon=CHANGYI[1]))
        assert {"source", "category", "urgency", "address"} <= set(caught.value.fields)
        assert s.scalar(select(func.count()).select_from(WorkOrder)) == before


def test_a_stale_version_is_a_conflict_and_nothing_is_overwritten(db):
    with db.write() as s:
        head, crew = user(s, "head"), crew_of(s, "JL-CY-S-R2")
        order = repair(s)
        seen = order.version
        repairs.repair_action(s, head, order.id, seen, "dispatch", crew_id=crew.id,
                              now=at(2026, 3, 2, 9, 5))
        with pytest.raises(Conflict):
            repairs.repair_action(s, head, order.id, seen, "cancel", reason="dup",
                                  now=at(2026, 3, 2, 9, 6))
        assert order.status == "dispatched"
        assert events(s, order) == ["created", "dispatch"]


# -- connection applications -----------------------------------------------------------

# What a customer states to end up in each class (the utility decides the class from it).
STATED = {"lv_resident": ("resident", 8.0, False), "lv_small_firm": ("non_resident", 80.0, True),
          "lv_non_resident": ("non_resident", 100.0, False),
          "hv_single": ("non_resident", 800.0, False), "hv_dual": ("non_resident", 4000.0, False)}


def application(s, klass="hv_single", important=True, when=MONDAY_10, actor="head",
                where=CHANGYI, accept=True, business="new_connection") -> WorkOrder:
    customer_type, load, small = STATED[klass]
    data = applications.ApplicationInput(business_type=business, customer_type=customer_type,
                                         load_kw=load, small_firm=small,
                                         capacity_kva=1250.0 if klass.startswith("hv") else None,
                                         customer_name="吉林松江化工有限公司",
                                         lat=where[0], lon=where[1], address="昌邑区化工路1号",
                                         important=important, applied_at=when)
    order = applications.create_application(s, user(s, actor) if actor else None, data, accept=accept,
                                            now=when)
    assert order.customer_class == ("hv_single" if klass == "hv_dual" else klass)
    return order


def test_an_important_hv_application_has_the_full_path_and_the_2023_limits(db):
    with db.write() as s:
        order = application(s)
        assert [c.stage for c in order.clocks] == [
            "acceptance", "site_survey", "supply_plan", "design_review", "customer_construction",
            "mid_inspection", "customer_finishing", "completion_inspection", "contract",
            "connection", "archiving", "total"]
        assert order.ruleset_id == "sgcc-2023" and order.current_stage == "site_survey"
        # supply plan reply runs from acceptance: 10 working days from Mon 2 March (the 2023
        # set's allocation of the 22-day whole process)
        assert clock(order, "supply_plan").started_at == at(2026, 3, 2, 10)
        assert clock(order, "supply_plan").due_at == at(2026, 3, 17)
        assert clock(order, "total").due_at == at(2026, 4, 2)  # 22 working days, Qingming aside
        assert clock(order, "site_survey").due_at is None  # no published limit
        county = s.scalar(select(Unit.id).where(Unit.code == "JL-CY"))
        assert clock(order, "supply_plan").holder_unit_id == county
        metering = s.scalar(select(Unit.id).where(Unit.code == "JL-CY-MT"))
        assert clock(order, "connection").holder_unit_id == metering


def test_the_rule_set_is_the_one_in_force_on_the_acceptance_date(db):
    with db.write() as s:
        order = application(s, when=at(2023, 11, 1, 10), actor=None)
        assert order.ruleset_id == "sgcc-older"
        assert clock(order, "total").due_at is None  # the older set gives no total
        assert clock(order, "supply_plan").limit_amount == 15


def test_an_lv_resident_takes_the_short_path_held_by_the_station_groups(db):
    with db.write() as s:
        order = application(s, klass="lv_resident", important=False)
        assert [c.stage for c in order.clocks] == ["acceptance", "connection", "archiving", "total"]
        assert order.current_stage == "connection"
        repair_group = s.scalar(select(Unit.id).where(Unit.code == "JL-CY-S-LVR"))
        assert clock(order, "connection").holder_unit_id == repair_group
        assert clock(order, "connection").due_at == at(2026, 3, 6)  # 3 working days
        assert clock(order, "total").due_at == at(2026, 3, 10)  # 5 working days


def test_advancing_through_the_stages_completes_the_application(db):
    with db.write() as s:
        head = user(s, "head")
        order = application(s, klass="lv_resident", important=False)
        order = applications.advance_stage(s, head, order.id, order.version, note="表计已装",
                                           at=at(2026, 3, 4, 15), now=at(2026, 3, 4, 15))
        assert clock(order, "connection").status == MET
        assert clock(order, "total").status == MET and order.current_stage == "archiving"
        order = applications.advance_stage(s, head, order.id, order.version, now=at(2026, 3, 5, 9))
        assert order.status == "completed" and order.closed_at == at(2026, 3, 5, 9)
        assert events(s, order) == ["created", "accepted", "stage_done", "stage_done",
                                    "stage_done"]


def test_a_pause_extends_the_deadlines_and_the_customer_holds_the_time(db):
    with db.write() as s:
        head = user(s, "head")
        order = application(s, klass="lv_resident", important=False)
        order = applications.pause(s, head, order.id, order.version, "customer_documents",
                                   note="缺房产证明", at=at(2026, 3, 3, 10), now=at(2026, 3, 3, 10))
        assert order.paused and order.holder == "customer"
        with pytest.raises(ValidationFailed):  # a paused stage cannot be finished
            applications.advance_stage(s, head, order.id, order.version, now=at(2026, 3, 4))
        order = applications.resume(s, head, order.id, order.version, at=at(2026, 3, 5, 10),
                                    now=at(2026, 3, 5, 10))
        assert not order.paused
        # paused Tue 10:00 to Thu 10:00: two working days later than without the pause
        assert clock(order, "connection").due_at == at(2026, 3, 10)
        assert clock(order, "total").due_at == at(2026, 3, 12)
        assert clock(order, "connection").paused_amount == pytest.approx(2.0)


def test_customer_construction_does_not_count_against_the_utility(db):
    with db.write() as s:
        order = application(s, important=False, actor=None)
        for stage, when in [("site_survey", at(2026, 3, 3, 10)), ("supply_plan", at(2026, 3, 9, 10))]:
            assert order.current_stage == stage
            order = applications.advance_stage(s, None, order.id, None, at=when, now=when)
        assert order.current_stage == "customer_construction" and order.holder == "customer"
        due_before = clock(order, "total").due_at
        later = at(2026, 4, 20, 10)  # six weeks of the customer's works
        order = applications.advance_stage(s, None, order.id, None, at=later, now=later)
        shift = clock(order, "total").due_at - due_before
        assert shift > timedelta(days=40)  # the customer's weeks were not the utility's


def test_an_application_of_another_station_cannot_be_advanced(db):
    with db.write() as s:
        order = application(s, where=GUDIANZI, actor=None)
        with pytest.raises(NotFound):
            applications.advance_stage(s, user(s, "head"), order.id, order.version, now=at(2026, 3, 3))
        applications.advance_stage(s, user(s, "gridmgr"), order.id, order.version, now=at(2026, 3, 3))


def test_pause_reasons_and_notes_are_checked(db):
    with db.write() as s:
        order = application(s, klass="lv_resident", important=False)
        with pytest.raises(ValidationFailed) as caught:
            applications.pause(s, user(s, "head"), order.id, order.version, "coffee", note="x" * 400,
                               now=at(2026, 3, 3))
        assert {"reason", "note"} <= set(caught.value.fields)


# -- industrial-park cases ---------------------------------------------------------------

def test_a_park_case_follows_its_milestones_into_a_formal_application(db):
    with db.write() as s:
        account = user(s, "account")
        client = account.clients[0]
        case = parks.create_park_case(s, account, parks.ParkCaseInput(
            client_id=client.id, projected_load_kw=2500, projected_date=date(2027, 6, 1),
            visit_planned_for=at(2026, 3, 10, 9),
            milestone_plan={"first_contact": at(2026, 3, 5), "load_survey": at(2026, 3, 20)}),
                                      now=at(2026, 3, 2, 9))
        assert case.status == "open" and case.current_stage == "first_contact"
        case = parks.complete_milestone(s, account, case.id, case.version, "first_contact",
                                        note="已对接", now=at(2026, 3, 4, 9))
        assert clock(case, "first_contact").status == MET
        assert case.current_stage == "load_survey"
        formal = application(s, klass="hv_single", actor=None, where=(client.lat, client.lon))
        formal.client_id = client.id
        with pytest.raises(ValidationFailed):  # another client's application will not do
            parks.complete_milestone(s, account, case.id, case.version, "formal_application",
                                     application_id=application(s, actor=None).id,
                                     now=at(2026, 3, 25, 9))
        case = parks.complete_milestone(s, account, case.id, case.version, "formal_application",
                                        application_id=formal.id, now=at(2026, 3, 25, 9))
        assert case.status == "applied" and case.application_id == formal.id
        assert clock(case, "load_survey").status == OVERDUE  # planned for 20 March, not done
        visit = case_visits(s, case)[0]
        visits.record(s, account, visit.id, case_id=case.id, note="看了现场", now=at(2026, 3, 10, 11))
        assert case_visits(s, case)[0].done_at == at(2026, 3, 10, 11)


def case_visits(s, case):
    from station_portal.workorders.models import ParkVisit

    return list(s.scalars(select(ParkVisit).where(ParkVisit.work_order_id == case.id)))


# -- delay attribution -----------------------------------------------------------------

def test_attribution_says_who_held_the_case_and_who_made_it_late(db):
    from station_portal.sla.calendar import WorkCalendar
    from station_portal.workorders.attribution import current_hold, holds, shares

    cal = WorkCalendar.default()
    with db.write() as s:
        order = application(s, important=False, actor=None)  # hv_single, accepted Mon 2 March
        county = s.scalar(select(Unit.id).where(Unit.code == "JL-CY"))
        order = applications.advance_stage(s, None, order.id, None, at=at(2026, 3, 4, 10),
                                           now=at(2026, 3, 4, 10))  # survey done
        order = applications.pause(s, None, order.id, None, "customer_documents", at=at(2026, 3, 5, 10),
                                   now=at(2026, 3, 5, 10))
        order = applications.resume(s, None, order.id, None, at=at(2026, 3, 10, 10), now=at(2026, 3, 10, 10))
        # supply plan due 24:00 Mon 16 March (10 working days) + 3 paused (Fri, Mon, Tue)
        assert clock(order, "supply_plan").due_at == at(2026, 3, 20)
        now = at(2026, 3, 24, 10)  # still no plan: late all of Fri and Mon, and Tue until 10:00
        pieces = holds(order, now)
        # survey, plan (until the pause), the customer, plan again; acceptance took no time
        assert [(p.holder, p.stage) for p in pieces] == [
            ("unit", "site_survey"), ("unit", "supply_plan"), ("customer", "supply_plan"),
            ("unit", "supply_plan")]
        assert current_hold(order, now).unit_id == county
        result = {(r.holder, r.unit_id): r for r in shares(order, now, cal)}
        assert result[("customer", None)].held_workdays == pytest.approx(3.0)
        late = result[("unit", county)]
        assert late.late_workdays == 3  # whole working days: Fri, Mon and (part of) Tue
        assert "supply_plan" in late.stages
        assert shares(order, now, cal)[0].unit_id == county  # the latest first


def test_waiting_on_grid_works_never_stops_a_clock_but_is_attributed(db):
    """A wait on grid works is no pause: the due times stay, the time is shown as grid works'."""
    from station_portal.workorders.attribution import holds

    with db.write() as s:
        order = application(s, klass="hv_single", important=False, actor=None)
        dues = {c.stage: c.due_at for c in order.clocks}
        applications.set_grid_works_wait(s, None, order, waiting=True, note="GW1", now=at(2026, 3, 3, 10))
        assert not order.paused and order.holder == "unit"
        applications.set_grid_works_wait(s, None, order, waiting=False, note="GW1", now=at(2026, 3, 9, 10))
        refresh_now(order, at(2026, 3, 9, 10))
        assert {c.stage: c.due_at for c in order.clocks} == dues  # HV: no rule, nothing moves
        assert ("grid_works", "site_survey") in [(h.holder, h.stage)
                                                 for h in holds(order, at(2026, 3, 9, 10))]
        with pytest.raises(ValidationFailed) as refused:  # and never by hand as a pause
            applications.pause(s, user(s, "head"), order.id, order.version, "grid_works", now=at(2026, 3, 9))
        assert "reason" in refused.value.fields

        # the limits a rule set gives grid works: see tests/integration/test_gridworks.py
        s.rollback()


def test_the_supply_plan_decides_single_or_dual_supply(db):
    with db.write() as s:
        head = user(s, "head")
        order = application(s, klass="hv_dual", important=False)
        assert clock(order, "total").limit_amount == 22  # single supply until the plan says
        order = applications.advance_stage(s, head, order.id, order.version, now=at(2026, 3, 3, 10))
        with pytest.raises(ValidationFailed) as bad:
            applications.advance_stage(s, head, order.id, order.version, supply="triple",
                                       now=at(2026, 3, 9, 10))
        assert "supply" in bad.value.fields and order.current_stage == "supply_plan"
        order = applications.advance_stage(s, head, order.id, order.version, supply="dual",
                                           now=at(2026, 3, 9, 10))
        assert order.customer_class == "hv_dual"
        assert clock(order, "total").limit_amount == 32
        assert clock(order, "connection").limit_amount == 4
        assert "class_decided" in events(s, order)
        lv = application(s, klass="lv_non_resident", important=False)
        with pytest.raises(ValidationFailed):  # only a high-voltage plan decides the supply
            applications.advance_stage(s, head, lv.id, lv.version, supply="dual", now=at(2026, 3, 3, 10))
        s.rollback()


def test_a_name_change_has_no_metering_clock_and_no_whole_process_limit(db):
    with db.write() as s:
        order = application(s, klass="lv_resident", important=False, business="name_change")
        assert [c.stage for c in order.clocks] == [
            "acceptance", "account_change", "archiving", "total"]
        assert clock(order, "total").limit_amount is None
        order = applications.advance_stage(s, user(s, "head"), order.id, order.version,
                                           now=at(2026, 3, 3, 10))
        assert clock(order, "total").ended_at == at(2026, 3, 3, 10)  # ends with the records
        s.rollback()


# -- concurrency -------------------------------------------------------------------------

def test_two_concurrent_updates_one_wins_the_other_gets_the_conflict(db):
    """Two station heads act on the same order with the version they both saw."""
    import threading

    with db.write() as s:
        order = repair(s)
        order_id, seen = order.id, order.version
        crews = [crew_of(s, "JL-CY-S-R4").id, crew_of(s, "JL-CY-S-R5").id]
    barrier = threading.Barrier(2)
    outcomes: list[str] = []

    def act(crew_id: int) -> None:
        set_locale("en")  # a new thread starts in the default language
        barrier.wait()
        try:
            with db.write() as s:
                repairs.repair_action(s, user(s, "head"), order_id, seen, "dispatch", crew_id=crew_id,
                                      now=at(2026, 3, 2, 9, 5))
            outcomes.append("won")
        except Conflict as exc:
            outcomes.append(exc.message)

    threads = [threading.Thread(target=act, args=(c,)) for c in crews]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert outcomes.count("won") == 1 and len(outcomes) == 2
    assert "Someone else changed this work order" in next(o for o in outcomes if o != "won")
    with db.read() as s:
        assert events(s, s.get(WorkOrder, order_id)) == ["created", "dispatch"]
        assert s.get(WorkOrder, order_id).version == seen + 1


def test_pauses_survive_a_change_of_rule_set(db):
    """If an application is put under another rule set, its pauses still extend the clocks."""
    from station_portal.sla.rules import RuleSet
    from station_portal.workorders.clocks import apply_rule_set

    with db.write() as s:
        order = application(s, klass="hv_single", important=False, actor=None)
        order = applications.advance_stage(s, None, order.id, None, at=at(2026, 3, 3, 10),
                                           now=at(2026, 3, 3, 10))
        order = applications.pause(s, None, order.id, None, "customer_documents", at=at(2026, 3, 4, 12),
                                   now=at(2026, 3, 4, 12))
        order = applications.resume(s, None, order.id, None, at=at(2026, 3, 6, 12), now=at(2026, 3, 6, 12))
        paused = clock(order, "supply_plan").paused_amount
        assert paused == pytest.approx(2.0)
        apply_rule_set(order, RuleSet.by_id("sgcc-older"), order.accepted_at)
        refresh_now(order, at(2026, 3, 6, 12))
        assert clock(order, "supply_plan").paused_amount == pytest.approx(2.0)
        assert clock(order, "supply_plan").due_at == at(2026, 3, 26)  # 15 + 2 working days
        s.rollback()


# -- regressions from review -----------------------------------------------------------

def test_a_pause_inside_the_customers_own_stage_is_not_counted_twice(db):
    with db.write() as s:
        order = application(s, important=False, actor=None)
        for when in (at(2026, 3, 3, 10), at(2026, 3, 9, 10)):  # survey, plan
            order = applications.advance_stage(s, None, order.id, None, at=when, now=when)
        assert order.current_stage == "customer_construction"
        plain = clock(order, "total").due_at
        order = applications.pause(s, None, order.id, None, "customer_request", at=at(2026, 3, 16, 9),
                                   now=at(2026, 3, 16, 9))
        order = applications.resume(s, None, order.id, None, at=at(2026, 3, 23, 9), now=at(2026, 3, 23, 9))
        refresh_now(order, at(2026, 3, 23, 9))
        # the pause lies inside the customer's stage: the clock stood still once, not twice —
        # the working days after Mon 9 March up to Mon 23 March
        assert clock(order, "total").paused_amount == 10
        assert clock(order, "total").due_at > plain


def test_the_warning_moves_with_a_pause_like_the_due_time(db):
    with db.write() as s:
        order = application(s, klass="lv_resident", important=False)
        warn_before = clock(order, "connection").warn_at
        due_before = clock(order, "connection").due_at
        order = applications.pause(s, None, order.id, None, "customer_documents", at=at(2026, 3, 3, 10),
                                   now=at(2026, 3, 3, 10))
        order = applications.resume(s, None, order.id, None, at=at(2026, 3, 5, 10), now=at(2026, 3, 5, 10))
        cal = WorkCalendar.default()
        assert cal.workdays_between(due_before, clock(order, "connection").due_at) == \
            pytest.approx(2.0)
        assert cal.workdays_between(warn_before, clock(order, "connection").warn_at) == \
            pytest.approx(2.0)


def test_a_cancelled_order_counts_neither_met_nor_missed(db):
    with db.write() as s:
        order = repair(s)
        order = repairs.repair_action(s, user(s, "head"), order.id, order.version, "cancel",
                                      reason="客户已自行恢复", now=at(2026, 3, 2, 9, 20))
        assert clock(order, "arrival").status == "cancelled"
        assert order.sla_status is None


def test_an_important_application_without_a_client_can_be_walked_to_the_end(db):
    """Every stage of every path can be completed by the station head who owns the site."""
    with db.write() as s:
        head = user(s, "head")
        for klass in ("lv_non_resident", "hv_single", "hv_dual"):
            order = application(s, klass=klass, important=True)
            when = MONDAY_10
            while order.status == "in_progress":
                when += timedelta(days=3)
                dual = "dual" if klass == "hv_dual" and order.current_stage == "supply_plan" \
                    else None
                order = applications.advance_stage(s, head, order.id, order.version, at=when, now=when,
                                                   supply=dual)
            assert order.customer_class == klass
            assert order.status == "completed", klass


def test_every_stage_can_be_completed_by_a_role_that_owns_territory():
    from station_portal.org.matrix import load_matrix
    from station_portal.sla.stages import stage_book

    movers = load_matrix().action("advance_stage").roles
    for stage in stage_book().stages.values():
        assert stage.roles & movers & {"station_head", "grid_manager"}, stage.code


def test_two_people_recording_the_same_visit_record_it_once(db):
    import threading

    with db.write() as s:
        account = user(s, "account")
        case = parks.create_park_case(s, account, parks.ParkCaseInput(
            client_id=account.clients[0].id, projected_load_kw=900, projected_date=date(2027, 3, 1),
            visit_planned_for=at(2026, 3, 10, 9)), now=at(2026, 3, 2, 9))
        visit_id = case_visits(s, case)[0].id
        case_id = case.id
    barrier, results = threading.Barrier(2), []

    def record(note):
        set_locale("en")
        barrier.wait()
        try:
            with db.write() as s:
                visits.record(s, user(s, "account"), visit_id, case_id=case_id, note=note,
                              now=at(2026, 3, 10, 12))
            results.append("ok")
        except ValidationFailed:
            results.append("refused")

    threads = [threading.Thread(target=record, args=(n,)) for n in ("甲", "乙")]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(results) == ["ok", "refused"]
    with db.read() as s:
        assert s.scalar(select(func.count()).where(WorkOrderEvent.work_order_id == case_id,
                                                   WorkOrderEvent.action == "visit_done")) == 1


def test_publishing_a_years_calendar_moves_open_deadlines(db, monkeypatch, tmp_path):
    """Deadlines in an uncovered year are provisional; recompute-clocks firms them up."""
    from station_portal.sla import calendar as calendar_module
    from station_portal.workorders import clocks as clocks_module

    with db.write() as s:
        order = application(s, klass="lv_resident", important=False,
                            when=at(2026, 12, 30, 10), actor=None)
        assert clock(order, "connection").provisional
        # Thu 31 Dec, Mon 4, Tue 5 Jan: 1 January off by the law, provisional
        assert clock(order, "connection").due_at == at(2027, 1, 6)
        order_id = order.id
    overrides = tmp_path / "overrides.toml"
    overrides.write_text('[year.2027]\nsource = "test notice"\nholidays = [2027-01-01, 2027-01-04]\n')
    published = calendar_module.WorkCalendar.from_sources(overrides)
    monkeypatch.setattr(clocks_module.WorkCalendar, "default", classmethod(lambda cls: published))
    with db.write() as s:
        changed = orders.recompute_open_clocks(s, now=at(2027, 1, 2, 9))
        order = s.get(WorkOrder, order_id)
        assert changed >= 1
        assert clock(order, "connection").due_at == at(2027, 1, 7)  # 1 and 4 January off
        assert not clock(order, "connection").provisional
        assert events(s, order)[-1] == "clocks_recomputed"
