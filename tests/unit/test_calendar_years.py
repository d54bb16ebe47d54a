"""Years without a State Council notice: holidays computed from the law, kept provisional."""

from datetime import date, datetime, timedelta

import pytest
from chinese_calendar import constants
from click.testing import CliRunner

from station_portal.cli import main
from station_portal.sla.calendar import WorkCalendar
from station_portal.sla.holidays import LAW_VERSIONS, law_holidays, law_version, qingming
from station_portal.timefmt import SHANGHAI

CAL = WorkCalendar.default()


def at(*args) -> datetime:
    return datetime(*args, tzinfo=SHANGHAI)


def midnight_after(d: date) -> datetime:
    return at(d.year, d.month, d.day) + timedelta(days=1)


# 2027 by the law as revised in 2024 (order No. 795); lunar dates checked with lunardate.
DAYS_OFF_2027 = [
    (date(2027, 1, 1), "New Year's Day (Friday)"),
    (date(2027, 2, 5), "除夕 (Friday; the 12th lunar month of 2026 has 29 days)"),
    (date(2027, 2, 6), "正月初一 (Saturday)"),
    (date(2027, 2, 7), "初二 (Sunday)"),
    (date(2027, 2, 8), "初三 (Monday)"),
    (date(2027, 2, 9), "made up for 初一 on a Saturday"),
    (date(2027, 2, 10), "made up for 初二 on a Sunday"),
    (date(2027, 4, 5), "Qingming (Monday)"),
    (date(2027, 5, 1), "Labour Day (Saturday)"),
    (date(2027, 5, 2), "Labour Day (Sunday)"),
    (date(2027, 5, 3), "made up for 1 May"),
    (date(2027, 5, 4), "made up for 2 May"),
    (date(2027, 6, 9), "Dragon Boat Festival, 五月初五 (Wednesday)"),
    (date(2027, 9, 15), "Mid-Autumn Festival, 八月十五 (Wednesday)"),
    (date(2027, 10, 1), "National Day (Friday)"),
    (date(2027, 10, 2), "National Day (Saturday)"),
    (date(2027, 10, 3), "National Day (Sunday)"),
    (date(2027, 10, 4), "made up for 2 October"),
    (date(2027, 10, 5), "made up for 3 October"),
]

# The weekdays right next to them stay working days (no make-up working days are invented).
WORKING_2027 = [date(2026, 12, 31), date(2027, 1, 4), date(2027, 2, 4), date(2027, 2, 11),
                date(2027, 4, 2), date(2027, 4, 6), date(2027, 4, 30), date(2027, 5, 5),
                date(2027, 6, 8), date(2027, 6, 10), date(2027, 9, 14), date(2027, 9, 16),
                date(2027, 9, 30), date(2027, 10, 6)]


@pytest.mark.parametrize(("day", "what"), DAYS_OFF_2027)
def test_2027_holidays_by_the_law_are_days_off_and_provisional(day, what):
    assert not CAL.is_workday(day), what
    assert not CAL.is_covered(day)
    assert CAL.provisional_between(at(day.year, day.month, day.day, 9), at(day.year, day.month, day.day, 17))


@pytest.mark.parametrize("day", WORKING_2027)
def test_the_weekdays_next_to_the_2027_holidays_are_working_days(day):
    assert CAL.is_workday(day)


def test_2027_is_computed_from_the_current_law_and_not_covered():
    year = CAL.years[2027]
    assert year.covered is False
    assert year.kind == "law"
    assert year.source.startswith("computed from the law (provisional)")
    assert "国务院令第795号" in year.source
    # The whole year's days off, no more, and no make-up working day on a weekend
    listed = CAL.year_days(2027)
    assert [d.day for d in listed if not d.workday] == [d for d, _ in DAYS_OFF_2027]
    assert not [d for d in listed if d.workday]
    assert all(d.provisional for d in listed)
    # A deadline inside 2026 alone is not provisional; one reaching into 2027 is
    assert not CAL.provisional_between(at(2026, 12, 1), at(2027, 1, 1))
    assert CAL.provisional_between(at(2026, 12, 28), at(2027, 1, 6))


def test_the_law_for_2027_with_its_names_and_make_up_days():
    days = law_holidays(2027)
    assert [d.day for d in days] == [d for d, _ in DAYS_OFF_2027]
    makeups = {d.day: d.makeup_for for d in days if d.is_makeup}
    assert makeups == {date(2027, 2, 9): date(2027, 2, 6), date(2027, 2, 10): date(2027, 2, 7),
                       date(2027, 5, 3): date(2027, 5, 1), date(2027, 5, 4): date(2027, 5, 2),
                       date(2027, 10, 4): date(2027, 10, 2), date(2027, 10, 5): date(2027, 10, 3)}
    spring = [(d.day, d.detail) for d in days if d.name == "春节" and not d.is_makeup]
    assert spring == [(date(2027, 2, 5), "除夕"), (date(2027, 2, 6), "初一"),
                      (date(2027, 2, 7), "初二"), (date(2027, 2, 8), "初三")]
    assert qingming(2027) == date(2027, 4, 5)


def test_a_year_with_two_holidays_on_one_day_gets_a_day_back():
    # 2028: Mid-Autumn (八月十五) is 3 October, a National Day; 1 October is a Sunday
    days = law_holidays(2028)
    on_3_october = [d.name for d in days if d.day == date(2028, 10, 3) and not d.is_makeup]
    assert sorted(on_3_october) == ["中秋节", "国庆节"]
    made_up = sorted(d.day for d in days if d.is_makeup and d.day.month == 10)
    assert made_up == [date(2028, 10, 4), date(2028, 10, 5)]


@pytest.mark.parametrize("year", [2025, 2026])
def test_every_day_the_law_gives_is_a_holiday_in_the_packages_notices(year):
    # The notices add bridge days and make-up working days; the law's days are all among their days off
    for day in law_holidays(year):
        assert day.day in constants.holidays, day


@pytest.mark.parametrize("year", range(2004, 2025))
def test_the_older_versions_of_the_law_agree_with_the_packages_notices(year):
    # 2009-10-03 and 2020-10-01 are Mid-Autumn and National Day at once (the package names one)
    for day in law_holidays(year):
        if not day.is_makeup:
            assert day.day in constants.holidays or day.day == date(2012, 6, 23), day  # a gap in the data


def test_each_version_of_the_law_applies_from_its_year():
    assert law_version(2007).order == "国务院令第270号"
    assert law_version(2008).order == "国务院令第513号"
    assert law_version(2024).order == "国务院令第644号"
    assert law_version(2025) is LAW_VERSIONS[-1]
    spring_2024 = [d.detail for d in law_holidays(2024) if d.name == "春节" and not d.is_makeup]
    assert spring_2024 == ["初一", "初二", "初三"]
    with pytest.raises(ValueError):
        law_holidays(1999)


def test_an_override_year_confirms_2027_and_removes_the_provisional_flag(tmp_path):
    overrides = tmp_path / "overrides.toml"
    overrides.write_text('[year.2027]\nsource = "国办发明电〔2026〕×号"\n'
                         "holidays = [2027-01-01, 2027-02-05, 2027-02-08, 2027-02-09, 2027-02-10, "
                         "2027-02-11, 2027-02-12]\n"
                         "workdays = [2027-02-20]\n")
    cal = WorkCalendar.from_sources(overrides)
    assert cal.years[2027].covered is True
    assert cal.years[2027].source == "override: 国办发明电〔2026〕×号"
    assert not cal.provisional_between(at(2026, 12, 28), at(2027, 2, 28))
    assert not any(d.provisional for d in cal.year_days(2027))
    assert not cal.is_workday(date(2027, 2, 12)) and cal.is_workday(date(2027, 2, 20))
    # The notice is the year's whole schedule: the law's computed days no longer apply
    assert cal.is_workday(date(2027, 5, 3))
    # Other years without a notice stay computed and provisional
    assert not cal.years[2028].covered and not cal.is_workday(date(2028, 1, 3))


@pytest.mark.parametrize(("day", "expected"), [
    (date(2025, 9, 28), True),    # Sunday, make-up working day
    (date(2025, 10, 11), True),   # Saturday, make-up working day
    *[(date(2025, 10, d), False) for d in range(1, 9)],
    (date(2026, 2, 14), True),    # Saturday, make-up working day
    (date(2026, 2, 28), True),    # Saturday, make-up working day
    *[(date(2026, 2, d), False) for d in range(15, 24)],
])
def test_the_packages_years_keep_their_make_up_working_days(day, expected):
    assert CAL.is_workday(day) is expected
    assert CAL.is_covered(day) and CAL.years[day.year].kind == "package"


def test_a_period_runs_over_the_2027_spring_festival():
    # Thu 4 Feb: off Fri 5 (除夕) … Mon 8 (初三), Tue 9 and Wed 10 (made up); Thu 11, Fri 12, Mon 15
    start = at(2027, 2, 4, 10)
    assert CAL.add_workdays(start, 1) == midnight_after(date(2027, 2, 11))
    assert CAL.add_workdays(start, 3) == midnight_after(date(2027, 2, 15))
    assert CAL.provisional_between(start, CAL.add_workdays(start, 3))
    assert CAL.workdays_between(at(2027, 2, 5), at(2027, 2, 11)) == 0


def test_the_cli_shows_a_computed_year_as_provisional():
    result = CliRunner().invoke(main, ["calendar", "check", "2027"])
    assert result.exit_code == 0, result.output
    out = result.output
    assert "computed from the law" in out and "国务院令第795号" in out
    for day, _ in DAYS_OFF_2027:
        line = next(line for line in out.splitlines() if line.strip().startswith(day.isoformat()))
        assert "[provisional]" in line
    assert "2027-02-05 Fri  春节 Spring Festival (除夕)" in out
    assert "2027-05-03 Mon  补假" in out
    assert "make-up working days (调休): 0" in out
    assert "no State Council notice for 2027 is known" in out
    assert "[year.2027]" in out and "overrides.toml" in out and "station-portal recompute-clocks" in out


def test_the_cli_shows_a_package_year_with_its_make_up_working_days():
    result = CliRunner().invoke(main, ["calendar", "check", "2025"])
    assert result.exit_code == 0, result.output
    assert "chinese-calendar package" in result.output
    assert "2025-09-28 Sun  make-up working day" in result.output
    assert "2025-10-08 Wed  " in result.output
    assert "[provisional]" not in result.output and "nothing in 2025 is provisional" in result.output


@pytest.mark.parametrize("year", ["1999", "2061", "abc"])
def test_the_cli_refuses_a_year_outside_the_calendar(year):
    result = CliRunner().invoke(main, ["calendar", "check", year])
    assert result.exit_code == 2
    assert result.exception is None or isinstance(result.exception, SystemExit)
    assert "Traceback" not in result.output
    assert "YEAR" in result.output
