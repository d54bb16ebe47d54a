"""Property-based: no sequence of actions breaks the invariants of a work order.

Hypothesis drives random actions (valid or not, at random later times, some
reported late from the field) against real orders in the database. After
every step:
- a closed repair carries every time stamp, in order;
- no clock's due time is earlier than its limit allows from its start;
- an accepted change grew the version by exactly one and wrote timeline
  events; a refused one changed neither;
- an application is paused exactly when it has an open pause.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule
from sqlalchemy import func, select

from station_portal.errors import PortalError
from station_portal.org.models import Crew, Unit
from station_portal.services import applications, repairs
from station_portal.sla.calendar import WorkCalendar
from station_portal.timefmt import SHANGHAI
from station_portal.workorders.models import WorkOrder, WorkOrderEvent
from station_portal.workorders.states import CLOSED_STAMPS, allowed_repair_actions

CAL = WorkCalendar.default()
START = datetime(2026, 5, 4, 8, tzinfo=SHANGHAI)
REPAIR_ACTIONS = ["dispatch", "accept", "depart", "arrive", "restore", "close", "cancel", "transfer"]
FORWARD = {"reported": "dispatch", "transferred": "dispatch", "dispatched": "accept",
           "accepted": "depart", "en_route": "arrive", "on_site": "restore", "restored": "close"}
STEP = st.integers(min_value=0, max_value=6 * 60)  # minutes until the next action
SETTINGS = settings(max_examples=40, stateful_step_count=30, deadline=None,
                    suppress_health_check=[HealthCheck.too_slow,
                                           HealthCheck.function_scoped_fixture])


def check_clock_bounds(order: WorkOrder) -> None:
    for clock in order.clocks:
        if clock.due_at is None or clock.started_at is None:
            continue
        if clock.limit_unit == "minute":
            assert clock.due_at >= clock.started_at + timedelta(minutes=clock.limit_amount)
        else:
            assert clock.due_at >= CAL.add_workdays(clock.started_at, int(clock.limit_amount))


class OrderMachine(RuleBasedStateMachine):
    db = None  # set by the test
    order_id: int
    events: int

    def apply(self, change) -> None:
        """Run a change; an accepted one adds one version and its events, a refused one nothing."""
        with self.db.read() as s:
            version = s.get(WorkOrder, self.order_id).version
        try:
            with self.db.write() as s:
                change(s)
        except PortalError:
            accepted = False
        else:
            accepted = True
        with self.db.read() as s:
            now_version = s.get(WorkOrder, self.order_id).version
            events = s.scalar(select(func.count()).where(
                WorkOrderEvent.work_order_id == self.order_id))
        assert now_version - version == (1 if accepted else 0)
        assert (events > self.events) == accepted
        self.events = events

    def order(self, s) -> WorkOrder:
        return s.get(WorkOrder, self.order_id)

    @invariant()
    def due_times_never_beat_the_limits(self):
        with self.db.read() as s:
            check_clock_bounds(self.order(s))


class RepairMachine(OrderMachine):
    @initialize()
    def report(self):
        self.now = START
        with self.db.write() as s:
            self.crew = s.scalar(select(Crew.id).where(Crew.code == "JL-CY-S-R3"))
            self.stations = list(s.scalars(select(Unit.id).where(
                Unit.code.in_(["JL-CY-S", "JL-CH-S"]))))
            self.order_id = repairs.create_repair(s, None, repairs.RepairInput(
                source="app", category="low_voltage", urgency=1, lat=43.8817, lon=126.5744,
                address="测试地址", reported_at=self.now), now=self.now).id
        self.events = 1

    def step(self, action: str, minutes: int, late: int) -> None:
        self.now += timedelta(minutes=minutes)
        at = self.now - timedelta(minutes=late)

        def change(s):
            order = self.order(s)
            other = next(u for u in self.stations if u != order.unit_id)
            repairs.repair_action(s, None, order.id, order.version, action, crew_id=self.crew,
                                  unit_id=other, reason="测试", at=at, now=self.now)

        self.apply(change)

    @rule(action=st.sampled_from(REPAIR_ACTIONS), minutes=STEP,
          late=st.integers(min_value=0, max_value=30))
    def any_action(self, action, minutes, late):
        self.step(action, minutes, late)

    @rule(data=st.data(), minutes=STEP)
    def allowed_action(self, data, minutes):
        """Mostly forward along the life cycle, sometimes any other allowed action."""
        with self.db.read() as s:
            status = self.order(s).status
        allowed = allowed_repair_actions(status)
        if not allowed:
            return
        forward = FORWARD.get(status)
        action = forward if forward and data.draw(st.integers(0, 3)) else \
            data.draw(st.sampled_from(allowed))
        self.step(action, minutes, 0)

    @invariant()
    def closed_repairs_carry_every_stamp_in_order(self):
        with self.db.read() as s:
            order = self.order(s)
            if order.status == "closed":
                stamps = [getattr(order, name) for name in CLOSED_STAMPS]
                assert all(stamps) and stamps == sorted(stamps)
            assert (order.closed_at is not None) == (order.status in ("closed", "cancelled"))


class ApplicationMachine(OrderMachine):
    @initialize(customer_type=st.sampled_from(["resident", "non_resident"]),
                load_kw=st.sampled_from([8.0, 80.0, 150.0, 300.0, 5000.0]),
                small_firm=st.booleans(), important=st.booleans(),
                business=st.sampled_from(["new_connection", "capacity_increase", "name_change",
                                          "closure", "distributed_generation", "suspension"]))
    def apply_for_power(self, customer_type, load_kw, small_firm, important, business):
        self.now = START
        with self.db.write() as s:
            self.order_id = applications.create_application(s, None, applications.ApplicationInput(
                business_type=business, customer_type=customer_type, load_kw=load_kw,
                small_firm=small_firm, customer_name="测试", lat=43.8817, lon=126.5744,
                address="测试地址", important=important, applied_at=self.now), now=self.now).id
            self.events = s.scalar(select(func.count()).where(
                WorkOrderEvent.work_order_id == self.order_id))

    @rule(minutes=st.integers(min_value=0, max_value=3 * 24 * 60),
          supply=st.sampled_from([None, None, "single", "dual", "bogus"]))
    def advance(self, minutes, supply):
        self.now += timedelta(minutes=minutes)
        self.apply(lambda s: applications.advance_stage(s, None, self.order_id, self.order(s).version,
                                                        supply=supply, now=self.now))

    @rule(reason=st.sampled_from(["customer_documents", "grid_works", "bogus"]),
          minutes=st.integers(min_value=0, max_value=2 * 24 * 60))
    def pause(self, reason, minutes):
        self.now += timedelta(minutes=minutes)
        self.apply(lambda s: applications.pause(s, None, self.order_id, self.order(s).version, reason,
                                                now=self.now))

    @rule(minutes=st.integers(min_value=0, max_value=5 * 24 * 60))
    def resume(self, minutes):
        self.now += timedelta(minutes=minutes)
        self.apply(lambda s: applications.resume(s, None, self.order_id, self.order(s).version,
                                                 now=self.now))

    @invariant()
    def paused_means_an_open_pause(self):
        with self.db.read() as s:
            order = self.order(s)
            # grid works never pause (a pause for them is refused); the customer's reasons do
            assert order.paused == any(p.ended_at is None for p in order.pauses)
            assert all(p.reason != "grid_works" for p in order.pauses)
            if order.status == "completed":
                assert not order.paused and order.current_stage is None
                assert all(c.ended_at is not None for c in order.clocks)


def _run(machine: type[OrderMachine], db) -> None:
    machine.db = db
    machine.TestCase.settings = SETTINGS
    machine.TestCase().runTest()


def test_no_sequence_of_actions_breaks_a_repair(db):
    _run(RepairMachine, db)


def test_no_sequence_of_actions_breaks_an_application(db):
    _run(ApplicationMachine, db)
