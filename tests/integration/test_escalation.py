"""The SLA watch with a controlled clock: each warning and escalation level fires once, at
its time, to the right people, across working days and pauses; email and preferences."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from sqlalchemy import select

from station_portal.auth.models import User
from station_portal.errors import ValidationFailed
from station_portal.notify import service as notes
from station_portal.notify.escalation import (
    COMPANY,
    OVERDUE,
    UNIT_HEAD,
    WARNING,
    EscalationSettings,
    default_settings,
    thresholds,
    watch,
)
from station_portal.notify.models import Notification, SlaAlert
from station_portal.org.models import Crew
from station_portal.org.tree import subtree_ids
from station_portal.services import applications, parks, repairs
from station_portal.sla.calendar import WorkCalendar
from station_portal.timefmt import SHANGHAI
from station_portal.workorders.models import WorkOrder
from tests.helpers import account as user

CHANGYI = (43.8817, 126.5744)  # urban: the first service station, the "head" account's


def at(*args) -> datetime:
    return datetime(*args, tzinfo=SHANGHAI)


def alerts(s, order_id, clock_id=None) -> dict[int, datetime]:
    """When each level fired for the order's clock (its first running one by default)."""
    rows = list(s.scalars(select(SlaAlert).where(SlaAlert.work_order_id == order_id)))
    clock_id = clock_id or min((a.clock_id for a in rows), default=None)
    return {a.level: a.fired_at for a in rows if a.clock_id == clock_id}


def received(s, username, order_id) -> list[tuple[str, int]]:
    return [(n.event, n.params["level"]) for n in s.scalars(
        select(Notification).join(User, User.id == Notification.user_id)
        .where(User.username == username, Notification.work_order_id == order_id)
        .order_by(Notification.id))]


def walk(db, start: datetime, end: datetime, step: timedelta, order_id: int,
         clock_id: int | None = None) -> dict[int, datetime]:
    """Run the watch at every step from start to end; when each level of the order fired."""
    now = start
    while now <= end:
        with db.write() as s:
            watch(s, now)
        now += step
    with db.read() as s:
        return alerts(s, order_id, clock_id)


def test_a_repair_warns_then_escalates_level_by_level_exactly_once(city):
    reported = at(2026, 3, 2, 9)  # Monday; urban arrival limit 45 min, warning at 80 %
    with city.write() as s:
        data = repairs.RepairInput(source="hotline_95598", category="low_voltage", urgency=2,
                                   lat=CHANGYI[0], lon=CHANGYI[1], address="昌邑区通江路12号",
                                   reported_at=reported)
        order = repairs.create_repair(s, user(s, "head"), data, now=reported)
        order_id = order.id
    # every minute for three hours, twice over: a second pass must change nothing
    fired = walk(city, reported, reported + timedelta(hours=3), timedelta(minutes=1), order_id)
    again = walk(city, reported, reported + timedelta(hours=3), timedelta(minutes=1), order_id)
    assert fired == again
    settings = default_settings()
    assert fired == {
        WARNING: reported + timedelta(minutes=36),
        OVERDUE: reported + timedelta(minutes=45),
        UNIT_HEAD: reported + timedelta(minutes=45 + settings.minute.unit_head_after),
        COMPANY: reported + timedelta(minutes=45 + settings.minute.company_after),
    }
    with city.read() as s:
        # nobody dispatched yet: the station's head answers for the repair group that
        # holds it; no head above the station has an account, so level 2 reaches nobody
        # new, and level 3 the company manager
        assert received(s, "head", order_id) == [("sla_warning", WARNING),
                                                 ("sla_overdue", OVERDUE)]
        assert received(s, "manager", order_id) == [("sla_escalated", COMPANY)]
        assert received(s, "gridmgr", order_id) == []
        assert s.scalar(select(SlaAlert.recipients).where(
            SlaAlert.work_order_id == order_id, SlaAlert.level == UNIT_HEAD)) == 0


def test_a_county_manager_is_the_unit_head_above_a_station(city):
    """With an account at the county company, level 2 reaches it, and level 3 only the
    city-wide manager."""
    from station_portal.org.models import Unit
    from station_portal.services.users import UserInput, create_user

    reported = at(2026, 3, 9, 9)
    with city.write() as s:
        head = user(s, "head")
        station = s.get(Unit, head.scope_unit_id)
        create_user(s, None, username="county.boss", password="a long county passphrase",
                    data=UserInput(display_name="县公司经理", role="company_manager",
                                   scope_unit_id=station.parent_id),
                    allow_demo_password=False)
        data = repairs.RepairInput(source="hotline_95598", category="low_voltage", urgency=2,
                                   lat=CHANGYI[0], lon=CHANGYI[1], address="昌邑区通江路12号",
                                   reported_at=reported)
        order_id = repairs.create_repair(s, head, data, now=reported).id
    walk(city, reported, reported + timedelta(hours=3), timedelta(minutes=5), order_id)
    with city.write() as s:
        assert received(s, "county.boss", order_id) == [("sla_escalated", UNIT_HEAD)]
        assert received(s, "manager", order_id) == [("sla_escalated", COMPANY)]
        s.delete(user(s, "county.boss"))


def test_a_finished_stage_stops_escalating(city):
    reported = at(2026, 3, 3, 9)
    with city.write() as s:
        head = user(s, "head")
        data = repairs.RepairInput(source="hotline_95598", category="low_voltage", urgency=2,
                                   lat=CHANGYI[0], lon=CHANGYI[1], address="昌邑区通江路12号",
                                   reported_at=reported)
        order_id = repairs.create_repair(s, head, data, now=reported).id
    walk(city, reported, reported + timedelta(minutes=50), timedelta(minutes=5), order_id)
    with city.write() as s:
        order = s.get(WorkOrder, order_id)
        crew = s.scalar(select(Crew).where(Crew.unit_id.in_(subtree_ids(s, order.unit_id)))
                        .order_by(Crew.id))
        when = reported + timedelta(minutes=52)
        order = repairs.repair_action(s, user(s, "head"), order_id, order.version, "dispatch",
                                      crew_id=crew.id, now=when, at=when)
        for step, minute in (("accept", 53), ("depart", 54), ("arrive", 60)):
            when = reported + timedelta(minutes=minute)
            order = repairs.repair_action(s, user(s, "head"), order_id, order.version, step,
                                          now=when, at=when)
    fired = walk(city, reported + timedelta(minutes=55), reported + timedelta(hours=3),
                 timedelta(minutes=5), order_id)
    # arrival reached level 1 before the crew came; the restoration clock (3 h) has not warned
    assert set(fired) == {WARNING, OVERDUE}


def application(s, when: datetime):
    data = applications.ApplicationInput(business_type="new_connection", customer_type="resident",
                                         load_kw=8.0, customer_name="王女士", lat=CHANGYI[0],
                                         lon=CHANGYI[1], address="昌邑区通江路3号", applied_at=when)
    return applications.create_application(s, user(s, "head"), data, accept=True, now=when)


def first_stage(order):
    return next(c for c in order.clocks if c.stage != "total" and c.started_at is not None
                and c.ended_at is None)


def test_working_day_levels_skip_the_weekend(city):
    calendar = WorkCalendar.default()
    with city.write() as s:
        order = application(s, at(2026, 3, 4, 10))  # Wednesday
        stage = first_stage(order)
        order_id, due, clock_id = order.id, stage.due_at, stage.id
        expected = thresholds(stage, default_settings(), calendar)
    assert due.weekday() != 5  # the stage ends at 24:00 of a working day
    fired = walk(city, at(2026, 3, 4, 10), at(2026, 3, 20), timedelta(hours=2), order_id,
                 clock_id)
    stage_levels = {level: when for level, when in fired.items()}
    for level in (WARNING, OVERDUE, UNIT_HEAD, COMPANY):
        threshold = expected[level]
        # fired at the first watch at or after its threshold, never before
        assert threshold <= stage_levels[level] < threshold + timedelta(hours=2)
    # a working-day delay never ends on a weekend or holiday
    for level in (UNIT_HEAD, COMPANY):
        local_day = (expected[level] - timedelta(seconds=1)).astimezone(SHANGHAI).date()
        assert calendar.is_workday(local_day)


def test_a_pause_stops_escalation_and_moves_the_levels_not_yet_fired(city):
    with city.write() as s:
        head = user(s, "head")
        order = application(s, at(2026, 4, 13, 9))  # Monday
        stage = first_stage(order)
        order_id, warn, due, clock_id = order.id, stage.warn_at, stage.due_at, stage.id
    # watch up to just after the warning: only the warning fires
    fired = walk(city, warn - timedelta(hours=1), warn + timedelta(minutes=30),
                 timedelta(minutes=30), order_id, clock_id)
    assert set(fired) == {WARNING}
    # the customer is asked for documents; the clock stops for a week
    paused_at = warn + timedelta(hours=1)
    with city.write() as s:
        order = applications.pause(s, head, order_id, s.get(WorkOrder, order_id).version,
                                   "customer_documents", at=paused_at, now=paused_at)
    resumed_at = paused_at + timedelta(days=7)
    fired = walk(city, paused_at, resumed_at, timedelta(hours=3), order_id, clock_id)
    assert set(fired) == {WARNING}, "no escalation while the order is paused"
    with city.write() as s:
        order = s.get(WorkOrder, order_id)
        order = applications.resume(s, head, order_id, order.version, at=resumed_at, now=resumed_at)
        stage = next(c for c in order.clocks if c.id == clock_id)
        new_due = stage.due_at
        expected = thresholds(stage, default_settings(), WorkCalendar.default())
    assert new_due > due
    fired = walk(city, resumed_at, resumed_at + timedelta(days=14), timedelta(hours=1), order_id,
                 clock_id)
    assert expected[OVERDUE] <= fired[OVERDUE] < expected[OVERDUE] + timedelta(hours=1)
    assert expected[UNIT_HEAD] <= fired[UNIT_HEAD] < expected[UNIT_HEAD] + timedelta(hours=1)
    with city.read() as s:
        mine = [n.params["level"] for n in s.scalars(select(Notification).where(
            Notification.user_id == user(s, "head").id, Notification.work_order_id == order_id))
            if n.params["stage"] == stage.stage]
        assert mine.count(WARNING) == 1 and mine.count(OVERDUE) == 1


def test_the_delays_are_read_from_a_file_and_checked(tmp_path):
    path = tmp_path / "escalation.toml"
    path.write_text("[workday]\nunit_head_after = 2\ncompany_after = 5\n"
                    "[minute]\nunit_head_after = 10\ncompany_after = 60\n")
    settings = EscalationSettings.load(path)
    assert settings.workday.unit_head_after == 2 and settings.minute.company_after == 60
    path.write_text("[workday]\nunit_head_after = 5\ncompany_after = 2\n"
                    "[minute]\nunit_head_after = 10\ncompany_after = 60\n")
    with pytest.raises(ValueError):
        EscalationSettings.load(path)


def test_preferences_decide_the_channels(city):
    with city.write() as s:
        account = user(s, "account")
        prefs = notes.preferences(s, account.id)
        assert prefs[("sla_overdue", "app")] and prefs[("sla_overdue", "email")]
        assert not prefs[("sla_warning", "email")]
        notes.set_preferences(s, account, ["sla_overdue:email", "visit_missed:app"])
    with city.write() as s:
        account = user(s, "account")
        prefs = notes.preferences(s, account.id)
        assert prefs[("sla_overdue", "email")] and not prefs[("sla_overdue", "app")]
        only_mail = notes.notify(s, account, "sla_overdue", params={"code": "X"})
        assert only_mail.email_state == "pending" and not only_mail.in_app
        assert notes.notify(s, account, "briefing_ready", params={}) is None
        with pytest.raises(ValidationFailed):
            notes.set_preferences(s, account, ["sla_overdue:pigeon"])
        account.email = None  # chosen, but nothing is mailed until there is an address
        notes.set_preferences(s, account, ["sla_overdue:email"])
        assert notes.notify(s, account, "sla_overdue", params={}) is None
        s.rollback()
    with city.write() as s:  # put the defaults back for the other tests
        account = user(s, "account")
        notes.set_preferences(s, account, [f"{e}:{c}" for (e, c), on in
                                           notes.preferences(s, -1).items() if on])


def test_a_park_milestone_past_its_planned_date_tells_its_account_manager_once(city):
    from datetime import date

    with city.write() as s:
        account = user(s, "account")
        case = parks.create_park_case(s, account, parks.ParkCaseInput(
            client_id=account.clients[0].id, projected_load_kw=1800,
            projected_date=date(2027, 6, 1),
            milestone_plan={"first_contact": at(2026, 5, 6, 10)}), now=at(2026, 5, 4, 9))
        case_id = case.id
    fired = walk(city, at(2026, 5, 6, 9), at(2026, 5, 12), timedelta(hours=6), case_id)
    assert set(fired) == {OVERDUE}  # a plan of their own: no escalation over it
    with city.read() as s:
        assert received(s, "account", case_id) == [("sla_overdue", OVERDUE)]
        assert received(s, "head", case_id) == received(s, "manager", case_id) == []


def test_levels_passed_long_before_the_first_watch_are_recorded_without_a_message(city):
    reported = at(2026, 6, 1, 9)
    with city.write() as s:
        data = repairs.RepairInput(source="hotline_95598", category="low_voltage", urgency=2,
                                   lat=CHANGYI[0], lon=CHANGYI[1], address="昌邑区通江路12号",
                                   reported_at=reported)
        order_id = repairs.create_repair(s, user(s, "head"), data, now=reported).id
    # the scheduler first runs a week later (an upgrade, a long outage)
    fired = walk(city, reported + timedelta(days=7), reported + timedelta(days=7),
                 timedelta(minutes=1), order_id)
    assert set(fired) == {WARNING, OVERDUE, UNIT_HEAD, COMPANY}
    with city.read() as s:
        assert received(s, "head", order_id) == received(s, "manager", order_id) == []


def test_the_order_page_lists_its_warnings_and_escalations(city):
    from station_portal.notify.queries import order_alerts
    from station_portal.pages.order_detail import alerts_card

    reported = at(2026, 7, 6, 9)
    with city.write() as s:
        data = repairs.RepairInput(source="hotline_95598", category="low_voltage", urgency=2,
                                   lat=CHANGYI[0], lon=CHANGYI[1], address="昌邑区通江路12号",
                                   reported_at=reported)
        order_id = repairs.create_repair(s, user(s, "head"), data, now=reported).id
    walk(city, reported, reported + timedelta(minutes=50), timedelta(minutes=5), order_id)
    with city.read() as s:
        alerts = order_alerts(s, order_id)
        assert [(stage, level, told) for stage, level, _at, told in alerts] == [
            ("arrival", WARNING, 1), ("arrival", OVERDUE, 1)]
        assert "Sent to 1" in str(alerts_card(alerts))
