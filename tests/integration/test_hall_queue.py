"""The service-hall queue: taking, calling, serving and finishing tickets at the counter,
two clerks calling at once, the counter visit on the customer's order, scope refusals."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, time, timedelta

import pytest
from sqlalchemy import delete, func, select

from station_portal.audit import AuditEvent
from station_portal.errors import Conflict, Forbidden, NotFound, ValidationFailed
from station_portal.hall.demo import build_halls
from station_portal.hall.models import HallTicket, ServiceHall
from station_portal.org.models import Unit
from station_portal.services import applications
from station_portal.services import hall as service
from station_portal.timefmt import SHANGHAI
from station_portal.workorders.models import WorkOrder, WorkOrderEvent
from tests.helpers import account

CHUANYING = (43.8338, 126.5410)
CHANGYI = (43.8817, 126.5744)


def open_all_day(session, code: str, unit_code: str, counters: int = 3) -> ServiceHall:
    unit = session.scalar(select(Unit).where(Unit.code == unit_code))
    hall = ServiceHall(code=code, name_zh="测试营业厅", name_en="Test hall", level="B",
                       unit_id=unit.id, address="测试路1号", lat=unit.lat, lon=unit.lon,
                       counters=counters, counter_groups={"1": ["A"]}, opens_at=time(0, 0),
                       closes_at=time(23, 59, 59), open_days="1111111", open_on_holidays=True)
    session.add(hall)
    session.flush()
    return hall


@pytest.fixture(scope="module")
def halls(city):
    with city.write() as s:
        build_halls(s, seed=7)
        ours = open_all_day(s, "T-CH", "JL-CH-S")
        other = open_all_day(s, "T-CY", "JL-CY-S")
        return ours.id, other.id


@pytest.fixture
def hall(city, halls):
    """The clerk's all-day test hall, its queue emptied for each test."""
    with city.write() as s:
        s.execute(delete(HallTicket).where(HallTicket.hall_id == halls[0]))
    return halls[0]


def settled_now() -> datetime:
    """Now, or half past midnight (Jilin time) while the day is younger: a ticket taken
    minutes before must still be on today's queue."""
    now = datetime.now(UTC)
    settled = datetime.combine(now.astimezone(SHANGHAI).date(), time(0, 30), tzinfo=SHANGHAI)
    return max(now, settled.astimezone(UTC))


def take(city, hall_id: int, business: str, at: datetime | None = None) -> HallTicket:
    with city.write() as s:
        return service.take_ticket(s, s.get(ServiceHall, hall_id), business, now=at).ticket


def test_tickets_are_numbered_per_group_and_day_and_know_who_is_ahead(city, hall):
    labels = [take(city, hall, b).label for b in ("resident_case", "payment", "resident_case",
                                                  "business_case", "enquiry")]
    assert labels == ["A001", "B001", "A002", "A003", "C001"]
    with city.write() as s:
        taken = service.take_ticket(s, s.get(ServiceHall, hall), "payment")
        assert (taken.ticket.label, taken.ahead, taken.ticket.seq) == ("B002", 1, 6)
        assert taken.ticket.standard_minutes == 5
        audit = s.scalar(select(AuditEvent).where(AuditEvent.action == "hall_ticket_taken",
                                                  AuditEvent.entity_id == taken.ticket.id))
        assert audit.details["label"] == "B002"


def test_a_ticket_for_an_unknown_business_or_at_a_closed_hall_is_refused(city, halls, hall):
    with city.write() as s, pytest.raises(ValidationFailed):
        service.take_ticket(s, s.get(ServiceHall, hall), "free_lunch")
    with city.write() as s:
        closed = s.scalar(select(ServiceHall).where(ServiceHall.code == "JL-CH-DSH-C01"))
        sunday_night = datetime(2026, 11, 29, 14, 0, tzinfo=UTC)  # 22:00 in Jilin
        with pytest.raises(service.HallClosed, match="closed"):
            service.take_ticket(s, closed, "payment", now=sunday_night)
    with city.read() as s:
        assert s.scalar(select(func.count()).select_from(HallTicket)) == 0


def test_the_counter_calls_the_longest_waiting_ticket_of_its_groups(city, hall):
    now = settled_now()
    take(city, hall, "payment", now - timedelta(minutes=9))
    take(city, hall, "resident_case", now - timedelta(minutes=5))
    take(city, hall, "business_case", now - timedelta(minutes=3))
    with city.write() as s:
        clerk = account(s, "clerk")
        first = service.call_next(s, clerk, hall, 1, now=now)  # counter 1 serves group A only
        assert (first.label, first.status, first.counter, first.served_by) == (
            "A001", "called", 1, clerk.id)
        assert first.wait_seconds >= 5 * 60
    with city.write() as s, pytest.raises(Conflict, match="still has ticket A001"):
        service.call_next(s, account(s, "clerk"), hall, 1, now=now)
    with city.write() as s:
        assert service.call_next(s, account(s, "clerk"), hall, 2, now=now).label == "B001"
    with city.write() as s:
        assert service.call_next(s, account(s, "clerk"), hall, 3, ["C"], now=now) is None


def test_serving_then_finishing_times_the_service_against_its_standard(city, hall):
    take(city, hall, "payment")
    t0 = datetime.now(UTC)
    with city.write() as s:
        called = service.call_next(s, account(s, "clerk"), hall, 2, now=t0)
        ticket_id, version = called.id, called.version
    with city.write() as s:
        started = service.start_service(s, account(s, "clerk"), ticket_id, version,
                                        now=t0 + timedelta(minutes=1))
        version = started.version
    with city.write() as s:
        done = service.finish_service(s, account(s, "clerk"), ticket_id, version,
                                      now=t0 + timedelta(minutes=8))
        assert (done.status, done.service_seconds, done.within_standard) == ("done", 420, False)
        trail = s.scalars(select(AuditEvent.action).where(
            AuditEvent.entity_type == "hall_ticket", AuditEvent.entity_id == ticket_id)
            .order_by(AuditEvent.id.desc()).limit(4)).all()
        assert trail == ["hall_service_finished", "hall_service_started", "hall_ticket_called",
                         "hall_ticket_taken"]


def test_an_old_version_or_a_finished_ticket_changes_nothing(city, hall):
    take(city, hall, "resident_case")
    with city.write() as s:
        called = service.call_next(s, account(s, "clerk"), hall, 1)
        ticket_id, version = called.id, called.version
    with city.write() as s:
        service.recall(s, account(s, "clerk"), ticket_id, version)
    with city.write() as s, pytest.raises(Conflict, match="changed at another counter"):
        service.mark_no_show(s, account(s, "clerk"), ticket_id, version)
    with city.write() as s:
        ticket = s.get(HallTicket, ticket_id)
        assert (ticket.status, ticket.recalls) == ("called", 1)
        service.mark_no_show(s, account(s, "clerk"), ticket_id, ticket.version)
    with city.write() as s, pytest.raises(Conflict, match="no longer at this step"):
        service.recall(s, account(s, "clerk"), ticket_id, s.get(HallTicket, ticket_id).version)


def test_a_transferred_ticket_keeps_its_label_and_its_place_in_the_new_queue(city, hall):
    now = settled_now()
    take(city, hall, "enquiry", now - timedelta(minutes=20))
    take(city, hall, "payment", now - timedelta(minutes=10))
    with city.write() as s:
        asked = service.call_next(s, account(s, "clerk"), hall, 3, ["C"], now=now)
        moved = service.transfer(s, account(s, "clerk"), asked.id, asked.version, "payment",
                                 now=now)
        assert (moved.label, moved.group, moved.status, moved.counter) == ("C001", "B", "waiting", None)
        assert moved.standard_minutes == 5 and moved.transfers == 1
    with city.write() as s:
        assert service.call_next(s, account(s, "clerk"), hall, 2, ["B"], now=now).label == "C001"


def application(city, actor_name: str | None, at: tuple[float, float]) -> WorkOrder:
    with city.write() as s:
        actor = account(s, actor_name) if actor_name else None
        return applications.create_application(s, actor, applications.ApplicationInput(
            business_type="new_connection", customer_type="resident", load_kw=8.0,
            customer_name="柜台测试", lat=at[0], lon=at[1], address="测试路2号"))


def test_finishing_with_a_work_order_number_records_a_counter_visit_on_the_order(city, hall):
    order = application(city, None, CHUANYING)
    take(city, hall, "resident_case")
    with city.write() as s:
        called = service.call_next(s, account(s, "clerk"), hall, 1)
        done = service.finish_service(s, account(s, "clerk"), called.id, called.version,
                                      work_order_code=f"  {order.code.lower()} ")
        assert done.work_order_id == order.id
    with city.read() as s:
        fresh = s.get(WorkOrder, order.id)
        assert fresh.counter_visits == order.counter_visits + 1
        event = s.scalar(select(WorkOrderEvent).where(WorkOrderEvent.work_order_id == order.id,
                                                      WorkOrderEvent.action == "counter_visit"))
        assert event.details["ticket"] == "A001" and event.actor_id == account(s, "clerk").id


def test_a_work_order_outside_the_clerks_area_is_refused_and_nothing_is_finished(city, hall):
    elsewhere = application(city, "head", CHANGYI)  # Changyi station: not the clerk's
    take(city, hall, "resident_case")
    with city.write() as s:
        called = service.call_next(s, account(s, "clerk"), hall, 1)
        ticket_id, version = called.id, called.version
    for code in (elsewhere.code, "A-NOPE", "x" * 40):
        with city.write() as s, pytest.raises(ValidationFailed) as refused:
            service.finish_service(s, account(s, "clerk"), ticket_id, version, work_order_code=code)
        assert "work_order" in refused.value.fields
    with city.read() as s:
        assert s.get(HallTicket, ticket_id).status == "called"
        assert s.get(WorkOrder, elsewhere.id).counter_visits == elsewhere.counter_visits


def test_a_clerk_cannot_serve_another_stations_hall_and_a_crew_member_cannot_serve(city, halls, hall):
    other = halls[1]
    take(city, other, "payment")
    with city.write() as s, pytest.raises(NotFound):
        service.call_next(s, account(s, "clerk"), other, 1)
    with city.write() as s, pytest.raises(Forbidden):
        service.call_next(s, account(s, "crew"), hall, 1)
    with city.write() as s:
        forged = s.scalar(select(HallTicket.id).where(HallTicket.hall_id == other))
        with pytest.raises(NotFound):
            service.finish_service(s, account(s, "clerk"), forged, 1)
        assert service.call_next(s, account(s, "head"), other, 2).label == "B001"


def test_bad_counter_numbers_and_groups_are_refused(city, hall):
    take(city, hall, "payment")
    for counter, groups in ((0, None), (99, None), ("1; drop", None), (1, ["Z"]), (1, []), (1, "A")):
        with city.write() as s, pytest.raises(ValidationFailed):
            service.call_next(s, account(s, "clerk"), hall, counter, groups)


@pytest.mark.parametrize("waiting", [1, 2])
def test_two_clerks_calling_at_once_never_get_the_same_ticket(city, hall, waiting):
    for _i in range(waiting):
        take(city, hall, "payment")
    barrier = threading.Barrier(2)
    results: dict[int, object] = {}

    def clerk_calls(counter: int) -> None:
        barrier.wait(timeout=10)  # both start together (SQLite then queues the writers)
        with city.write() as s:
            results[counter] = service.call_next(s, account(s, "clerk"), hall, counter, ["B"])
            results[counter] = results[counter] and results[counter].id

    threads = [threading.Thread(target=clerk_calls, args=(n,)) for n in (2, 3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    got = [r for r in results.values() if r]
    assert len(got) == waiting and len(set(got)) == waiting
    with city.read() as s:
        called = s.scalars(select(HallTicket).where(HallTicket.hall_id == hall,
                                                    HallTicket.status == "called")).all()
        assert sorted(t.counter for t in called) == sorted(n for n, r in results.items() if r)
        calls = s.scalars(select(AuditEvent.entity_id).where(
            AuditEvent.action == "hall_ticket_called").order_by(AuditEvent.id.desc())
            .limit(waiting)).all()
        assert sorted(calls) == sorted(t.id for t in called)


def test_a_ticket_after_a_transfer_gets_a_number_of_its_own(city, hall):
    """A transferred ticket keeps its label; the next ticket of its old letter must not
    take the same number (the kiosk would fail for the rest of the day)."""
    now = settled_now()
    take(city, hall, "resident_case", now - timedelta(minutes=5))
    take(city, hall, "resident_case", now - timedelta(minutes=4))
    with city.write() as s:
        called = service.call_next(s, account(s, "clerk"), hall, 1, now=now)
        service.transfer(s, account(s, "clerk"), called.id, called.version, "payment", now=now)
    labels = [take(city, hall, b, now).label for b in ("resident_case", "payment")]
    assert labels == ["A003", "B001"]


def test_a_counter_visit_counts_only_on_an_open_application_and_claims_its_version(city, hall):
    order = application(city, None, CHUANYING)
    with city.write() as s:
        applications.cancel_application(s, None, order.id, None, "申请人撤回")
    take(city, hall, "resident_case")
    with city.write() as s:
        called = service.call_next(s, account(s, "clerk"), hall, 1)
        ticket_id, version = called.id, called.version
    with city.write() as s, pytest.raises(ValidationFailed) as refused:
        service.finish_service(s, account(s, "clerk"), ticket_id, version,
                               work_order_code=order.code)
    assert "open connection applications" in str(refused.value)
    open_order = application(city, None, CHUANYING)
    with city.write() as s:
        service.finish_service(s, account(s, "clerk"), ticket_id, version,
                               work_order_code=open_order.code)
    with city.read() as s:
        assert s.get(WorkOrder, order.id).counter_visits == 0
        counted = s.get(WorkOrder, open_order.id)
        assert counted.counter_visits == 1 and counted.version == open_order.version + 1
        assert s.get(HallTicket, ticket_id).status == "done"


def test_the_night_closes_tickets_left_open_on_past_days(city, hall):
    """Yesterday's queue must not stay 'waiting' or 'at the counter' in the figures."""
    yesterday = datetime.now(UTC) - timedelta(days=1)
    waiting = take(city, hall, "resident_case", yesterday)
    called = take(city, hall, "payment", yesterday)
    with city.write() as s:
        s.get(HallTicket, called.id).status = "called"
    today = take(city, hall, "resident_case")
    with city.write() as s:
        closed = service.close_past_days(s)
    assert closed >= 2
    with city.read() as s:
        assert s.get(HallTicket, waiting.id).status == "cancelled"
        assert s.get(HallTicket, called.id).status == "no_show"
        assert s.get(HallTicket, today.id).status == "waiting"
        assert s.scalar(select(func.count()).select_from(AuditEvent).where(
            AuditEvent.action == "hall_tickets_closed")) >= 1
