"""validate.day: the one parser of a calendar day from what a browser or API client sent."""

from datetime import date, datetime

import pytest

from station_portal.sla.calendar import WorkCalendar
from station_portal.validate import FIRST_DAY, LAST_DAY, day


@pytest.mark.parametrize(("value", "expected"), [
    ("2026-12-05", date(2026, 12, 5)),
    (" 2026-12-05 ", date(2026, 12, 5)),
    ("2026-12-05T09:30:00", date(2026, 12, 5)),  # a date picker's value with a time
    (date(2027, 2, 6), date(2027, 2, 6)),
    (datetime(2027, 2, 6, 23, 59), date(2027, 2, 6)),
    (FIRST_DAY.isoformat(), FIRST_DAY),
    (LAST_DAY.isoformat(), LAST_DAY),
])
def test_a_day_is_read(value, expected):
    assert day(value) == expected


@pytest.mark.parametrize("value", [
    None, "", "tomorrow", "2026-13-01", "2026-02-30", "１２３４-01-01", 20261205, True,
    [], {}, "1999-12-31", "2061-01-01", "9999-12-31", "0001-01-01", date(1999, 12, 31),
])
def test_anything_else_is_none(value):
    assert day(value) is None


def test_the_range_is_the_calendars():
    cal = WorkCalendar.default()
    assert cal.is_workday(LAST_DAY) in (True, False)  # the last day is on the calendar
    with pytest.raises(ValueError):
        cal.is_workday(date(LAST_DAY.year + 1, 1, 1))
