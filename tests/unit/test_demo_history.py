"""The demo year of work: seasons, open and closed orders, clocks the engine agrees with."""

from __future__ import annotations

from collections import Counter
from datetime import datetime

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from station_portal.demo.city import build_demo_city
from station_portal.demo.orders import seed_history
from station_portal.services.orders import recompute_open_clocks
from station_portal.sla.classes import CUSTOMER_CLASSES, is_high_voltage
from station_portal.sla.rules import RuleSet
from station_portal.sla.stages import stage_book
from station_portal.timefmt import SHANGHAI, local
from station_portal.workorders.clocks import refresh_now
from station_portal.workorders.models import ClockPause, WorkOrder, WorkOrderEvent
from tests.helpers import fresh_database

NOW = datetime(2026, 11, 20, 15, 30, tzinfo=SHANGHAI)


@pytest.fixture(scope="module")
def history(tmp_path_factory):
    db = fresh_database("sqlite", tmp_path_factory.mktemp("history"))
    with db.write() as s:
        build_demo_city(s, seed=7)
        # seed 6: at NOW, open applications include customer pauses, customer stages and
        # waits on grid works (a small firm's among them)
        report = seed_history(s, n_orders=6000, seed=6, now=NOW)
    yield db, report
    db.dispose()


def test_the_history_has_the_three_kinds_over_a_year(history):
    db, report = history
    assert report.repairs > 4000 and report.applications > 1000 and report.park_cases > 0
    with db.read() as s:
        first, last = s.execute(select(func.min(WorkOrder.created_at),
                                       func.max(WorkOrder.created_at))).one()
        assert (NOW - first).days >= 300 and last <= NOW
        open_repairs = s.scalar(select(func.count()).where(
            WorkOrder.kind == "repair", WorkOrder.closed_at.is_(None)))
        assert open_repairs > 0  # the latest calls are still being worked on


def test_repairs_peak_in_summer_and_winter_and_applications_in_the_building_season(history):
    db, _ = history
    with db.read() as s:
        rows = s.execute(select(WorkOrder.kind, WorkOrder.created_at)).all()
    repairs = Counter(local(t).month for k, t in rows if k == "repair")
    applications = Counter(local(t).month for k, t in rows if k == "application")
    assert repairs[7] > 1.3 * repairs[4] and repairs[1] > 1.2 * repairs[4]
    assert applications[5] > 1.5 * applications[1]


def test_stored_clocks_are_what_the_engine_computes(history):
    """The vectorised generator and the services' clock engine agree to the second:
    every application and every seventh repair, with what finished clocks used."""
    db, _ = history
    with db.read() as s:
        orders = s.scalars(select(WorkOrder).options(
            selectinload(WorkOrder.clocks), selectinload(WorkOrder.pauses))
            .where(WorkOrder.kind != "park_case").order_by(WorkOrder.id)).all()
        checked = 0
        for k, order in enumerate(orders):
            if order.kind == "repair" and k % 7:
                continue
            stored = [(c.stage, c.due_at, c.warn_at, c.status, c.provisional, c.paused_amount,
                       c.used, c.late_by) for c in order.clocks]
            summary = (order.due_at, order.sla_status, order.holder, order.paused)
            s.expunge(order)
            refresh_now(order, NOW)
            for (stage, due, warn, status, provisional, paused, used, late), clock in zip(
                    stored, order.clocks, strict=True):
                where = (order.code, stage)
                assert (status, provisional) == (clock.status, clock.provisional), where
                assert paused == pytest.approx(clock.paused_amount, abs=1e-5), where
                assert (used, late) == (clock.used, clock.late_by), where
                for mine, engine in ((due, clock.due_at), (warn, clock.warn_at)):
                    if mine is None:
                        assert engine is None, where
                    else:
                        assert abs((mine - engine).total_seconds()) < 1, where
            assert summary[0] == order.due_at, order.code
            assert summary[1:] == (order.sla_status, order.holder, order.paused), order.code
            checked += 1
    assert checked > 1500


def test_recomputing_the_open_orders_moves_no_due_time(history):
    """What `station-portal recompute-clocks` does after a rule or calendar change finds
    nothing to move in a fresh demo, whatever the open applications wait for."""
    db, _ = history
    session = db.new_read_session()
    try:
        open_apps = session.scalars(select(WorkOrder).options(
            selectinload(WorkOrder.clocks), selectinload(WorkOrder.pauses))
            .where(WorkOrder.kind == "application", WorkOrder.closed_at.is_(None))).all()
        cases = Counter()
        for order in open_apps:
            reasons = {(p.reason, p.ended_at is None) for p in order.pauses}
            cases["paused now"] += order.paused
            cases["paused before"] += any(r != "grid_works" and not still
                                          for r, still in reasons)
            cases["customer stage"] += any(c.holder == "customer" and c.entered_at is not None
                                           for c in order.clocks)
            cases["waits on grid works"] += ("grid_works", True) in reasons
            cases["small firm waits"] += ("grid_works", True) in reasons and \
                order.customer_class == "lv_small_firm"
        assert all(cases[k] > 0 for k in ("paused now", "paused before", "customer stage",
                                          "waits on grid works", "small firm waits")), cases
        assert recompute_open_clocks(session, now=NOW) == 0
    finally:
        session.rollback()
        session.close()


def test_applications_are_classified_from_what_the_applicant_states(history):
    """Five classes, the nineteen businesses' paths, kW for every load, kVA only for high
    voltage; dual supply only once the supply plan decided it."""
    db, _ = history
    book = stage_book()
    with db.read() as s:
        apps = s.scalars(select(WorkOrder).options(selectinload(WorkOrder.clocks))
                         .where(WorkOrder.kind == "application")).all()
        decided = {e.work_order_id for e in s.scalars(select(WorkOrderEvent).where(
            WorkOrderEvent.action == "class_decided"))}
    assert set(Counter(a.customer_class for a in apps)) == set(CUSTOMER_CLASSES)
    assert len({a.business_type for a in apps}) >= 15
    for order in apps:
        assert order.load_kw is not None and order.load_kw > 0, order.code
        high = is_high_voltage(order.customer_class)
        assert (order.capacity_kva is not None) == high, order.code
        assert high == (order.load_kw > book.lv_max_kw), order.code
        path = book.path_for(order.business_type, "hv_single" if high else order.customer_class,
                             important=order.important)
        assert [c.stage for c in order.clocks] == [*path, "total"], order.code
        supply_plan = next((c for c in order.clocks if c.stage == "supply_plan"), None)
        if order.customer_class == "hv_dual":
            assert supply_plan is not None and supply_plan.ended_at is not None, order.code
            assert order.id in decided, order.code  # the timeline says when and why


def test_grid_works_waits_stop_no_clock_and_take_the_rule_sets_limits(history):
    """A wait on grid works lies in the connection stage, never before; it pauses nothing
    and leaves the order with the stage's unit; while it lasts, and once the works are
    energised, the rule set's grid-works limits apply (the small firm's separate limit), as
    the grid-works services set them."""
    db, _ = history
    with db.read() as s:
        waits = s.scalars(select(ClockPause).where(ClockPause.reason == "grid_works")).all()
        assert len(waits) > 20
        for wait in waits:
            order = s.get(WorkOrder, wait.work_order_id)
            rules = RuleSet.by_id(order.ruleset_id)
            clocks = {c.stage: c for c in order.clocks}
            connection, total = clocks["connection"], clocks["total"]
            assert connection.entered_at <= wait.started_at, order.code
            assert wait.ended_at is None or connection.ended_at is None \
                or wait.ended_at <= connection.ended_at, order.code
            waiting = wait.ended_at is None
            if waiting:  # not connected before the works are energised
                assert order.closed_at is None and connection.ended_at is None, order.code
            klass, business = order.customer_class, order.business_type
            assert total.limit_amount == rules.total_for(business, klass,
                                                         grid_works=True).amount
            assert connection.limit_amount == rules.stage_limit(business, klass, "connection",
                                                                grid_works=True).amount
            if waiting:
                assert not order.paused and order.holder == "unit", order.code
                assert order.holder_unit_id == connection.holder_unit_id, order.code
                assert connection.paused_amount == 0, order.code
                if klass == "lv_small_firm":
                    assert total.limit_amount == 15 and connection.limit_amount == 14


def test_closed_repairs_carry_their_stamps_and_timeline(history):
    db, _ = history
    with db.read() as s:
        closed = s.scalars(select(WorkOrder).where(WorkOrder.kind == "repair",
                                                   WorkOrder.status == "closed").limit(200)).all()
        for order in closed:
            stamps = [order.created_at, order.dispatched_at, order.accepted_at, order.en_route_at,
                      order.on_site_at, order.restored_at, order.closed_at]
            assert all(stamps) and stamps == sorted(stamps)
        events = s.scalar(select(func.count()).where(WorkOrderEvent.work_order_id == closed[0].id))
        assert events == 7
