"""Crew suggestions for one repair order: every crew, ranked, with the reasons.

Ranking: crews that may take the order (on duty, all required skills, serving
its territory) come first; among them, the smaller urgency-weighted lateness
against the arrival deadline, then the earlier arrival (ETA = minutes until
the crew is free + travel), then the lighter load, then the crew id. Crews that
may not take the order are still listed after them (a dispatcher may
override): first those missing skills or the territory, off-duty crews last.

Reasons are machine-readable ``(code, numbers)`` pairs, minutes rounded to the
whole minute; the page translates them. This module imports no Flask, Dash or database code.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from station_portal.dispatch.model import CrewState, OrderState, in_territory, missing_skills
from station_portal.dispatch.travel import DispatchSettings

# The score adds a penalty per blocking issue, so that any crew that may take the
# order scores better than any crew that may not; off duty weighs most.
ISSUE_PENALTY = 100_000.0
OFF_DUTY_ISSUES = 3  # more than missing skills and territory together
ETA_SCORE_WEIGHT = 0.001  # the ETA only separates crews that are equally (not) late


@dataclass(frozen=True)
class Suggestion:
    crew_id: int
    code: str
    eta_min: float  # free_in + travel
    travel_min: float
    slack_min: float  # due_in - eta (negative = would be late)
    skills_ok: bool
    missing_skills: frozenset[str]
    in_territory: bool
    on_duty: bool
    load: int
    score: float  # lower is better
    reasons: tuple[tuple[str, dict], ...]


def blocking_issues(on_duty: bool, skills_ok: bool, territory_ok: bool) -> int:
    """0 for a crew that may take the order; more for worse obstacles."""
    return (0 if on_duty else OFF_DUTY_ISSUES) + (0 if skills_ok else 1) + (0 if territory_ok else 1)


def reasons_for(*, eta: float, free_in: float, slack: float, missing: frozenset[str], load: int,
                on_duty: bool, territory_ok: bool) -> tuple[tuple[str, dict], ...]:
    out: list[tuple[str, dict]] = []
    if not on_duty:
        out.append(("off_duty", {}))
    if not territory_ok:
        out.append(("outside_territory", {}))
    out.append(("missing_skills", {"skills": sorted(missing)}) if missing else ("skills_ok", {}))
    out.append(("eta", {"minutes": round(eta)}))
    if free_in > 0:
        out.append(("busy", {"minutes": round(free_in)}))
    if slack < 0:
        out.append(("late_by", {"minutes": max(1, round(-slack))}))  # late is never "0 minutes"
    else:
        out.append(("slack", {"minutes": round(slack)}))
    out.append(("load", {"orders": load}))
    return tuple(out)


def rank_crews(order: OrderState, crews: Sequence[CrewState], settings: DispatchSettings) -> list[Suggestion]:
    """Every crew as a suggestion for ``order``, best first."""
    if not crews:
        return []
    travel = settings.travel.minutes_matrix([c.lat for c in crews], [c.lon for c in crews],
                                            [order.lat], [order.lon], [order.area_type])[:, 0]
    weight = settings.weight(order.urgency)
    keyed = []
    for crew, minutes in zip(crews, travel.tolist(), strict=True):
        eta = crew.free_in_min + minutes
        slack = order.due_in_min - eta
        missing = missing_skills(order, crew)
        territory_ok = in_territory(order, crew)
        issues = blocking_issues(crew.on_duty, not missing, territory_ok)
        weighted_late = weight * max(0.0, -slack)
        score = ISSUE_PENALTY * issues + weighted_late + ETA_SCORE_WEIGHT * eta
        suggestion = Suggestion(
            crew_id=crew.crew_id, code=crew.code, eta_min=eta, travel_min=minutes, slack_min=slack,
            skills_ok=not missing, missing_skills=missing, in_territory=territory_ok,
            on_duty=crew.on_duty, load=crew.load, score=score,
            reasons=reasons_for(eta=eta, free_in=crew.free_in_min, slack=slack, missing=missing,
                                load=crew.load, on_duty=crew.on_duty, territory_ok=territory_ok))
        keyed.append(((issues, weighted_late, eta, crew.load, crew.crew_id), suggestion))
    keyed.sort(key=lambda pair: pair[0])
    return [s for _key, s in keyed]
