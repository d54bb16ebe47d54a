"""The demo year of work: seasons, open and closed orders, clocks the engine agrees with."""

from __future__ import annotations

from collections import Counter
from datetime import datetime

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from station_portal.demo.city import build_demo_city
from station_portal.demo.orders import seed_history
from station_portal.timefmt import SHANGHAI, local
from station_portal.workorders.clocks import refresh_now
from station_portal.workorders.models import WorkOrder, WorkOrderEvent
from tests.conftest import fresh_database

NOW = datetime(2026, 11, 20, 15, 30, tzinfo=SHANGHAI)


@pytest.fixture(scope="module")
def history(tmp_path_factory):
    db = fresh_database("sqlite", tmp_path_factory.mktemp("history"))
    with db.write() as s:
        build_demo_city(s, seed=7)
        report = seed_history(s, n_orders=6000, seed=3, now=NOW)
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
    """The vectorised generator and the services' clock engine agree to the second."""
    db, _ = history
    with db.read() as s:
        orders = s.scalars(select(WorkOrder).options(
            selectinload(WorkOrder.clocks), selectinload(WorkOrder.pauses))
            .where(WorkOrder.kind != "park_case").order_by(WorkOrder.id)).all()
        checked = 0
        for order in orders[::7]:
            stored = [(c.stage, c.due_at, c.warn_at, c.status, c.provisional, c.paused_amount)
                      for c in order.clocks]
            summary = (order.due_at, order.sla_status, order.holder, order.paused)
            s.expunge(order)
            refresh_now(order, NOW)
            for (stage, due, warn, status, provisional, paused), clock in zip(
                    stored, order.clocks, strict=True):
                where = (order.code, stage)
                assert (status, provisional) == (clock.status, clock.provisional), where
                assert paused == pytest.approx(clock.paused_amount, abs=1e-5), where
                for mine, engine in ((due, clock.due_at), (warn, clock.warn_at)):
                    if mine is None:
                        assert engine is None, where
                    else:
                        assert abs((mine - engine).total_seconds()) < 1, where
            assert summary[1:] == (order.sla_status, order.holder, order.paused), order.code
            checked += 1
    assert checked > 500


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
