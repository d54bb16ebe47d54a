"""The working-day calendar: make-up days, Civil Code counting, uncovered years, vectors."""

from datetime import date, datetime, timedelta

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from station_portal.sla.calendar import CalendarError, WorkCalendar, _load_overrides
from station_portal.timefmt import SHANGHAI

CAL = WorkCalendar.default()


def at(*args) -> datetime:
    return datetime(*args, tzinfo=SHANGHAI)


def midnight_after(d: date) -> datetime:
    return at(d.year, d.month, d.day) + timedelta(days=1)


@pytest.mark.parametrize(("day", "expected"), [
    (date(2025, 9, 28), True),    # Sunday, make-up working day before National Day
    (date(2025, 10, 1), False),   # National Day
    (date(2025, 10, 8), False),   # last day of the 2025 National Day holiday (Wednesday)
    (date(2025, 10, 11), True),   # Saturday, make-up working day
    (date(2025, 10, 12), False),  # an ordinary Sunday
    (date(2026, 2, 14), True),    # Saturday before the 2026 Spring Festival
    (date(2026, 2, 16), False),   # Spring Festival (Monday)
    (date(2026, 2, 23), False),   # last holiday (Monday)
    (date(2026, 2, 24), True),
    (date(2026, 2, 28), True),    # Saturday, make-up working day
])
def test_holidays_and_make_up_days(day, expected):
    assert CAL.is_workday(day) is expected


def test_the_start_day_does_not_count_and_the_period_ends_at_midnight():
    # Friday 26 Sep 2025: Sun 28 (make-up), Mon 29, Tue 30 → ends 24:00 Tue 30 Sep
    assert CAL.add_workdays(at(2025, 9, 26, 10, 30), 3) == midnight_after(date(2025, 9, 30))
    # starting even a minute before midnight changes nothing: the start day never counts
    assert CAL.add_workdays(at(2025, 9, 26, 23, 59), 3) == midnight_after(date(2025, 9, 30))


def test_a_period_runs_over_the_national_day_holiday():
    # Tue 30 Sep: the next working day is Thu 9 Oct; then Fri 10, Sat 11 (make-up)
    assert CAL.add_workdays(at(2025, 9, 30, 9), 1) == midnight_after(date(2025, 10, 9))
    assert CAL.add_workdays(at(2025, 9, 30, 9), 3) == midnight_after(date(2025, 10, 11))


def test_a_period_runs_over_the_spring_festival():
    # Fri 13 Feb 2026 → Sat 14 (make-up) is day 1; then 24 Feb … Sat 28 Feb (make-up) is day 5
    assert CAL.add_workdays(at(2026, 2, 13, 16), 1) == midnight_after(date(2026, 2, 14))
    assert CAL.add_workdays(at(2026, 2, 13, 16), 5) == midnight_after(date(2026, 2, 27))
    assert CAL.add_workdays(at(2026, 2, 13, 16), 6) == midnight_after(date(2026, 2, 28))


def test_a_period_starting_on_a_holiday_counts_from_the_next_working_day():
    assert CAL.add_workdays(at(2025, 10, 3, 12), 1) == midnight_after(date(2025, 10, 9))


def test_results_are_timezone_aware_in_shanghai_whatever_the_input_zone():
    from datetime import UTC

    due = CAL.add_workdays(datetime(2025, 9, 26, 2, 30, tzinfo=UTC), 3)  # 10:30 Shanghai
    assert due.utcoffset() == timedelta(hours=8)
    assert due == midnight_after(date(2025, 9, 30))
    with pytest.raises(ValueError):
        CAL.add_workdays(datetime(2025, 9, 26, 10), 3)  # naive


def test_working_time_between_instants():
    # Over the whole National Day holiday no working time passes
    assert CAL.workdays_between(at(2025, 10, 1), at(2025, 10, 9)) == 0
    # Monday noon to Wednesday noon: two working days
    assert CAL.workdays_between(at(2026, 3, 2, 12), at(2026, 3, 4, 12)) == pytest.approx(2.0)
    # Friday 18:00 to Monday 06:00: a quarter of Friday plus a quarter of Monday
    assert CAL.workdays_between(at(2026, 3, 6, 18), at(2026, 3, 9, 6)) == pytest.approx(0.5)
    assert CAL.workdays_between(at(2026, 3, 9, 6), at(2026, 3, 6, 18)) == pytest.approx(-0.5)


def test_a_year_nothing_covers_is_computed_from_the_law_and_is_provisional():
    assert not CAL.is_covered(date(2027, 1, 1))
    assert not CAL.is_workday(date(2027, 1, 1))  # a Friday, New Year's Day by the law
    assert not CAL.is_workday(date(2027, 1, 2))
    assert CAL.is_workday(date(2027, 1, 4))
    assert CAL.years[2027].source.startswith("computed from the law")
    assert CAL.provisional_between(at(2026, 12, 28), at(2027, 1, 6))
    assert not CAL.provisional_between(at(2026, 3, 2), at(2026, 3, 10))


def test_an_override_file_covers_a_new_year(tmp_path):
    overrides = tmp_path / "overrides.toml"
    overrides.write_text('[year.2027]\nsource = "notice 2027"\n'
                         "holidays = [2027-01-01]\nworkdays = [2027-01-02]\n")
    cal = WorkCalendar.from_sources(overrides)
    assert cal.is_covered(date(2027, 6, 1)) and cal.years[2027].source == "override: notice 2027"
    assert not cal.is_workday(date(2027, 1, 1)) and cal.is_workday(date(2027, 1, 2))
    assert not cal.provisional_between(at(2026, 12, 28), at(2027, 1, 6))


@pytest.mark.parametrize("text", [
    '[year.2027]\nsource = "x"\nholidays = [2027-01-01T00:00:00]\n',  # a datetime, not a day
    '[year.2027]\nholidays = [2027-01-01]\n',                     # no source
    '[year.2027]\nsource = "x"\nholidays = [2028-01-01]\n',       # wrong year
    '[[day]]\ndate = 2027-01-01\nkind = "party"\n',               # unknown kind
    '[year.abc]\nsource = "x"\n',
])
def test_malformed_overrides_are_refused(tmp_path, text):
    path = tmp_path / "o.toml"
    path.write_text(text)
    with pytest.raises(CalendarError):
        _load_overrides(path)


def test_dates_outside_the_calendar_are_refused():
    with pytest.raises(CalendarError):
        CAL.is_workday(date(1999, 12, 31))
    with pytest.raises(CalendarError):
        CAL.add_workdays(at(2061, 1, 1), 1)


def test_the_vector_form_matches_the_scalar_form():
    rng = np.random.default_rng(5)
    starts = rng.uniform(at(2024, 1, 1).timestamp(), at(2026, 11, 1).timestamp(), 500)
    n = rng.integers(0, 40, 500)
    many = CAL.add_workdays_many(starts, n)
    from datetime import UTC

    for s, k, due in zip(starts, n, many, strict=True):
        scalar = CAL.add_workdays(datetime.fromtimestamp(s, tz=UTC), int(k))
        assert scalar.timestamp() == pytest.approx(due)


instants = st.datetimes(min_value=datetime(2003, 1, 1), max_value=datetime(2058, 1, 1)).map(
    lambda d: d.replace(tzinfo=SHANGHAI))


@settings(max_examples=300, deadline=None)
@given(start=instants, n=st.integers(min_value=1, max_value=60))
def test_the_deadline_ends_a_working_day_exactly_n_working_days_later(start, n):
    due = CAL.add_workdays(start, n)
    last_day = (due - timedelta(seconds=1)).date()
    assert due.time() == datetime.min.time()  # 24:00, i.e. midnight
    assert CAL.is_workday(last_day)
    # the start day is not counted; a start at exactly midnight is 24:00 of the day before
    first = (start - timedelta(microseconds=1)).date() if start.time() == datetime.min.time() \
        else start.date()
    counted = sum(CAL.is_workday(first + timedelta(days=i))
                  for i in range(1, (last_day - first).days + 1))
    assert counted == n


def test_a_stage_done_at_its_due_time_hands_over_on_that_day():
    """Done at 24:00 of Thursday (its due time), the next stage counts from Friday, as one
    done at 23:59 would: midnight does not cost the utility a day."""
    done_at_due = datetime(2026, 1, 9, 0, 0, tzinfo=SHANGHAI)  # 24:00 Thu 8 January
    just_before = datetime(2026, 1, 8, 23, 59, tzinfo=SHANGHAI)
    assert CAL.add_workdays(done_at_due, 1) == CAL.add_workdays(just_before, 1) \
        == datetime(2026, 1, 10, 0, 0, tzinfo=SHANGHAI)  # 24:00 Fri 9 January


@settings(max_examples=300, deadline=None)
@given(a=instants, b=instants, c=instants)
def test_working_time_adds_up_and_round_trips(a, b, c):
    assert CAL.workdays_between(a, b) + CAL.workdays_between(b, c) == \
        pytest.approx(CAL.workdays_between(a, c), abs=1e-9)
    back = CAL.instant(CAL.ordinal(a))
    assert CAL.ordinal(back) == pytest.approx(CAL.ordinal(a), abs=1e-9)
    if CAL.is_workday(a.date()) and a.time() != datetime.min.time():
        # inside a working day the instant comes back exactly (a midnight is also the
        # previous working day's 24:00, which is what a whole ordinal maps to)
        assert abs((back - a).total_seconds()) < 1e-3
