"""Crew dispatch: travel estimates, ranked suggestions, and the "dispatch all" optimiser.

Most cases use a travel model of 60 km/h with no detour, so that one km is one
minute and the answers can be checked by hand; points lie on one meridian so
that the distances are exact.
"""

from __future__ import annotations

import math
from dataclasses import replace

import numpy as np
import pytest

from station_portal.dispatch import (
    CrewState,
    DispatchSettings,
    OrderState,
    TravelModel,
    eligible,
    evaluate,
    greedy_nearest,
    haversine_km,
    optimise,
    rank_crews,
    repair_order,
)
from station_portal.dispatch.travel import LIVE, REPAIR_CATEGORIES, SKILLS, STALE, UNKNOWN, parse_settings

LAT0, LON0 = 43.80, 126.50
KM_PER_DEG = math.pi / 180 * 6371.0088  # along a meridian
LV = frozenset({"lv_line"})


@pytest.fixture(scope="module")
def shipped() -> DispatchSettings:
    return DispatchSettings.load()


@pytest.fixture(scope="module")
def km_minute(shipped) -> DispatchSettings:
    """One km of straight line is one minute of driving, in every area."""
    return replace(shipped, travel=TravelModel(1.0, {"urban": 60.0, "rural": 60.0, "remote": 60.0}))


def north(km: float) -> float:
    return LAT0 + km / KM_PER_DEG


def crew(crew_id: int, km: float = 0.0, *, skills=LV, **kw) -> CrewState:
    return CrewState(crew_id, f"C{crew_id}", north(km), LON0, frozenset(skills), **kw)


def order(order_id: int, km: float = 0.0, *, due: float = 45.0, urgency: int = 2, skills=LV,
          unit: int = 1, job: float = 60.0, area: str = "urban") -> OrderState:
    return OrderState(order_id, f"R{order_id}", north(km), LON0, area, unit, urgency, due,
                      frozenset(skills), job)


def reason(suggestion, code: str) -> dict | None:
    return next((numbers for c, numbers in suggestion.reasons if c == code), None)


# --- travel and settings ---------------------------------------------------------------------------


def test_haversine_between_jilin_and_changchun():
    km = haversine_km(43.8378, 126.5494, 43.8171, 125.3235)
    assert 98 < km < 99


def test_haversine_works_on_arrays_like_on_floats():
    lats = np.array([43.8171, 43.9, LAT0])
    lons = np.array([125.3235, 126.6, LON0])
    many = haversine_km(43.8378, 126.5494, lats, lons)
    assert many.shape == (3,)
    for k in range(3):
        assert many[k] == pytest.approx(haversine_km(43.8378, 126.5494, float(lats[k]), float(lons[k])))
    assert haversine_km(LAT0, LON0, north(10), LON0) == pytest.approx(10.0)


def test_travel_minutes_are_road_km_over_speed(shipped):
    km = haversine_km(43.8378, 126.5494, 43.8171, 125.3235)
    minutes = shipped.travel.minutes(43.8378, 126.5494, 43.8171, 125.3235, "rural")
    assert shipped.travel.detour == 1.35
    assert minutes == pytest.approx(km * 1.35 / 45.0 * 60)
    assert shipped.travel.minutes(43.8378, 126.5494, 43.8171, 125.3235, "urban") == pytest.approx(
        km * 1.35 / 25.0 * 60)


def test_the_matrix_uses_the_speed_of_each_destination(shipped):
    travel = shipped.travel
    to_lats, to_lons, areas = [north(5), north(10)], [LON0, LON0], ["urban", "remote"]
    matrix = travel.minutes_matrix([LAT0, north(2)], [LON0, LON0], to_lats, to_lons, areas)
    assert matrix.shape == (2, 2)
    for r, lat in enumerate([LAT0, north(2)]):
        for c in range(2):
            assert matrix[r, c] == pytest.approx(travel.minutes(lat, LON0, to_lats[c], to_lons[c], areas[c]))
    assert matrix[0, 1] == pytest.approx(10 * 1.35 / 35 * 60)
    with pytest.raises(ValueError, match="area type"):
        travel.minutes(LAT0, LON0, north(1), LON0, "suburban")


def test_the_shipped_settings_cover_every_category_and_urgency(shipped):
    assert set(shipped.job_min) == set(REPAIR_CATEGORIES)
    assert shipped.required_skills("high_voltage") == {"hv_line"}
    assert shipped.required_skills("non_power") == frozenset()
    assert shipped.urgency_weight == {1: 3.0, 2: 1.0, 3: 0.5}
    assert shipped.travel.speed_kmh == {"urban": 25.0, "rural": 45.0, "remote": 35.0}
    assert shipped.capacity_jobs >= 1


def test_a_ping_is_live_then_stale_then_no_longer_a_position(shipped):
    rules = shipped.position
    assert rules.provenance(None) == UNKNOWN  # never reported: at the office
    assert rules.provenance(0) == LIVE
    assert rules.provenance(rules.live_min) == LIVE
    assert rules.provenance(rules.live_min + 1) == STALE
    assert rules.provenance(rules.usable_min) == STALE
    assert rules.provenance(rules.usable_min + 1) == UNKNOWN
    assert rules.penalty(LIVE) == 0 < rules.penalty(STALE) <= rules.penalty(UNKNOWN)


def test_the_codes_match_the_database_enums():
    from station_portal.org.models import Skill
    from station_portal.workorders.models import RepairCategory

    assert {s.value for s in Skill} == SKILLS
    assert {c.value for c in RepairCategory} == set(REPAIR_CATEGORIES)


def _raw() -> dict:
    return {
        "travel": {"detour": 1.35, "speed_kmh": {"urban": 25, "rural": 45, "remote": 35}},
        "job_minutes": dict.fromkeys(REPAIR_CATEGORIES, 60),
        "skills": {category: [] for category in REPAIR_CATEGORIES},
        "urgency_weight": {"1": 3.0, "2": 1.0, "3": 0.5},
        "position": {"live_min": 15, "usable_min": 120, "stale_penalty_min": 15,
                     "unknown_penalty_min": 30},
        "capacity": {"open_jobs": 3},
    }


@pytest.mark.parametrize(("change", "named"), [
    (lambda r: r["travel"]["speed_kmh"].pop("remote"), "travel.speed_kmh"),
    (lambda r: r["travel"].update(detour=0.8), "travel.detour"),
    (lambda r: r["travel"].update(detour="far"), "travel.detour"),
    (lambda r: r["job_minutes"].update(metering=-5), "job_minutes.metering"),
    (lambda r: r["job_minutes"].update(gas_leak=30), "job_minutes"),
    (lambda r: r["skills"].update(metering=["meter_reading"]), "skills.metering"),
    (lambda r: r["urgency_weight"].update({"1": 0}), "urgency_weight.1"),
    (lambda r: r.pop("urgency_weight"), "urgency_weight"),
    (lambda r: r.pop("position"), "position"),
    (lambda r: r["position"].update(usable_min=10), "position.usable_min"),
    (lambda r: r["position"].update(stale_penalty_min=-1), "position.stale_penalty_min"),
    (lambda r: r["position"].update(unknown_penalty_min=5), "position.unknown_penalty_min"),
    (lambda r: r["capacity"].update(open_jobs=2.5), "capacity.open_jobs"),
    (lambda r: r["capacity"].update(open_jobs=0), "capacity.open_jobs"),
])
def test_a_bad_settings_file_names_the_key(change, named):
    raw = _raw()
    parse_settings(raw)  # the unchanged document is fine
    change(raw)
    with pytest.raises(ValueError, match=named.replace(".", r"\.")):
        parse_settings(raw)


def test_a_broken_file_is_reported_with_its_path(tmp_path):
    path = tmp_path / "dispatch.toml"
    path.write_text("[travel\n", encoding="utf-8")
    with pytest.raises(ValueError, match=r"dispatch\.toml"):
        DispatchSettings.load(path)


def test_a_repair_order_takes_skills_and_time_from_its_category(shipped):
    o = repair_order(order_id=1, code="R1", lat=LAT0, lon=LON0, area_type="rural", unit_id=3, urgency=1,
                     due_in_min=90, category="high_voltage", settings=shipped)
    assert o.required_skills == {"hv_line"}
    assert o.job_min == 120.0
    with pytest.raises(ValueError, match="urgency"):
        replace(o, urgency=4)


# --- suggestions -----------------------------------------------------------------------------------


def test_the_nearest_free_crew_with_the_skills_ranks_first(km_minute):
    ranked = rank_crews(order(1, due=45), [crew(1, 5), crew(2, 2), crew(3, 8)], km_minute)
    assert [s.crew_id for s in ranked] == [2, 1, 3]
    first = ranked[0]
    assert first.eta_min == pytest.approx(2.0)
    assert first.slack_min == pytest.approx(43.0)
    assert reason(first, "eta") == {"minutes": 2}
    assert reason(first, "slack") == {"minutes": 43}
    assert reason(first, "skills_ok") == {}
    assert reason(first, "load") == {"orders": 0}
    assert [s.score for s in ranked] == sorted(s.score for s in ranked)


def test_a_crew_missing_the_skill_ranks_after_one_that_has_it_even_if_nearer(km_minute):
    ranked = rank_crews(order(1), [crew(1, 1, skills={"metering"}), crew(2, 6)], km_minute)
    assert [s.crew_id for s in ranked] == [2, 1]
    lacking = ranked[1]
    assert not lacking.skills_ok
    assert lacking.missing_skills == {"lv_line"}
    assert reason(lacking, "missing_skills") == {"skills": ["lv_line"]}


def test_a_busy_crew_ranks_after_a_free_one_farther_away_when_the_order_is_due_soon(km_minute):
    ranked = rank_crews(order(1, due=30), [crew(1, 1, free_in_min=90), crew(2, 15)], km_minute)
    assert [s.crew_id for s in ranked] == [2, 1]
    busy = ranked[1]
    assert busy.eta_min == pytest.approx(91.0)
    assert busy.slack_min == pytest.approx(-61.0)
    assert reason(busy, "late_by") == {"minutes": 61}
    assert reason(busy, "busy") == {"minutes": 90}
    assert reason(ranked[0], "slack") == {"minutes": 15}


def test_when_everybody_is_late_the_least_late_wins_whatever_its_load(km_minute):
    ranked = rank_crews(order(1, due=0, urgency=1), [crew(2, 10, load=0), crew(1, 3, load=5)], km_minute)
    assert [s.crew_id for s in ranked] == [1, 2]
    assert ranked[0].score == pytest.approx(3.0 * 3 + 0.001 * 3)  # urgent: 3 × 3 minutes late
    assert reason(ranked[0], "late_by") == {"minutes": 3}


def test_off_duty_crews_come_last_and_other_blocked_crews_before_them(km_minute):
    crews = [
        crew(1, 1, on_duty=False),
        crew(2, 2, skills={"metering"}),
        crew(3, 3, territory_unit_ids=frozenset({9})),
        crew(4, 20),
    ]
    ranked = rank_crews(order(1, unit=1), crews, km_minute)
    assert [s.crew_id for s in ranked] == [4, 2, 3, 1]
    assert reason(ranked[-1], "off_duty") == {}
    assert not ranked[-1].on_duty
    assert reason(ranked[2], "outside_territory") == {}
    assert not ranked[2].in_territory
    assert reason(ranked[0], "off_duty") is None


def test_load_then_crew_id_break_ties(km_minute):
    crews = [crew(3, 4, load=1), crew(2, 4, load=2), crew(1, 4, load=1)]
    assert [s.crew_id for s in rank_crews(order(1), crews, km_minute)] == [1, 3, 2]


def test_a_crew_that_never_reported_ranks_after_a_live_one_and_gets_no_eta(km_minute):
    # The office is 2 km away, the live crew 12 km: "arrives in 2 minutes" would be a guess.
    office = crew(1, 2, position=UNKNOWN)
    live = crew(2, 12)
    ranked = rank_crews(order(1, due=45), [office, live], km_minute)
    assert [s.crew_id for s in ranked] == [2, 1]
    unknown = ranked[1]
    assert unknown.position == UNKNOWN
    assert reason(unknown, "position_unknown") == {}
    assert reason(unknown, "eta") is None and reason(unknown, "slack") is None
    assert reason(unknown, "eta_guess") == {"minutes": 2, "from": "office"}
    assert reason(ranked[0], "eta") == {"minutes": 12}
    # Why the live crew is above, though the office is nearer: its position is known.
    assert ranked[0].above_next == (("position_live", {}),)
    assert ranked[1].above_next == ()


def test_an_old_ping_is_stale_not_fresh_and_says_when_it_was_seen(km_minute):
    stale = crew(1, 1, position=STALE, seen_min_ago=125.0)
    live = crew(2, 10)
    ranked = rank_crews(order(1, due=45), [stale, live], km_minute)
    assert [s.crew_id for s in ranked] == [2, 1]  # 1 + 15 minutes of doubt > 10
    seen = ranked[1]
    assert reason(seen, "last_seen") == {"minutes": 125}
    assert reason(seen, "eta_guess") == {"minutes": 1, "from": "last_seen"}
    assert reason(seen, "eta") is None
    assert seen.ranked_eta_min == 16


def test_a_much_nearer_unknown_crew_still_ranks_first_and_says_why(km_minute):
    ranked = rank_crews(order(1, due=90), [crew(1, 40), crew(2, 1, position=UNKNOWN)], km_minute)
    assert [s.crew_id for s in ranked] == [2, 1]  # 1 + 30 < 40
    assert ranked[0].above_next == (("nearer_anyway", {"minutes": 9}),)


def test_a_stale_crew_ranks_above_an_unknown_one_at_the_same_distance(km_minute):
    ranked = rank_crews(order(1), [crew(1, 3, position=UNKNOWN), crew(2, 3, position=STALE,
                                                                         seen_min_ago=30.0)], km_minute)
    assert [s.crew_id for s in ranked] == [2, 1]
    assert ranked[0].above_next == (("position_newer", {}),)


def test_each_suggestion_says_why_it_is_above_the_next(km_minute):
    crews = [crew(1, 4, load=2), crew(2, 4, load=1), crew(3, 4, load=1), crew(4, 9),
             crew(5, 60), crew(6, 1, skills={"metering"})]
    ranked = rank_crews(order(1, due=45), crews, km_minute)
    assert [s.crew_id for s in ranked] == [2, 3, 1, 4, 5, 6]
    why = {s.crew_id: s.above_next for s in ranked}
    assert why[2] == (("same_eta", {}), ("same_load", {}), ("crew_number", {}))
    assert why[3] == (("same_eta", {}), ("fewer_jobs", {}))
    assert why[1] == (("sooner", {"minutes": 5}),)
    assert why[4] == (("on_time", {}),)  # 9 minutes against 60: the next would be late
    assert why[5] == (("may_take", {}),)
    assert why[6] == ()


def test_whole_minutes_decide_so_a_visible_tie_goes_to_the_lighter_load(km_minute):
    # 4.2 and 4.4 km both read "arrives in 4 min": the crew with fewer jobs goes first.
    ranked = rank_crews(order(1), [crew(1, 4.2, load=2), crew(2, 4.4, load=0)], km_minute)
    assert [s.crew_id for s in ranked] == [2, 1]
    assert ranked[0].above_next == (("same_eta", {}), ("fewer_jobs", {}))


def test_no_crews_no_suggestions(km_minute):
    assert rank_crews(order(1), [], km_minute) == []


# --- the simulator -----------------------------------------------------------------------------------


def test_evaluate_chains_arrivals_through_each_job(km_minute):
    orders = [order(1, 5, due=20, job=30, urgency=1), order(2, 12, due=40, job=60, urgency=1)]
    crews = [crew(7, 0, free_in_min=10)]
    plan = evaluate({7: [1, 2]}, orders, crews, km_minute)
    first, second = plan.assignments
    # free at 10, 5 km → arrives at 15, on site 30 → leaves 45, 7 km → arrives 52, 12 late
    assert (first.order_id, first.sequence, first.eta_min, first.lateness_min) == (1, 1, pytest.approx(15), 0)
    assert (second.order_id, second.sequence) == (2, 2)
    assert second.eta_min == pytest.approx(52)
    assert second.lateness_min == pytest.approx(12)
    assert plan.weighted_lateness == pytest.approx(3.0 * 12)
    assert plan.travel_min == pytest.approx(12)
    assert plan.unassigned == ()

    reverse = evaluate({7: [2, 1]}, orders, crews, km_minute)
    # arrives at 2 at 22 (on time), leaves 82, 7 km back → 89 at order 1, 69 late
    assert reverse.weighted_lateness == pytest.approx(3.0 * 69)
    assert reverse.routes() == {7: [2, 1]}


def test_evaluate_reports_unrouted_orders_and_refuses_bad_routes(km_minute):
    orders, crews = [order(1, 1), order(2, 2)], [crew(1), crew(2)]
    assert evaluate({1: [2]}, orders, crews, km_minute).unassigned == (1,)
    with pytest.raises(ValueError, match="two routes"):
        evaluate({1: [1], 2: [1]}, orders, crews, km_minute)
    with pytest.raises(ValueError, match="unknown crew"):
        evaluate({5: [1]}, orders, crews, km_minute)


# --- dispatch all ------------------------------------------------------------------------------------


def test_the_optimiser_beats_the_nearest_crew_habit(km_minute):
    # A at 0 km, B at 10 km; order 1 at 4 km due in 5, order 2 at -10 km due in 12; 30 min on site.
    crews = [crew(1, 0), crew(2, 10)]
    orders = [order(1, 4, due=5, job=30), order(2, -10, due=12, job=30)]
    greedy = greedy_nearest(orders, crews, km_minute)
    # greedy: order 1 (earliest) → A (4 km, on time); order 2 → A again (14 km from order 1 against
    # 20 from B): A leaves order 1 at 34 and arrives at 48, 36 late
    assert greedy.routes() == {1: [1, 2]}
    assert greedy.weighted_lateness == pytest.approx(36)
    best = optimise(orders, crews, km_minute)
    # optimum: B → order 1 (6 km, 1 late), A → order 2 (10 km, on time)
    assert best.routes() == {1: [2], 2: [1]}
    assert best.weighted_lateness == pytest.approx(1.0)
    assert best.travel_min == pytest.approx(16.0)
    assert best.weighted_lateness < greedy.weighted_lateness


def test_skills_and_territory_are_respected_and_impossible_orders_are_unassigned(km_minute):
    crews = [
        crew(1, 0, skills={"lv_line"}, territory_unit_ids=frozenset({1})),
        crew(2, 1, skills={"metering"}),
        crew(3, 2, skills={"hv_line"}, territory_unit_ids=frozenset({2})),
        crew(4, 0, skills={"lv_line", "hv_line", "metering"}, on_duty=False),
    ]
    orders = [
        order(10, 1, unit=1),  # lv in unit 1 → crew 1
        order(11, 1, unit=2),  # lv in unit 2: crew 1 does not serve it, crew 4 is off duty
        order(12, 2, unit=2, skills={"metering"}),  # → crew 2 (anywhere)
        order(13, 3, unit=2, skills={"hv_line"}),  # → crew 3
        order(14, 3, unit=1, skills={"hv_line"}),  # hv in unit 1: nobody
        order(15, 3, unit=1, skills={"hv_line", "metering"}),  # nobody holds both on duty
    ]
    by_id = {c.crew_id: c for c in crews}
    orders_by_id = {o.order_id: o for o in orders}
    for plan in (optimise(orders, crews, km_minute), greedy_nearest(orders, crews, km_minute)):
        assert plan.unassigned == (11, 14, 15)
        assert {a.order_id: a.crew_id for a in plan.assignments} == {10: 1, 12: 2, 13: 3}
        assert all(eligible(orders_by_id[a.order_id], by_id[a.crew_id]) for a in plan.assignments)


def _random_instance(seed: int, n_orders: int, n_crews: int, settings: DispatchSettings):
    rng = np.random.default_rng(seed)
    crews = []
    for k in range(n_crews):
        skills = {"lv_line"} | ({"metering"} if rng.random() < 0.5 else set())
        skills |= {"hv_line"} if rng.random() < 0.3 else set()
        territory = frozenset({int(rng.integers(1, 3))}) if k % 3 else frozenset()
        crews.append(CrewState(k + 1, f"C{k + 1}", float(rng.uniform(43.7, 44.0)),
                               float(rng.uniform(126.3, 126.8)), frozenset(skills),
                               on_duty=bool(rng.random() < 0.9),
                               free_in_min=float(rng.choice([0, 0, 30, 80])), territory_unit_ids=territory))
    orders = []
    for k in range(n_orders):
        area = str(rng.choice(["urban", "rural", "remote"]))
        orders.append(repair_order(
            order_id=100 + k, code=f"R{k}", lat=float(rng.uniform(43.7, 44.0)),
            lon=float(rng.uniform(126.3, 126.8)), area_type=area, unit_id=int(rng.integers(1, 3)),
            urgency=int(rng.integers(1, 4)), due_in_min=float(rng.uniform(-30, 120)),
            category=str(rng.choice(["low_voltage", "metering", "high_voltage", "non_power"])),
            settings=settings))
    return orders, crews


def test_the_same_input_gives_the_same_plan(shipped):
    orders, crews = _random_instance(3, 40, 8, shipped)
    first = optimise(orders, crews, shipped)
    second = optimise(list(orders), list(crews), shipped)
    assert first.assignments == second.assignments
    assert first.weighted_lateness == second.weighted_lateness
    greedy = greedy_nearest(orders, crews, shipped)
    assert greedy.assignments == greedy_nearest(orders, crews, shipped).assignments


def test_every_order_that_someone_may_take_is_assigned_once(shipped):
    orders, crews = _random_instance(5, 60, 10, shipped)
    by_id = {c.crew_id: c for c in crews}
    takeable = {o.order_id for o in orders if any(eligible(o, c) for c in crews)}
    for plan in (optimise(orders, crews, shipped), optimise(orders, crews, shipped, slots_per_crew=1),
                 greedy_nearest(orders, crews, shipped)):
        assigned = [a.order_id for a in plan.assignments]
        assert len(assigned) == len(set(assigned))
        assert set(assigned) == takeable
        assert set(plan.unassigned) == {o.order_id for o in orders} - takeable
        orders_by_id = {o.order_id: o for o in orders}
        assert all(eligible(orders_by_id[a.order_id], by_id[a.crew_id]) for a in plan.assignments)
        # the plan's figures are the simulator's
        again = evaluate(plan.routes(), orders, crews, shipped)
        assert again.weighted_lateness == pytest.approx(plan.weighted_lateness)
        assert again.assignments == plan.assignments


def test_the_optimiser_does_better_than_greedy_on_a_random_instance(shipped):
    orders, crews = _random_instance(7, 80, 12, shipped)
    greedy = greedy_nearest(orders, crews, shipped)
    best = optimise(orders, crews, shipped)
    assert best.weighted_lateness + best.travel_min < greedy.weighted_lateness + greedy.travel_min


def test_a_storm_with_long_queues_still_places_every_order_and_stays_deterministic(shipped):
    # 300 faults for 9 crews: the local search runs out of its step budget, the plan stays whole.
    orders, crews = _random_instance(11, 300, 9, shipped)
    crews = [replace(c, on_duty=True, territory_unit_ids=frozenset()) for c in crews]
    takeable = {o.order_id for o in orders if any(eligible(o, c) for c in crews)}
    plan = optimise(orders, crews, shipped)
    assigned = [a.order_id for a in plan.assignments]
    assert len(assigned) == len(set(assigned)) and set(assigned) == takeable
    assert plan.assignments == optimise(orders, crews, shipped).assignments
    greedy = greedy_nearest(orders, crews, shipped)
    assert plan.weighted_lateness + plan.travel_min < greedy.weighted_lateness + greedy.travel_min


def test_empty_inputs(km_minute):
    assert optimise([], [crew(1)], km_minute).assignments == ()
    plan = optimise([order(1)], [], km_minute)
    assert plan.unassigned == (1,)
    assert greedy_nearest([order(1)], [], km_minute).unassigned == (1,)
    single = optimise([order(1, 3)], [crew(1)], km_minute)
    assert single.routes() == {1: [1]}
