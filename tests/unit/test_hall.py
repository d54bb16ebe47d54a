"""The hall's pure parts: catalogue, queue rules, statistics frames and figures."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

import pandas as pd
import pytest

from station_portal.hall import stats
from station_portal.hall.catalog import CatalogError, load_catalog, parse_catalog
from station_portal.hall.models import ServiceHall
from station_portal.hall.queue import (
    estimate_wait_minutes,
    is_open,
    opens_on,
    ticket_label,
    timer_state,
)
from station_portal.org.matrix import load_matrix
from station_portal.pages import counter, hall_charts, hall_dashboard


def test_the_catalogue_keeps_the_counter_standards_with_their_source():
    catalog = load_catalog()
    assert catalog.business("resident_case").standard_minutes == 20
    assert catalog.business("payment").standard_minutes == 5
    assert "DOMAIN.md" in catalog.business("payment").standard_source
    assert catalog.business("enquiry").standard_minutes is None  # not confirmed: not judged
    assert catalog.letters == ("A", "B", "C")


def test_a_standard_without_its_source_is_refused():
    raw = {"version": "x", "source": "y", "group": [{"letter": "A", "name_zh": "a", "name_en": "a"}],
           "business": [{"code": "p", "group": "A", "name_zh": "p", "name_en": "p",
                         "standard_minutes": 5}]}
    with pytest.raises(CatalogError, match="source"):
        parse_catalog(raw)


def hall(**kw) -> ServiceHall:
    base = {"opens_at": time(8, 30), "closes_at": time(17, 0), "open_days": "1111100",
            "open_on_holidays": False, "active": True, "counters": 3}
    return ServiceHall(**(base | kw))


def test_a_hall_opens_on_its_days_and_hours_and_works_make_up_days():
    weekday = hall()
    assert is_open(weekday, datetime(2026, 11, 27, 2, 0, tzinfo=UTC))  # Fri 10:00 Jilin
    assert not is_open(weekday, datetime(2026, 11, 27, 9, 30, tzinfo=UTC))  # Fri 17:30
    assert not opens_on(weekday, date(2026, 11, 28))  # Saturday
    assert not opens_on(weekday, date(2025, 10, 1))  # National Day
    assert opens_on(weekday, date(2025, 9, 28))  # Sunday, a make-up working day
    assert opens_on(hall(open_on_holidays=True), date(2025, 10, 1))


def test_labels_estimates_and_timer_states():
    assert ticket_label("A", 12) == "A012" and ticket_label("B", 1234) == "B1234"
    assert estimate_wait_minutes(0, 20, 2) == 0
    assert estimate_wait_minutes(5, 4.0, 2) == 10
    assert estimate_wait_minutes(3, 5, 0) == 15  # no counter known: counted as one
    assert timer_state(15 * 60, 20) == "ok"
    assert timer_state(17 * 60, 20) == "warning"
    assert timer_state(21 * 60, 20) == "over"
    assert timer_state(99 * 60, None) == "none"


def day_frame() -> pd.DataFrame:
    return pd.DataFrame([
        # hall, tickets, waiting, at_counter, done, no_show, called, wait_sum, wait_max,
        # timed, service_sum, judged, within
        (1, 10, 2, 1, 7, 0, 8, 8 * 300, 900, 7, 7 * 600, 6, 5),
        (2, 4, 0, 0, 4, 0, 4, 4 * 60, 120, 4, 4 * 240, 4, 4),
    ], columns=stats.DAY_COLUMNS)


def halls_meta() -> pd.DataFrame:
    return pd.DataFrame([(1, "H1", "Hall one", "A"), (2, "H2", "Hall two", "C"),
                         (3, "H3", "Hall three", "C")], columns=["hall_id", "code", "name", "level"])


def test_the_longest_wait_counts_a_customer_still_waiting():
    now = datetime(2026, 11, 27, 3, 0, tzinfo=UTC)
    rows = stats.hall_rows(day_frame(), halls_meta(), {1: now - timedelta(minutes=25)}, now)
    one = rows.set_index("code").loc["H1"]
    assert (one["waiting"], one["avg_wait_min"], one["longest_wait_min"]) == (2, 5.0, 25.0)
    assert one["within_share"] == round(5 / 6, 3)
    three = rows.set_index("code").loc["H3"]  # no tickets: a row of zeros, not a gap
    assert three["tickets"] == 0 and pd.isna(three["avg_wait_min"])


def test_levels_are_weighted_by_tickets_not_averaged_per_hall():
    now = datetime(2026, 11, 27, 3, 0, tzinfo=UTC)
    levels = stats.level_rows(day_frame(), halls_meta(), {}, now).set_index("level")
    assert levels.loc["C", "halls"] == 2 and levels.loc["C", "avg_service_min"] == 4.0
    assert levels.loc["A", "longest_wait_min"] == 15.0


def test_weeks_start_on_monday_and_sum_by_level():
    daily = pd.DataFrame({"day": [date(2026, 11, 23), date(2026, 11, 29), date(2026, 11, 30),
                                  date(2026, 11, 24)],
                          "level": ["A", "A", "A", "B"], "tickets": [10, 5, 7, 3]})
    weekly = stats.weekly(daily)
    assert weekly.to_dict("records") == [
        {"week": date(2026, 11, 23), "level": "A", "tickets": 15},
        {"week": date(2026, 11, 23), "level": "B", "tickets": 3},
        {"week": date(2026, 11, 30), "level": "A", "tickets": 7}]


def test_figures_explain_an_empty_frame_and_mark_the_peak_hour():
    empty = hall_charts.peak_hours_figure(pd.DataFrame(columns=["hour", "tickets"]))
    assert not empty["data"] and "No tickets" in empty["layout"]["annotations"][0]["text"]
    fig = hall_charts.peak_hours_figure(pd.DataFrame({"hour": [9, 10, 14], "tickets": [5, 12, 8]}))
    bars = fig["data"][0]
    assert bars["x"][0] == "08:00" and bars["y"][bars["x"].index("10:00")] == 12
    assert bars["marker"]["color"][bars["x"].index("10:00")] == hall_charts.BAD


def test_the_service_figure_draws_the_standard_beside_each_business():
    frame = stats.business_rows(pd.DataFrame(
        [("payment", 5, 10, 10 * 240, 10, 9), ("enquiry", None, 4, 4 * 300, 0, 0)],
        columns=["business", "standard_minutes", "done", "service_sum", "judged", "within"]))
    fig = hall_charts.service_figure(frame)
    bars, standard = fig["data"]
    assert bars["y"] == [4.0, 5.0] and standard["y"] == [5.0, None]
    assert bars["marker"]["color"][0] == hall_charts.OK and bars["text"][1] == "no standard"
    assert hall_charts.seasons_figure(stats.weekly(pd.DataFrame(
        columns=["day", "level", "tickets"])))["layout"]["annotations"]


def test_page_roles_follow_the_responsibility_matrix():
    matrix = load_matrix()
    assert {r.value for r in counter.ROLES} == set(matrix.action("serve_counter").roles)
    assert {r.value for r in hall_dashboard.ROLES} == set(matrix.action("view_hall_dashboard").roles)


def test_the_counter_card_turns_red_past_the_standard():
    now = datetime(2026, 11, 27, 3, 0, tzinfo=UTC)
    ticket = {"label": "A007", "business": "Resident", "status": "serving", "recalls": 0,
              "called_at": now - timedelta(minutes=25), "started_at": now - timedelta(minutes=22),
              "standard": 20}
    card = str(counter.current_card(ticket, now))
    assert "A007" in card and "text-danger" in card and "22:00" in card


def test_the_demo_knows_every_hall_level():
    """A self-service (D) hall made the demo's ticket history fail (KeyError)."""
    from station_portal.hall.demo import BASE_TICKETS
    from station_portal.hall.models import HallLevel

    assert set(BASE_TICKETS) == set(HallLevel)
