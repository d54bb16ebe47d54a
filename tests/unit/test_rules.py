"""Rule sets are data with sources, chosen by date; stage paths follow the customer class."""

from datetime import date, datetime, timedelta

import pytest

from station_portal.sla.calendar import WorkCalendar
from station_portal.sla.clock import (
    AT_RISK,
    MET,
    MISSED,
    NO_LIMIT,
    ON_TRACK,
    OVERDUE,
    Pause,
    compute_clock,
)
from station_portal.sla.rules import MINUTE, WORKDAY, Limit, RuleError, RuleSet, parse_rule_set, rule_book
from station_portal.sla.rules import NO_LIMIT as NO_RULE
from station_portal.sla.stages import StageError, parse_stage_book, stage_book
from station_portal.timefmt import SHANGHAI

CAL = WorkCalendar.default()


def at(*args) -> datetime:
    return datetime(*args, tzinfo=SHANGHAI)


def test_the_2023_commitments_give_the_whole_process_limits():
    rs = RuleSet.in_force(date(2026, 3, 1))
    assert rs.id == "sgcc-2023"
    totals = {c: rs.limit(c, "total").amount
              for c in ("lv_resident", "lv_non_resident", "hv_single", "hv_dual")}
    assert totals == {"lv_resident": 5, "lv_non_resident": 6, "hv_single": 22, "hv_dual": 32}
    assert rs.limit("hv_dual", "supply_plan").amount == 30
    assert rs.limit("hv_dual", "supply_plan").start == "accepted"
    assert rs.limit("hv_single", "total").unit == WORKDAY
    assert "2023" in rs.limit("hv_single", "total").source


def test_repair_limits_are_minutes_by_area():
    rs = RuleSet.in_force(date(2026, 3, 1))
    assert [rs.limit(a, "arrival").amount for a in ("urban", "rural", "remote")] == [45, 90, 120]
    assert rs.limit("urban", "restoration") == Limit(180, MINUTE, rs.limit("urban", "arrival").source)
    assert rs.limit("rural", "restoration").amount == 240


def test_unconfirmed_limits_are_absent_not_invented():
    rs = RuleSet.in_force(date(2026, 3, 1))
    assert rs.limit("hv_single", "site_survey") is NO_RULE
    assert rs.limit("hv_single", "archiving") is NO_RULE
    assert rs.limit("remote", "restoration") is NO_RULE


def test_the_rule_set_is_chosen_by_the_date_it_came_into_force():
    assert RuleSet.in_force(date(2023, 12, 7)).id == "sgcc-older"
    assert RuleSet.in_force(date(2023, 12, 8)).id == "sgcc-2023"
    older = RuleSet.in_force(date(2022, 5, 1))
    assert older.limit("hv_single", "completion_inspection").amount == 7
    assert older.limit("hv_single", "total") is NO_RULE
    with pytest.raises(RuleError):
        RuleSet.in_force(date(2015, 1, 1))
    assert [r.id for r in rule_book().rule_sets] == ["sgcc-older", "sgcc-2023"]


@pytest.mark.parametrize(("text", "message"), [
    ('id = "x"\ntitle_zh = "x"\ntitle_en = "x"\n', "in_force_from"),
    ('id = "x"\ntitle_zh = "x"\ntitle_en = "x"\nin_force_from = 2024-01-01\n'
     '[application.lv_resident]\ntotal = { amount = 5, source = "nowhere" }\n', "source"),
    ('id = "x"\ntitle_zh = "x"\ntitle_en = "x"\nin_force_from = 2024-01-01\n[sources]\na = "A"\n'
     '[application.martian]\ntotal = { amount = 5, source = "a" }\n', "customer class"),
    ('id = "x"\ntitle_zh = "x"\ntitle_en = "x"\nin_force_from = 2024-01-01\n[sources]\na = "A"\n'
     '[repair.urban]\narrival = { amount = -5, source = "a" }\n', "positive"),
])
def test_malformed_rule_files_are_refused_with_the_reason(text, message):
    with pytest.raises(RuleError, match=message):
        parse_rule_set(text)


def test_stage_paths_follow_the_class():
    book = stage_book()
    assert book.path_for("lv_resident", important=False, capacity_kva=8) == [
        "acceptance", "connection", "archiving"]
    # "three zeros": a small firm takes the short path, a bigger one the full LV path
    assert book.path_for("lv_non_resident", important=False, capacity_kva=100) == [
        "acceptance", "connection", "archiving"]
    assert "supply_plan" in book.path_for("lv_non_resident", important=False, capacity_kva=200)
    ordinary = book.path_for("hv_single", important=False, capacity_kva=800)
    important = book.path_for("hv_single", important=True, capacity_kva=800)
    assert "design_review" not in ordinary and "mid_inspection" not in ordinary
    assert important.index("design_review") < important.index("customer_construction") \
        < important.index("mid_inspection") < important.index("customer_finishing") \
        < important.index("completion_inspection")
    assert book.stage("customer_construction").holder == "customer"
    assert book.stage("connection").unit_kinds(high_voltage=True, rural=False) == ("metering_team",)


def test_a_stage_file_naming_an_unknown_stage_is_refused():
    with pytest.raises(StageError, match="unknown stages"):
        parse_stage_book('total_ends_with = "a"\n[paths]\nlv_resident = ["a", "b"]\n'
                         '[[stage]]\ncode = "a"\nname_zh = "甲"\nname_en = "A"\nholder = "customer"\n'
                         'roles = ["admin"]\n')


# -- clocks -------------------------------------------------------------------------

FIVE = Limit(5, WORKDAY, "test")


def test_a_workday_clock_runs_to_midnight_of_the_last_day_and_warns_before():
    start = at(2026, 3, 2, 10)  # Monday
    state = compute_clock(start=start, limit=FIVE, now=start, calendar=CAL)
    assert state.due == at(2026, 3, 10)  # 24:00 Mon 9 March
    assert state.status == ON_TRACK and state.warn < state.due
    assert compute_clock(start=start, limit=FIVE, now=at(2026, 3, 9, 12), calendar=CAL).status \
        == AT_RISK
    assert compute_clock(start=start, limit=FIVE, now=at(2026, 3, 10, 0, 1), calendar=CAL).status \
        == OVERDUE
    assert compute_clock(start=start, limit=FIVE, ended=at(2026, 3, 9, 23), now=at(2026, 3, 20),
                         calendar=CAL).status == MET
    assert compute_clock(start=start, limit=FIVE, ended=at(2026, 3, 10, 9), now=at(2026, 3, 20),
                         calendar=CAL).status == MISSED


def test_paused_working_time_extends_the_deadline():
    start = at(2026, 3, 2, 10)
    # paused from Tuesday 12:00 to Thursday 12:00: two working days
    pause = Pause(at(2026, 3, 3, 12), at(2026, 3, 5, 12), "customer_documents")
    state = compute_clock(start=start, limit=FIVE, pauses=[pause], now=at(2026, 3, 6),
                          calendar=CAL)
    assert state.paused_amount == pytest.approx(2.0)
    assert state.due == at(2026, 3, 12)  # two working days later than without the pause


def test_a_pause_over_a_weekend_costs_no_working_time():
    start = at(2026, 3, 2, 10)
    weekend = Pause(at(2026, 3, 7, 8), at(2026, 3, 8, 20), "customer_construction")
    state = compute_clock(start=start, limit=FIVE, pauses=[weekend], now=at(2026, 3, 9),
                          calendar=CAL)
    assert state.paused_amount == 0 and state.due == at(2026, 3, 10)


def test_an_open_pause_keeps_moving_the_deadline_and_says_so():
    start = at(2026, 3, 2, 10)
    pause = Pause(at(2026, 3, 3, 0), None, "grid_works")
    early = compute_clock(start=start, limit=FIVE, pauses=[pause], now=at(2026, 3, 4), calendar=CAL)
    later = compute_clock(start=start, limit=FIVE, pauses=[pause], now=at(2026, 3, 6), calendar=CAL)
    assert early.paused and later.paused and later.due - early.due == timedelta(days=2)


def test_a_minute_clock_counts_every_minute():
    start = at(2026, 3, 7, 23, 30)  # a Saturday night
    limit = Limit(45, MINUTE, "test")
    state = compute_clock(start=start, limit=limit, now=start, calendar=CAL)
    assert state.due == at(2026, 3, 8, 0, 15)
    paused = compute_clock(start=start, limit=limit, calendar=CAL, now=at(2026, 3, 8, 1),
                           pauses=[Pause(at(2026, 3, 7, 23, 40), at(2026, 3, 7, 23, 50))])
    assert paused.due == at(2026, 3, 8, 0, 25)


def test_a_stage_without_a_limit_has_no_due_time():
    state = compute_clock(start=at(2026, 3, 2), limit=NO_RULE, now=at(2026, 4, 2), calendar=CAL)
    assert state.status == NO_LIMIT and state.due is None


def test_a_deadline_in_an_uncovered_year_is_provisional():
    state = compute_clock(start=at(2026, 12, 28, 10), limit=FIVE, now=at(2026, 12, 28, 10),
                          calendar=CAL)
    assert state.provisional and state.due == at(2027, 1, 5)
    # ending at 24:00 on 31 December touches no day of the uncovered year
    year_end = compute_clock(start=at(2026, 12, 24, 10), limit=FIVE, now=at(2026, 12, 24, 10),
                             calendar=CAL)
    assert year_end.due == at(2027, 1, 1) and not year_end.provisional
    assert not compute_clock(start=at(2026, 3, 2), limit=FIVE, now=at(2026, 3, 2),
                             calendar=CAL).provisional
