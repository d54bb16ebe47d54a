"""The read functions the pages' callbacks call (moved out of the callbacks): each answers
for the caller's scope only, on the demo city (this module's own database)."""

from __future__ import annotations

from datetime import time, timedelta

from sqlalchemy import delete, select

from station_portal.auth.models import User
from station_portal.auth.queries import account
from station_portal.auth.roles import Role
from station_portal.auth.scope import Scope, scope_for
from station_portal.config import Config
from station_portal.db import utcnow
from station_portal.dispatch.board import crew_phone
from station_portal.hall.models import ServiceHall
from station_portal.hall.queries import at_counter, hall_in_scope, halls_waiting
from station_portal.jobs.models import JobRun, SchedulerLease
from station_portal.jobs.queries import job_runs, scheduler_overview
from station_portal.jobs.runner import LEASE
from station_portal.org.models import Client, Crew, Staff, Unit
from station_portal.org.queries import (
    account_choices,
    crew_code,
    own_profile,
    site_unit,
    unit_label,
)
from station_portal.org.territory import route_location
from station_portal.services import hall as hall_service
from station_portal.services import repairs
from station_portal.services.dispatch import assign_lead
from station_portal.timefmt import local
from station_portal.workorders.models import ParkVisit
from station_portal.workorders.visit_due import client_visits
from tests.dash_calls import call, text_of
from tests.helpers import unique


def scope_of(role: Role, units=None, clients=None, roots=(), **extra) -> Scope:
    return Scope(0, role, None if units is None else frozenset(units),
                 None if clients is None else frozenset(clients), tuple(roots), **extra)


def test_client_visits_lists_the_scopes_clients_and_their_open_visits(city):
    """An overdue planned visit stands for its client's next visit: its state and the day
    it was due come with it; a client outside the scope is not read at all."""
    now = utcnow()
    planned = now - timedelta(days=3)
    with city.write() as s:  # a client of its own, never visited, removed again below
        model, other = s.scalars(select(Client).order_by(Client.id).limit(2)).all()
        mine = Client(code=unique("cl"), name_zh="读测客户", name_en="Read test client",
                      kind=model.kind, industry=model.industry, unit_id=model.unit_id,
                      lat=model.lat, lon=model.lon, contact_name="-", contact_phone="-",
                      visit_every_days=14)
        s.add(mine)
        s.flush()
        visit = ParkVisit(client_id=mine.id, planned_for=planned)
        s.add(visit)
        s.flush()
        mine_id, other_id, visit_id = mine.id, other.id, visit.id
    try:
        with city.read() as s:
            world = client_visits(s, scope_of(Role.ACCOUNT_MANAGER, clients=[mine_id]), now)
            assert [c.id for c in world.clients] == [mine_id] and set(world.next) == {mine_id}
            [row] = world.open
            assert (row.id, row.client_id, row.state, row.days) == (visit_id, mine_id, "overdue", 3)
            assert row.due == local(planned).date() == world.next[mine_id].due
            assert row.case_code is None and row.work_order_id is None
            nobody = client_visits(s, scope_of(Role.ACCOUNT_MANAGER, clients=[]), now)
            assert nobody.clients == [] and nobody.open == [] and nobody.next == {}
            everyone = client_visits(s, scope_of(Role.ADMIN), now)
            assert {mine_id, other_id} <= {c.id for c in everyone.clients}
    finally:
        with city.write() as s:  # as it was, for the other tests of this module
            s.delete(s.get(ParkVisit, visit_id))
            s.delete(s.get(Client, mine_id))


def all_day_hall(session, code: str, unit: Unit, counters: int = 2) -> ServiceHall:
    hall = ServiceHall(code=code, name_zh="读测营业厅", name_en="Read test hall", level="B",
                       unit_id=unit.id, address="测试路2号", lat=unit.lat, lon=unit.lon,
                       counters=counters, counter_groups={"1": ["A"]}, opens_at=time(0, 0),
                       closes_at=time(23, 59, 59), open_days="1111111", open_on_holidays=True)
    session.add(hall)
    session.flush()
    return hall


def test_the_counter_reads_its_hall_ticket_and_queue_within_the_scope(city):
    """At a counter: the hall only if the scope sees it, the counter only if the hall has
    it; the ticket called there, the waiting queue longest first and the day's figures.
    The clerk's home counts who waits in each of the scope's halls."""
    now = utcnow()
    with city.write() as s:
        station, elsewhere = s.scalars(select(Unit).where(Unit.kind == "service_station")
                                       .order_by(Unit.id).limit(2)).all()
        hall = all_day_hall(s, unique("H"), station)
        first = hall_service.take_ticket(s, hall, "resident_case", now=now).ticket
        second = hall_service.take_ticket(s, hall, "resident_case", now=now).ticket
        third = hall_service.take_ticket(s, hall, "resident_case", now=now).ticket
        called = hall_service.call_next(s, None, hall.id, 1, ["A"], now=now)
        assert called.id == first.id
        ids = hall.id, first.id, second.id, third.id, station.id, elsewhere.id
    hall_id, first_id, second_id, third_id, station_id, elsewhere_id = ids
    mine = scope_of(Role.CLERK, units=[station_id], roots=[station_id])
    with city.read() as s:
        screen = at_counter(s, mine, str(hall_id), "1", now)
        assert screen.hall.id == hall_id and screen.counter == 1
        assert screen.current.id == first_id
        assert [t.id for t in screen.waiting] == [second_id, third_id]
        assert screen.summary["waiting"] == 2
        assert at_counter(s, mine, hall_id, 2, now).current is None
        beyond = at_counter(s, mine, hall_id, 3, now)
        assert beyond.hall.id == hall_id and beyond.counter is None and beyond.waiting == []
        assert at_counter(s, mine, "x", 1, now).hall is None
        theirs = scope_of(Role.CLERK, units=[elsewhere_id], roots=[elsewhere_id])
        assert at_counter(s, theirs, hall_id, 1, now).hall is None
        assert hall_in_scope(s, theirs, hall_id) is None
        assert dict((h.id, n) for h, n in halls_waiting(s, mine, now))[hall_id] == 2
        assert hall_id not in {h.id for h, _n in halls_waiting(s, theirs, now)}


def test_the_crew_phone_reads_the_callers_own_crew_and_its_repairs(city):
    """The crew of the signed-in member, its members leader first, where its phones last
    put it and the repairs it leads; nothing for someone without a crew."""
    now = utcnow()
    with city.write() as s:
        scope = scope_for(s, s.scalar(select(User).where(User.username == "crew")))
        crew = s.get(Crew, scope.crew_id)
        station = s.scalar(select(Unit).where(Unit.code == "JL-CY-S"))  # the demo crew's
        crew.last_lat, crew.last_lon = station.lat, station.lon
        order = repairs.create_repair(s, None, repairs.RepairInput(
            source="hotline_95598", category="low_voltage", urgency=2, lat=station.lat + 0.002,
            lon=station.lon - 0.003, address="Crew read road 5"))
        s.flush()
        assign_lead(s, None, order.id, order.version, crew.id)
        order_id, code, position = order.id, crew.code, (crew.last_lat, crew.last_lon)
        leaders = {m.staff_id for m in crew.members if m.is_leader}
    with city.read() as s:
        phone = crew_phone(s, scope, now)
        assert (phone.id, phone.code, phone.position) == (scope.crew_id, code, position)
        assert phone.members and phone.members[0].id in leaders
        job = next(j for j in phone.jobs if j.id == order_id)
        assert job.lead and job.address == "Crew read road 5"
        assert crew_phone(s, scope_of(Role.CREW, units=[], clients=[]), now) is None


def test_the_account_form_offers_units_clients_and_staff_of_the_scope(city):
    """Units of the role's kinds, clients by code and active staff with their units; a
    narrower scope offers only its own. An account by a browser's id, or None."""
    with city.read() as s:
        everything = account_choices(s, scope_of(Role.ADMIN), ("service_station",))
        stations = s.scalars(select(Unit).where(Unit.kind == "service_station")).all()
        assert {u[0] for u in everything.units} == {u.id for u in stations}
        assert all(kind == "service_station" for _id, kind, _zh, _en in everything.units)
        codes = [c.code for c in everything.clients]
        assert codes == sorted(codes) and len(codes) == len(s.scalars(select(Client)).all())
        assert everything.staff and all(c.unit_zh and c.name_zh for c in everything.staff)
        one = stations[0]
        first_client = everything.clients[0].id
        narrow = account_choices(s, scope_of(Role.STATION_HEAD, units=[one.id],
                                             clients=[first_client]), ("service_station",))
        assert [u[0] for u in narrow.units] == [one.id]
        assert [c.id for c in narrow.clients] == [first_client]
        in_unit = {st.id for st in s.scalars(select(Staff).where(Staff.unit_id == one.id,
                                                                 Staff.active.is_(True)))}
        assert {c.id for c in narrow.staff} == in_unit
        admin = s.scalar(select(User).where(User.username == "admin"))
        assert account(s, str(admin.id)).username == "admin"
        assert account(s, "nobody") is None and account(s, 2**40) is None


def test_the_jobs_page_reads_the_lease_each_jobs_newest_run_and_the_runs(city):
    """No lease: no scheduler yet; a lease held past now: active; a lapsed one: stopped.
    Each job comes with its newest run; runs are newest first, filtered and capped."""
    now = utcnow()
    config = Config.from_env({"simulate": False}, environ={})
    with city.write() as s:
        s.execute(delete(SchedulerLease))
        s.execute(delete(JobRun))
        for hours, status in ((3, "ok"), (2, "failed"), (1, "ok")):
            s.add(JobRun(job="mail", scheduled_for=now - timedelta(hours=hours), status=status,
                         started_at=now - timedelta(hours=hours)))
        s.add(JobRun(job="visits", scheduled_for=now - timedelta(days=1), status="ok"))
    with city.read() as s:
        nothing = scheduler_overview(s, config, now)
        assert nothing.lease is None and not nothing.active
        by_name = {state.job.name: state for state in nothing.jobs}
        assert {"sla_watch", "mail", "visits", "simulate"} <= set(by_name)
        assert by_name["mail"].last.scheduled_for == now - timedelta(hours=1)
        assert by_name["sla_watch"].last is None and not by_name["simulate"].enabled
        mail = job_runs(s, "mail", "", 10)
        assert [r.scheduled_for for r in mail] == [now - timedelta(hours=h) for h in (1, 2, 3)]
        assert [r.status for r in job_runs(s, "mail", "failed", 10)] == ["failed"]
        assert len(job_runs(s, "", "", 2)) == 2 and job_runs(s, "nothing", "", 10) == []
    with city.write() as s:
        s.add(SchedulerLease(name=LEASE, holder="host:1", acquired_at=now - timedelta(hours=1),
                             renewed_at=now, expires_at=now + timedelta(seconds=30)))
    with city.read() as s:
        assert scheduler_overview(s, config, now).active
        assert not scheduler_overview(s, config, now + timedelta(minutes=1)).active


def test_my_account_reads_the_callers_own_units_and_staff_record(city):
    """The units at the top of the scope, in its order, and the staff record's name; an
    account linked to no staff record has none."""
    with city.read() as s:
        head = s.scalar(select(User).where(User.username == "head"))
        scope = scope_for(s, head)
        mine = own_profile(s, scope)
        assert [u.id for u in mine.roots] == list(scope.root_unit_ids) and mine.roots
        staff = s.get(Staff, head.staff_id) if head.staff_id else None
        assert mine.staff == ((staff.name_zh, staff.name_latin) if staff else None)
        station = s.get(Unit, scope.root_unit_ids[0])
        assert (mine.roots[0].kind, mine.roots[0].name("en")) == (station.kind, station.name_en)
        nobody = own_profile(s, scope_of(Role.STATION_HEAD, units=[], clients=[]))
        assert nobody.roots == [] and nobody.staff is None and nobody.staff_name() is None


def test_the_account_page_shows_the_callers_area(app, db, as_user):
    with db.read() as s:
        head = s.scalar(select(User).where(User.username == "head"))
        station = s.get(Unit, scope_for(s, head).root_unit_ids[0])
    answer = call(as_user("head"), app, "account-profile", "children", [None])
    assert answer.status_code == 200 and station.name_en in text_of(answer)
    assert "The whole company" in text_of(call(as_user("admin"), app, "account-profile",
                                               "children", [None]))


def test_a_site_unit_and_crew_names_are_read_for_the_scope(city):
    """The unit owning a point is named even outside the scope (with in_scope saying so);
    a unit's or a crew's name is read only inside it."""
    with city.read() as s:
        station = s.scalar(select(Unit).where(Unit.code == "JL-CY-S"))
        owner = route_location(s, station.lat, station.lon)
        unit = s.get(Unit, owner.unit_id)
        mine = scope_of(Role.STATION_HEAD, units=[unit.id], roots=[unit.id])
        theirs = scope_of(Role.STATION_HEAD, units=[], clients=[])
        here = site_unit(s, mine, station.lat, station.lon)
        assert (here.id, here.name_zh, here.name_en, here.in_scope) == \
            (unit.id, unit.name_zh, unit.name_en, True)
        there = site_unit(s, theirs, station.lat, station.lon)
        assert there.id == unit.id and there.name("en") == unit.name_en and not there.in_scope
        assert site_unit(s, mine, 0.0, 0.0) is None
        named = unit_label(s, mine, unit.id)
        assert (named.kind, named.name("zh_CN")) == (unit.kind, unit.name_zh)
        assert unit_label(s, theirs, unit.id) is None and unit_label(s, mine, "1") is None
        crew = s.scalar(select(Crew).order_by(Crew.id).limit(1))
        assert crew_code(s, scope_of(Role.ADMIN), crew.id) == crew.code
        assert crew_code(s, scope_of(Role.STATION_HEAD, units=[crew.unit_id]), crew.id) == crew.code
        assert crew_code(s, theirs, crew.id) == "" and crew_code(s, scope_of(Role.ADMIN), "x") == ""
