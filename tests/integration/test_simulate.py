"""The demo simulation: calls arrive with the day's rhythm, crews work them, applications move.

Every run happens in a transaction that is rolled back, so the shared demo
database stays as the other tests expect it.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, datetime, timedelta
from itertools import pairwise

import numpy as np
import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from station_portal.auth.models import User
from station_portal.demo import simulate as sim
from station_portal.dispatch.travel import haversine_km
from station_portal.gridworks.models import MILESTONES
from station_portal.org.models import CrewPing, Unit
from station_portal.org.territory import TerritoryIndex
from station_portal.services import applications
from station_portal.services import gridworks as gw
from station_portal.sla.calendar import WorkCalendar
from station_portal.sla.classes import is_high_voltage
from station_portal.sla.stages import stage_book
from station_portal.timefmt import SHANGHAI, local
from station_portal.workorders.models import ClockPause, Kind, WorkOrder, WorkOrderEvent
from station_portal.workorders.states import CLOSED_STAMPS

SEED = 11
STEPS = ("dispatch", "accept", "depart", "arrive", "restore", "close")


def _day(workday: bool) -> date:
    """The first day after today that is (or is not) a working day."""
    cal = WorkCalendar.default()
    d = datetime.now(SHANGHAI).date() + timedelta(days=1)
    while cal.is_workday(d) != workday:
        d += timedelta(days=1)
    return d


def _at(d: date, hour: int) -> datetime:
    return datetime(d.year, d.month, d.day, hour, tzinfo=SHANGHAI)


@contextmanager
def rolled_back(db) -> Iterator[Session]:
    session = db.new_read_session()
    try:
        yield session
    finally:
        session.rollback()
        session.close()


def run(s: Session, start: datetime, minutes: int, *, step: int = 1, seed: int = SEED) -> list[dict]:
    """Simulate ``minutes`` from ``start`` in steps of ``step`` minutes, as the scheduler would."""
    rng = np.random.default_rng(seed)
    summaries = []
    for k in range(step, minutes + 1, step):
        summaries.append(sim.simulate(s, start + timedelta(minutes=k), seconds=step * 60, rng=rng))
        s.flush()
        s.expire_all()  # the next run reads afresh, like a new transaction
    return summaries


def total(summaries: list[dict], key: str) -> int:
    return sum(int(x[key]) for x in summaries)


def fingerprint(s: Session, start: datetime) -> tuple[list, list]:
    """What happened since ``start``, without database ids (sequences differ between runs)."""
    events = sorted(
        (e.at, e.action, e.from_value or "", e.to_value or "", o.kind, o.created_at, o.lat, o.lon)
        for e, o in s.execute(select(WorkOrderEvent, WorkOrder).join(WorkOrder)
                              .where(WorkOrderEvent.at >= start)))
    pings = sorted(tuple(r) for r in s.execute(
        select(CrewPing.crew_id, CrewPing.at, CrewPing.lat, CrewPing.lon).where(CrewPing.at >= start)))
    return events, pings


# -- rhythms (pure) ------------------------------------------------------------------------

def test_calls_come_more_often_in_the_evening_than_at_night():
    """Thirty simulated days: calls between 18 and 21 h far outnumber those between 1 and 4 h."""
    rng = np.random.default_rng(SEED)
    start = _at(date(2026, 3, 2), 0)
    calls = sim.arrivals(rng, start, start + timedelta(days=30), sim.repair_rate)
    hours = np.array([local(t).hour for t in calls])
    night = int(np.sum((hours >= 1) & (hours < 4)))
    evening = int(np.sum((hours >= 18) & (hours < 21)))
    assert evening > 3 * night > 0
    per_day = len(calls) / 30
    assert 0.6 * sim.REPAIRS_PER_DAY < per_day < 1.6 * sim.REPAIRS_PER_DAY


def test_summer_and_winter_are_busier_than_spring_and_autumn():
    noon = {month: sim.repair_rate(_at(date(2026, month, 15), 12)) for month in (1, 4, 7, 10)}
    assert noon[7] > noon[4] and noon[7] > noon[10]
    assert noon[1] > noon[4] and noon[1] > noon[10]


def test_applications_arrive_only_in_office_hours_of_working_days():
    cal = WorkCalendar.default()
    rng = np.random.default_rng(SEED)
    start = _at(date(2026, 9, 21), 0)  # two weeks around National Day, make-up days included
    times = sim.arrivals(rng, start, start + timedelta(days=21), lambda t: sim.application_rate(t, cal))
    assert times
    for t in times:
        lt = local(t)
        assert cal.is_workday(lt.date()), lt
        assert sim.OFFICE_HOURS[0] <= lt.hour < sim.OFFICE_HOURS[1], lt


# -- the city over two hours ---------------------------------------------------------------

def test_two_hours_of_a_working_afternoon(db):
    """New repairs in their territory's unit, crews working them step by step, all on the timeline."""
    start = _at(_day(workday=True), 16)
    end = start + timedelta(hours=2)
    with rolled_back(db) as s:
        accounts = s.scalar(select(func.count()).select_from(User))
        summaries = run(s, start, 120)
        assert s.scalar(select(func.count()).select_from(User)) == accounts  # phones are no accounts
        new = list(s.scalars(select(WorkOrder).where(
            WorkOrder.kind == Kind.REPAIR.value, WorkOrder.created_at > start).order_by(WorkOrder.id)))
        assert len(new) == total(summaries, "new_repairs") > 0

        index = TerritoryIndex.load(s)
        for order in new:
            assert order.unit_id == index.route_location(order.lat, order.lon).unit_id
        reached = {o.status for o in new}
        assert {"on_site", "restored"} & reached or "closed" in reached, reached

        for order in new:
            stamps = [getattr(order, c) for c in CLOSED_STAMPS]
            done = [t for t in stamps if t is not None]
            assert done == sorted(done), order.code
            assert all(start < t <= end for t in done), order.code
            timeline = [tuple(r) for r in s.execute(select(WorkOrderEvent.action, WorkOrderEvent.at).where(
                WorkOrderEvent.work_order_id == order.id).order_by(WorkOrderEvent.id))]
            if order.status == "cancelled":
                assert timeline[-1][0] == "cancel"
                continue
            # one event per step taken, at the time the step stamped
            taken = len(done) - 1
            assert timeline == [("created", order.created_at), *zip(STEPS[:taken], done[1:], strict=True)]
            if order.dispatched_at is not None:
                assert order.crew_id is not None

        # crews report while they drive: nearer the site with every report
        pings = [tuple(r) for r in s.execute(select(CrewPing.crew_id, CrewPing.at, CrewPing.lat,
                                                    CrewPing.lon)
                                             # recorded by this run (a report may be
                                             # dated a little before the first window)
                                             .where(CrewPing.received_at > start)
                                             .order_by(CrewPing.at))]
        assert len(pings) == total(summaries, "pings") > 0
        by_crew = defaultdict(list)
        for crew_id, at, lat, lon in pings:
            by_crew[crew_id].append((at, lat, lon))
        trips = 0
        for order in new:
            if order.en_route_at is None or order.on_site_at is None:
                continue
            track = [(lat, lon) for at, lat, lon in by_crew[order.crew_id]
                     if order.en_route_at <= at <= order.on_site_at]
            if len(track) < 3:
                continue
            trips += 1
            gaps = [haversine_km(lat, lon, order.lat, order.lon) for lat, lon in track]
            assert all(b <= a + 1e-6 for a, b in pairwise(gaps)), order.code
            assert gaps[-1] < 0.01  # the last report is from the site
        assert trips > 0

        # applications moved only in office hours
        moved = list(s.scalars(select(WorkOrderEvent.at).join(WorkOrder).where(
            WorkOrder.kind == Kind.APPLICATION.value, WorkOrderEvent.at > start)))
        assert len(moved) > 0
        assert all(local(t).hour < sim.OFFICE_HOURS[1] for t in moved)


def test_applications_rest_on_days_off(db):
    start = _at(_day(workday=False), 9)
    with rolled_back(db) as s:
        before = s.scalar(select(func.max(WorkOrderEvent.id))) or 0  # other tests' rows stay out
        summaries = run(s, start, 180, step=5)
        assert total(summaries, "new_applications") == total(summaries, "application_steps") == 0
        assert s.scalar(select(WorkOrderEvent.id).join(WorkOrder).where(
            WorkOrder.kind == Kind.APPLICATION.value, WorkOrderEvent.id > before,
            WorkOrderEvent.at > start).limit(1)) is None
        assert total(summaries, "new_repairs") > 0  # repairs know no weekend


def test_the_night_is_quieter_than_the_evening_in_the_database(db, monkeypatch):
    monkeypatch.setattr(sim, "REPAIRS_PER_DAY", 480.0)
    d = _day(workday=True)
    counts = {}
    for hour in (2, 18):
        with rolled_back(db) as s:
            counts[hour] = total(run(s, _at(d, hour), 120, step=10), "new_repairs")
    assert counts[18] > 2 * counts[2]


def test_the_same_seed_gives_the_same_city(db):
    start = _at(_day(workday=True), 15)
    results = []
    for _attempt in range(2):
        with rolled_back(db) as s:
            summaries = run(s, start, 60, step=2)
            results.append((summaries, fingerprint(s, start)))
    assert results[0] == results[1]
    assert results[0][1][0]  # something happened
    with rolled_back(db) as s:
        other = (run(s, start, 60, step=2, seed=SEED + 1), fingerprint(s, start))
    assert other != results[0]


@pytest.mark.parametrize("seconds", [60, 600])
def test_one_step_is_capped(db, monkeypatch, seconds):
    """Even a flood of calls makes a bounded amount of work in one call."""
    monkeypatch.setattr(sim, "REPAIRS_PER_DAY", 100_000.0)
    with rolled_back(db) as s:
        out = sim.simulate(s, _at(_day(workday=True), 19), seconds=seconds,
                           rng=np.random.default_rng(SEED))
    assert out["new_repairs"] <= sim.MAX_NEW_REPAIRS
    assert out["repair_steps"] <= sim.MAX_REPAIR_STEPS
    assert out["pings"] <= sim.MAX_PINGS
    if seconds == 600:
        assert out["capped"]


def test_customers_queue_in_the_halls_and_simulated_clerks_serve_them(db):
    """On a working morning the kiosks give out tickets by the hour's rhythm and the
    counters call, serve (for the business's typical time) and finish them."""
    from station_portal.hall.demo import build_halls
    from station_portal.hall.models import HallTicket, ServiceHall

    start = _at(_day(True), 9)
    with rolled_back(db) as s:
        if not s.scalar(select(ServiceHall.id).limit(1)):
            build_halls(s, seed=7)
            s.flush()
        summaries = run(s, start, 90, step=5)
        taken, served = total(summaries, "queue_tickets"), total(summaries, "queue_served")
        assert taken > 20 and served > 10
        done = s.scalars(select(HallTicket).where(HallTicket.status == "done",
                                                  HallTicket.finished_at > start)).all()
        assert len(done) >= served
        assert all(t.service_seconds is not None and t.wait_seconds is not None for t in done)
        assert any(t.within_standard is not None for t in done)


# -- applications: what the applicant states, pauses, the supply plan ------------------------

CHANGYI = (43.8817, 126.5744)  # inside the Changyi station's territory


def test_new_applications_are_classified_from_what_the_applicant_states(db, monkeypatch):
    """The simulation states a type, a load in kW and whether a firm is small; the services
    classify it (kVA only for high voltage), as for a real applicant."""
    monkeypatch.setattr(sim, "APPLICATIONS_PER_WORKDAY", 300.0)
    start = _at(_day(workday=True), 9)
    book = stage_book()
    with rolled_back(db) as s:
        before = s.scalar(select(func.max(WorkOrder.id))) or 0  # other tests' orders stay out
        summaries = run(s, start, 120, step=10)
        new = s.scalars(select(WorkOrder).where(WorkOrder.kind == Kind.APPLICATION.value,
                                                WorkOrder.id > before,
                                                WorkOrder.created_at > start)).all()
        assert len(new) == total(summaries, "new_applications") > 20
        for order in new:
            stated = s.scalar(select(WorkOrderEvent.details).where(
                WorkOrderEvent.work_order_id == order.id, WorkOrderEvent.action == "created"))
            assert order.customer_class == book.classify(
                customer_type=stated["customer_type"], load_kw=order.load_kw,
                small_firm=stated["small_firm"]), order.code
            assert (order.capacity_kva is not None) == is_high_voltage(order.customer_class)
        assert {"lv_resident", "lv_small_firm", "hv_single"} <= {o.customer_class for o in new}
        assert len({o.business_type for o in new}) > 3


def test_applications_pause_only_for_the_customer_and_a_supply_plan_may_decide_dual(
        db, monkeypatch):
    """Pauses are the customer's (waiting on grid works is no pause); a high-voltage supply
    plan answered with dual supply gives the dual-supply limits; a connection that waits
    on grid works is not made."""
    monkeypatch.setattr(sim, "APPLICATIONS_PER_WORKDAY", 0.0)
    monkeypatch.setattr(sim, "STAGE_STEPS_PER_WORKDAY", 3000.0)
    monkeypatch.setattr(sim, "PAUSE_SHARE", 0.3)
    monkeypatch.setattr(sim, "DUAL_SHARE", 1.0)
    start = _at(_day(workday=True), 9)
    with rolled_back(db) as s:
        applied = start - timedelta(minutes=30)
        hv = applications.create_application(s, None, applications.ApplicationInput(
            business_type="new_connection", customer_type="non_resident", load_kw=1200.0,
            capacity_kva=1600.0, customer_name="吉林松江实业有限公司", lat=CHANGYI[0],
            lon=CHANGYI[1], address="昌邑区松江路8号", applied_at=applied), now=start)
        hv = applications.advance_stage(s, None, hv.id, hv.version, at=start, now=start)
        assert hv.current_stage == "supply_plan" and hv.customer_class == "hv_single"
        hv_id = hv.id
        firm = applications.create_application(s, None, applications.ApplicationInput(
            business_type="new_connection", customer_type="non_resident", load_kw=60.0,
            small_firm=True, customer_name="吉林小微商贸有限公司", lat=CHANGYI[0],
            lon=CHANGYI[1], address="昌邑区松江路9号", applied_at=applied), now=start)
        assert firm.current_stage == "connection"  # three zeros: straight to the connection
        station = s.get(Unit, firm.unit_id)
        planned = {c: (start.date() + timedelta(days=10 * (i + 1))).isoformat()
                   for i, c in enumerate(MILESTONES)}
        works = gw.create_project(s, None, gw.ProjectInput(
            name="昌邑站配电台区新增工程", unit_id=station.id, planned=planned), now=start)
        gw.link_application(s, None, works.id, works.version, firm.code, now=start)
        waiting = [o.id for o in s.scalars(select(WorkOrder).where(
            WorkOrder.kind == Kind.APPLICATION.value, WorkOrder.closed_at.is_(None),
            WorkOrder.current_stage == "connection")) if sim.waits_on_grid_works(o)]
        assert firm.id in waiting
        run(s, start, 420, step=10)
        made = s.scalars(select(ClockPause).where(ClockPause.started_at > start)).all()
        assert made and all(p.reason != "grid_works" for p in made)
        hv = s.get(WorkOrder, hv_id)
        assert hv.customer_class == "hv_dual", hv.current_stage
        plan = next(c for c in hv.clocks if c.stage == "supply_plan")
        assert plan.ended_at is not None and plan.limit_amount == 15  # the dual-supply limit
        assert next(c for c in hv.clocks if c.stage == "total").limit_amount == 32
        for order_id in waiting:
            assert s.get(WorkOrder, order_id).current_stage == "connection"


def test_outages_start_and_end_on_time_and_a_failed_transformer_darkens_its_area(db, monkeypatch):
    """Announced outages whose start has come are started; a temporary outage is recorded
    with calls from inside it, which are marked with it."""
    from station_portal.network.models import Outage

    monkeypatch.setattr(sim, "FAULT_OUTAGES_PER_HOUR", 10_000.0)
    with rolled_back(db) as s:
        now = datetime.now(SHANGHAI)
        due = s.scalar(select(func.count()).select_from(Outage).where(
            Outage.status == "announced", Outage.starts_at <= now + timedelta(days=3)))
        out = sim.simulate(s, now + timedelta(days=3), seconds=60,
                           rng=np.random.default_rng(SEED))
        assert out["outage_steps"] >= 1 + min(due, sim.MAX_OUTAGE_STEPS - 1)
        temporary = s.scalar(select(Outage).where(Outage.kind == "fault")
                             .order_by(Outage.id.desc()))
        assert temporary.status == "in_progress" and temporary.announced_at is not None
        inside = s.scalars(select(WorkOrder).where(WorkOrder.outage_id == temporary.id)).all()
        assert inside and all(o.kind == "repair" for o in inside)
