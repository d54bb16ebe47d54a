"""The outage notice commitment and the spare-capacity estimate, as plain arithmetic."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st

from station_portal.network.areas import estimate
from station_portal.network.outages import Verdict, notice_due, notice_verdict
from station_portal.network.rules import network_rules
from station_portal.validate import local_time

START = datetime(2026, 12, 14, 0, 30, tzinfo=UTC)  # 08:30 in Beijing


def test_the_commitments_are_seven_days_and_twenty_four_hours_with_their_sources():
    rules = network_rules()
    assert rules.commitment("planned").notice == timedelta(days=7)
    assert rules.commitment("temporary").notice == timedelta(hours=24)
    assert "第二十八条" in rules.commitment("planned").source("zh_CN")
    assert "art. 2" in rules.commitment("temporary").source("en")
    assert notice_due("planned", START) == START - timedelta(days=7)


@given(kind=st.sampled_from(["planned", "temporary"]),
       told=st.integers(min_value=-20 * 24 * 60, max_value=2 * 24 * 60))
def test_a_notice_is_in_time_exactly_when_it_came_no_later_than_the_deadline(kind, told):
    announced = START + timedelta(minutes=told)
    verdict = notice_verdict(kind, "announced", START, announced, START + timedelta(days=1))
    assert verdict == (Verdict.IN_TIME if announced <= notice_due(kind, START) else Verdict.LATE)


@given(kind=st.sampled_from(["planned", "temporary"]),
       now=st.integers(min_value=-20 * 24 * 60, max_value=2 * 24 * 60),
       status=st.sampled_from(["draft", "approved", "cancelled"]))
def test_an_outage_not_announced_is_due_then_missed_unless_cancelled(kind, now, status):
    at = START + timedelta(minutes=now)
    verdict = notice_verdict(kind, status, START, None, at)
    if status == "cancelled":
        assert verdict == Verdict.NONE
    else:
        assert verdict == (Verdict.DUE if at <= notice_due(kind, START) else Verdict.MISSED)


@given(kva=st.sampled_from([100, 200, 315, 400, 630, 800]),
       connected=st.floats(min_value=0, max_value=5000),
       applied=st.floats(min_value=0, max_value=2000))
def test_more_load_never_leaves_more_room(kva, connected, applied):
    rules = network_rules().capacity
    peak, spare = estimate(kva, connected, applied, rules)
    peak2, spare2 = estimate(kva, connected + 10, applied, rules)
    assert peak2 > peak and spare2 < spare
    assert abs(spare - (kva * rules.heavy_load_ratio - peak)) < 1e-6


def test_a_time_typed_in_beijing_is_stored_in_utc_and_bad_text_is_refused():
    assert local_time("2026-12-14 08:30") == START
    assert local_time("2026-12-14T08:30") == START
    assert local_time("2026-12-14T00:30+00:00") == START
    assert local_time("14/12/2026") is None
    assert local_time("2099-01-01 00:00") is None
    assert local_time(None) is None


def test_a_notice_mail_is_titled_by_its_headline():
    from station_portal.notify.outage_notices import subject_of

    assert subject_of("【停电通知】2026-12-14 08:30 至 …") == "停电通知"
    assert subject_of("[Power outage notice] 2026-12-14 …") == "Power outage notice"
    assert subject_of("no headline") == "no headline"
