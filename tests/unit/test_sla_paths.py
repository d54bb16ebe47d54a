"""Property-based: the time limits of every business path agree with the whole process.

For every business whose whole process has a limit, every customer class, the plain and
the important path, with and without grid works: an application whose stages each finish
on time — with random pauses for the customer, random customer works, accepted on any day
of 2026–2027 (holidays, make-up days, the provisional 2027) — has no stage due after its
whole process. And a pause never moves a due time earlier.

Pure: the engine's own functions on objects in memory, no database.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from hypothesis import assume, given, settings
from hypothesis import strategies as st

from station_portal.sla.calendar import WorkCalendar
from station_portal.sla.classes import CUSTOMER_CLASSES
from station_portal.sla.clock import Pause, compute_clock
from station_portal.sla.rules import MINUTE, WORKDAY, Limit, RuleSet, rule_book
from station_portal.sla.stages import CUSTOMER, stage_book
from station_portal.timefmt import SHANGHAI
from station_portal.workorders.clocks import apply_rule_set, refresh
from station_portal.workorders.models import ClockPause, StageClock, WorkOrder

CAL = WorkCalendar.default()
RULES = RuleSet.by_id("sgcc-2023")
FIRST = datetime(2026, 1, 5, tzinfo=SHANGHAI)
HOURS = st.floats(min_value=0, max_value=1, allow_nan=False)


def new_order(business: str, klass: str, important: bool) -> WorkOrder:
    book = stage_book()
    path = book.path_for(business, klass, important=important)
    order = WorkOrder(kind="application", status="in_progress", business_type=business,
                      customer_class=klass, important=important)
    order.clocks = [StageClock(seq=i, stage=code, paused_amount=0.0,
                               holder="customer" if book.stage(code).holder == CUSTOMER else "unit")
                    for i, code in enumerate(path, start=1)]
    order.clocks.append(StageClock(seq=len(path) + 1, stage="total", holder="unit",
                                   paused_amount=0.0))
    order.pauses = []
    return order


@settings(max_examples=600, deadline=None)
@given(business=st.sampled_from(sorted(RULES.whole_process_businesses)),
       klass=st.sampled_from(CUSTOMER_CLASSES), important=st.booleans(),
       grid_works=st.booleans(), data=st.data(),
       accepted_hours=st.integers(min_value=0, max_value=700 * 24))
def test_no_stage_is_due_after_the_whole_process(business, klass, important, grid_works, data,
                                                  accepted_hours):
    book = stage_book()
    order = new_order(business, klass, important)
    accepted = FIRST + timedelta(hours=accepted_hours)
    apply_rule_set(order, RULES, accepted, grid_works=grid_works)
    stages = [c for c in order.clocks if c.stage != "total"]
    total = order.clocks[-1]
    end_stage = book.total_end([c.stage for c in stages])
    cursor = accepted
    for clock in stages:
        clock.entered_at = cursor
        if clock.started_at is None:
            clock.started_at = cursor
        if clock.seq == 1:  # acceptance ends when the application is accepted
            ended = accepted
        elif clock.holder == "customer":
            ended = cursor + timedelta(hours=data.draw(st.integers(0, 40 * 24), "customer works"))
        elif clock.limit_amount is None:
            # A stage without a limit of its own (contract, site survey) has no days in the
            # whole process: done within the day the previous stage ended in. After a stage
            # that used its last day to 24:00, any time at all would spend a new working day
            # (Civil Code art. 201: a period begun during a day counts from the next day).
            hours = data.draw(st.integers(0, 20), "unlimited stage")
            day_end = datetime.combine(cursor.date() + timedelta(days=1), datetime.min.time(),
                                       tzinfo=SHANGHAI)
            ended = cursor if cursor == day_end - timedelta(days=1) else \
                min(cursor + timedelta(hours=hours), day_end)
        else:
            if data.draw(st.booleans(), "pause"):
                p_start = cursor + timedelta(hours=data.draw(st.integers(0, 30), "pause start"))
                p_end = p_start + timedelta(hours=data.draw(st.integers(0, 8 * 24), "pause"))
                order.pauses.append(ClockPause(reason="customer_documents", started_at=p_start,
                                               ended_at=p_end))
            refresh(order, cursor + timedelta(days=400), CAL, RULES.warn_share)
            earliest = max([cursor] + [p.ended_at for p in order.pauses])
            assume(clock.due_at > earliest)  # the stage can still finish on time
            ended = earliest + (clock.due_at - earliest) * data.draw(HOURS, "share used")
        clock.ended_at = ended
        if clock.stage == end_stage:
            total.ended_at = ended
        cursor = ended
    refresh(order, cursor + timedelta(days=1), CAL, RULES.warn_share)
    assert total.due_at is not None
    for clock in stages[:[c.stage for c in stages].index(end_stage) + 1]:
        if clock.holder == "unit" and clock.due_at is not None:
            assert clock.status == "met"
            assert clock.due_at <= total.due_at, (clock.stage, clock.due_at, total.due_at)
    assert total.status == "met"


def test_every_whole_process_path_is_covered_by_the_property():
    """The businesses the property draws from are the ones the shipped rule sets time."""
    assert {"new_connection", "capacity_increase"} <= RULES.whole_process_businesses
    assert all(RULES.total_for(b, k).exists
               for b in RULES.whole_process_businesses for k in CUSTOMER_CLASSES)
    assert [r.id for r in rule_book().rule_sets][-1] == RULES.id


INSTANTS = st.integers(min_value=0, max_value=600 * 24 * 60).map(
    lambda minutes: FIRST + timedelta(minutes=minutes))


@settings(max_examples=400, deadline=None)
@given(start=INSTANTS, amount=st.integers(1, 40), unit=st.sampled_from([WORKDAY, MINUTE]),
       pauses=st.lists(st.tuples(st.integers(0, 60 * 24 * 60), st.integers(0, 20 * 24 * 60),
                                 st.booleans()), max_size=4),
       extra=st.tuples(st.integers(0, 60 * 24 * 60), st.integers(0, 20 * 24 * 60)),
       now_after=st.integers(0, 90 * 24 * 60))
def test_a_pause_never_moves_a_due_time_earlier(start, amount, unit, pauses, extra, now_after):
    limit = Limit(amount, unit, "test")
    now = start + timedelta(minutes=now_after)

    def made(offset: int, length: int, still: bool = False) -> Pause:
        begin = start + timedelta(minutes=offset)
        return Pause(begin, None if still else begin + timedelta(minutes=length))

    before = [made(*p) for p in pauses]
    plain = compute_clock(start=start, limit=limit, now=now, calendar=CAL)
    with_some = compute_clock(start=start, limit=limit, pauses=before, now=now, calendar=CAL)
    with_more = compute_clock(start=start, limit=limit, pauses=[*before, made(*extra)], now=now,
                              calendar=CAL)
    assert plain.due <= with_some.due <= with_more.due
    if unit == WORKDAY:  # whole working days: every due time is 24:00 of a working day
        local = with_more.due.astimezone(SHANGHAI)
        assert (local.hour, local.minute, local.second) == (0, 0, 0)
        assert CAL.is_workday((local - timedelta(days=1)).date())
