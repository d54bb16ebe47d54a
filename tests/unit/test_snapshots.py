"""What a finished clock used and how late it was: working days or minutes."""

from __future__ import annotations

from datetime import UTC, datetime

import numpy as np
import pytest

from station_portal.sla.calendar import WorkCalendar
from station_portal.workorders.clocks import outcomes, settle_clock
from station_portal.workorders.models import StageClock


def t(text: str) -> float:
    """Unix seconds of an instant written in Shanghai time."""
    return datetime.fromisoformat(text + "+08:00").timestamp()


def run(rows, in_minutes):
    started, ended, due, paused = (np.array([r[i] for r in rows], dtype=float) for i in range(4))
    return outcomes(started, ended, due, paused, np.array(in_minutes), WorkCalendar.default())


def test_application_stages_count_working_days_and_lateness():
    """Whole working days, as the Civil Code counts a period: the start day not counted."""
    used, late = run([
        # Friday 10:00 → Tuesday 10:00: two working days (the weekend is off); due at 24:00 on
        # Monday, so late by one working day (any part of Tuesday counts as that day)
        (t("2026-03-06T10:00"), t("2026-03-10T10:00"), t("2026-03-10T00:00"), 0.0),
        # Monday → Wednesday with one working day paused for the customer, due later: on time
        (t("2026-03-09T11:00"), t("2026-03-11T11:00"), t("2026-03-12T00:00"), 1.0),
        # no limit: its working days, never late
        (t("2026-03-09T12:00"), t("2026-03-10T12:00"), np.nan, 0.0),
        # done on Saturday after a Friday deadline: late by one working day, not zero
        (t("2026-03-09T12:00"), t("2026-03-14T09:00"), t("2026-03-14T00:00"), 0.0),
    ], [False, False, False, False])
    assert used == pytest.approx([2.0, 1.0, 1.0, 4.0])
    assert late == pytest.approx([1.0, 0.0, 0.0, 1.0])


def test_a_stage_over_a_holiday_does_not_count_it():
    # 2026 National Day: 1–7 October off (8 October too in the package's schedule or not, the
    # stage runs from 30 September 12:00 to 9 October 12:00).
    cal = WorkCalendar.default()
    expected = cal.workdays_between(datetime(2026, 9, 30, 4, tzinfo=UTC),
                                    datetime(2026, 10, 9, 4, tzinfo=UTC))
    used, _late = run([(t("2026-09-30T12:00"), t("2026-10-09T12:00"), np.nan, 0.0)], [False])
    assert used[0] == pytest.approx(expected)
    assert used[0] < 4  # not the nine calendar days


def test_repair_clocks_count_minutes():
    used, late = run([
        (t("2026-07-01T10:00"), t("2026-07-01T10:50"), t("2026-07-01T10:45"), 0.0),
        (t("2026-07-01T11:00"), t("2026-07-01T11:30"), t("2026-07-01T11:45"), 0.0),
    ], [True, True])
    assert used == pytest.approx([50, 30])
    assert late == pytest.approx([5, 0])


def test_a_running_clock_has_no_outcome_and_a_finished_one_has():
    cal = WorkCalendar.default()
    clock = StageClock(stage="arrival", started_at=datetime(2026, 7, 1, 2, 0, tzinfo=UTC),
                       due_at=datetime(2026, 7, 1, 2, 45, tzinfo=UTC), paused_amount=0.0)
    settle_clock(clock, cal)
    assert clock.used is None and clock.late_by is None
    clock.ended_at = datetime(2026, 7, 1, 3, 0, tzinfo=UTC)
    settle_clock(clock, cal)
    assert (clock.used, clock.late_by) == (pytest.approx(60), pytest.approx(15))
