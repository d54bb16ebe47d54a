"""Rule sets are data with sources, chosen by date; stage paths follow the customer class."""

from datetime import date, datetime, timedelta

import pytest

from station_portal.resources import data_path
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
from station_portal.sla.rules import (
    MINUTE,
    WORKDAY,
    Limit,
    RuleError,
    RuleSet,
    check_against_paths,
    load_rule_book,
    parse_rule_set,
    rule_book,
)
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
    assert rs.limit("lv_small_firm", "total").amount == 6
    assert rs.limit("hv_dual", "supply_plan").start == "accepted"
    assert rs.limit("hv_single", "total").unit == WORKDAY
    assert "2023" in rs.limit("hv_single", "total").source
    # the stage limits are the rule set's allocation of the whole process, said so
    assert "分配" in rs.limit("hv_dual", "supply_plan").source
    assert rs.in_force_note


def test_the_whole_process_limit_covers_new_load_only():
    rs = RuleSet.in_force(date(2026, 3, 1))
    assert rs.total_for("new_connection", "lv_resident").amount == 5
    assert rs.total_for("capacity_increase", "hv_dual").amount == 32
    assert rs.total_for("name_change", "lv_resident") is NO_RULE
    assert rs.total_for("closure", "hv_single") is NO_RULE


def test_grid_works_change_the_limit_only_where_the_rules_say():
    rs = RuleSet.in_force(date(2026, 3, 1))
    # small firms: the 2020 policy's own limit with grid works, given to the waiting stage too
    with_works = rs.total_for("new_connection", "lv_small_firm", grid_works=True)
    assert with_works.amount == 15 and "1479" in with_works.source
    assert rs.stage_limit("new_connection", "lv_small_firm", "connection",
                          grid_works=True).amount == 5 + 15 - 6
    assert rs.stage_limit("new_connection", "lv_small_firm", "connection").amount == 5
    # the others count the works inside the whole process: nothing changes
    for klass in ("lv_resident", "lv_non_resident", "hv_single", "hv_dual"):
        assert rs.total_for("new_connection", klass, grid_works=True) == \
            rs.total_for("new_connection", klass)
    assert rs.grid_works_rule("lv_resident").rule == "included"
    assert rs.grid_works_rule("hv_dual").rule == "none"


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
    assert RuleSet.in_force(date(2023, 12, 31)).id == "sgcc-older"
    assert RuleSet.in_force(date(2024, 1, 1)).id == "sgcc-2023"
    older = RuleSet.in_force(date(2022, 5, 1))
    # the regulator's limit, cited as such (not as the commitments)
    assert older.limit("hv_single", "completion_inspection").amount == 7
    assert "供电监管办法" in older.limit("hv_single", "completion_inspection").source
    assert older.limit("hv_single", "total") is NO_RULE
    # resident cases have their limits in the older set too
    assert older.limit("lv_resident", "connection").amount == 3
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


def test_stage_paths_follow_the_business_and_the_class():
    book = stage_book()
    assert book.path_for("new_connection", "lv_resident", important=False) == [
        "acceptance", "connection", "archiving"]
    # "three zeros": a small firm takes the short path, another LV customer the full one
    assert book.path_for("new_connection", "lv_small_firm", important=False) == [
        "acceptance", "connection", "archiving"]
    assert "supply_plan" in book.path_for("new_connection", "lv_non_resident", important=False)
    ordinary = book.path_for("new_connection", "hv_single", important=False)
    important = book.path_for("new_connection", "hv_single", important=True)
    assert "design_review" not in ordinary and "mid_inspection" not in ordinary
    assert important.index("design_review") < important.index("customer_construction") \
        < important.index("mid_inspection") < important.index("customer_finishing") \
        < important.index("completion_inspection")
    assert book.stage("customer_construction").holder == "customer"
    assert book.stage("connection").unit_kinds(high_voltage=True, rural=False) == ("metering_team",)


def test_a_name_change_is_records_only_and_a_closure_has_no_works_or_contract():
    book = stage_book()
    for klass in ("lv_resident", "hv_dual"):
        assert book.path_for("name_change", klass, important=True) == [
            "acceptance", "account_change", "archiving"]
        closure = book.path_for("closure", klass, important=True)
        assert not {"customer_construction", "contract", "connection", "completion_inspection"} \
            & set(closure)
    assert book.total_end(["acceptance", "account_change", "archiving"]) == "account_change"
    assert book.total_end(book.path_for("new_connection", "hv_single", important=False)) \
        == "connection"


@pytest.mark.parametrize(("customer_type", "load", "small", "expected"), [
    ("resident", 8, False, "lv_resident"),
    ("non_resident", 80, True, "lv_small_firm"),
    ("non_resident", 160, True, "lv_small_firm"),
    ("non_resident", 80, False, "lv_non_resident"),
    ("non_resident", 161, True, "hv_single"),  # above the low-voltage load in kW
    ("resident", 500, False, "hv_single"),
])
def test_the_utility_decides_the_class_from_the_load_in_kw(customer_type, load, small, expected):
    assert stage_book().classify(customer_type=customer_type, load_kw=load,
                                 small_firm=small) == expected


def test_a_stage_file_naming_an_unknown_stage_is_refused():
    with pytest.raises(StageError, match="unknown stages"):
        parse_stage_book('total_ends_with = "a"\n[paths.new_connection]\nany = ["a", "b"]\n'
                         '[[stage]]\ncode = "a"\nname_zh = "甲"\nname_en = "A"\nholder = "customer"\n'
                         'roles = ["admin"]\n')


def test_the_shipped_rule_sets_fit_every_path():
    book = stage_book()
    for rule_set in rule_book().rule_sets:
        assert check_against_paths(rule_set, book) == []


def test_a_rule_set_whose_stages_overrun_the_whole_process_is_refused(tmp_path):
    """The 2023 totals with the assessment's stage maxima (15 + 5 + 5 for HV single) do not fit."""
    shipped = data_path("rules", "2024-01-01-sgcc-2023.toml").read_text(encoding="utf-8")
    broken = shipped.replace('supply_plan = { amount = 10, start = "accepted"',
                             'supply_plan = { amount = 15, start = "accepted"')
    assert broken != shipped
    (tmp_path / "2024-01-01-sgcc-2023.toml").write_text(broken, encoding="utf-8")
    with pytest.raises(RuleError) as refused:
        load_rule_book(tmp_path)
    message = str(refused.value)
    assert "new_connection/hv_single (important)" in message
    assert "supply_plan 15" in message and "= 27 working days, 5 more than" in message
    # the plain path (15 + 3 + 3 = 21) still fits and is not named
    assert "new_connection/hv_single:" not in message


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
    # 2027 has no State Council notice yet: New Year's Day computed from the law, provisional
    assert state.provisional and state.due == at(2027, 1, 6)
    # ending at 24:00 on 31 December touches no day of the uncovered year
    year_end = compute_clock(start=at(2026, 12, 24, 10), limit=FIVE, now=at(2026, 12, 24, 10),
                             calendar=CAL)
    assert year_end.due == at(2027, 1, 1) and not year_end.provisional
    assert not compute_clock(start=at(2026, 3, 2), limit=FIVE, now=at(2026, 3, 2),
                             calendar=CAL).provisional
