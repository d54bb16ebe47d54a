"""Crew suggestions for one repair order: every crew, ranked, with the reasons.

Ranking: crews that may take the order (on duty, all required skills, serving
its territory) come first; among them, the earlier *ranked* arrival, then the
lighter load, then the crew id. Crews that may not take the order are still
listed after them (a dispatcher may override): first those missing skills or
the territory, off-duty crews last.

The ranked arrival is the ETA (minutes until the crew is free + travel) plus a
penalty for an uncertain position (``[position]`` in ``data/dispatch.toml``):
none for a live ping, ``stale_penalty_min`` for an old one, ``unknown_penalty_min``
for a crew placed at its office because it never reported (or not for hours).
It is counted in whole minutes, so that two crews the page shows with the same
ETA are tied and the lighter load visibly decides. For one order the lateness
against its deadline grows with the ETA, so the earlier arrival is also the
less late one.

Every suggestion says why it ranks above the next one (``above_next``: "same
ETA; fewer open jobs"). A crew whose position is not live gets no precise ETA
in its reasons: where it was last seen, or that its position is unknown, and
the travel estimate from there or from its office as a guess.

Reasons are machine-readable ``(code, numbers)`` pairs, minutes rounded to the
whole minute; the page translates them. This module imports no Flask, Dash or database code.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace

from station_portal.dispatch.model import CrewState, OrderState, in_territory, missing_skills
from station_portal.dispatch.travel import LIVE, STALE, UNKNOWN, DispatchSettings

# The score adds a penalty per blocking issue, so that any crew that may take the
# order scores better than any crew that may not; off duty weighs most.
ISSUE_PENALTY = 100_000.0
OFF_DUTY_ISSUES = 3  # more than missing skills and territory together
ETA_SCORE_WEIGHT = 0.001  # the ETA only separates crews that are equally (not) late
POSITION_RANK = {LIVE: 0, STALE: 1, UNKNOWN: 2}  # the more certain position first

Reasons = tuple[tuple[str, dict], ...]


@dataclass(frozen=True)
class Suggestion:
    crew_id: int
    code: str
    eta_min: float  # free_in + travel (from a stale ping or the office: a guess)
    travel_min: float
    slack_min: float  # due_in - eta (negative = would be late)
    skills_ok: bool
    missing_skills: frozenset[str]
    in_territory: bool
    on_duty: bool
    load: int
    score: float  # lower is better
    reasons: Reasons
    position: str = LIVE  # LIVE, STALE or UNKNOWN: how far eta_min can be trusted
    seen_min_ago: float | None = None  # age of the crew's last ping (None: never reported)
    ranked_eta_min: int = 0  # whole minutes the ranking uses: eta + the position's penalty
    above_next: Reasons = ()  # why it ranks above the next suggestion (empty for the last one)

    @property
    def may_take(self) -> bool:
        return self.on_duty and self.skills_ok and self.in_territory


def blocking_issues(on_duty: bool, skills_ok: bool, territory_ok: bool) -> int:
    """0 for a crew that may take the order; more for worse obstacles."""
    return (0 if on_duty else OFF_DUTY_ISSUES) + (0 if skills_ok else 1) + (0 if territory_ok else 1)


def position_reasons(position: str, seen_min_ago: float | None, eta: float) -> Reasons:
    """Where the crew is, as far as the board knows, instead of a precise ETA when not live."""
    if position == LIVE:
        return (("eta", {"minutes": round(eta)}),)
    seen = (("last_seen", {"minutes": round(seen_min_ago)}),) if seen_min_ago is not None else ()
    if position == STALE:
        return (*seen, ("eta_guess", {"minutes": round(eta), "from": "last_seen"}))
    return (("position_unknown", {}), *seen, ("eta_guess", {"minutes": round(eta), "from": "office"}))


def reasons_for(*, eta: float, free_in: float, slack: float, missing: frozenset[str], load: int,
                on_duty: bool, territory_ok: bool, position: str = LIVE,
                seen_min_ago: float | None = None) -> Reasons:
    out: list[tuple[str, dict]] = []
    if not on_duty:
        out.append(("off_duty", {}))
    if not territory_ok:
        out.append(("outside_territory", {}))
    out.append(("missing_skills", {"skills": sorted(missing)}) if missing else ("skills_ok", {}))
    out.extend(position_reasons(position, seen_min_ago, eta))
    if free_in > 0:
        out.append(("busy", {"minutes": round(free_in)}))
    if position == LIVE:  # the time to spare of a guessed ETA would be a guess too
        if slack < 0:
            out.append(("late_by", {"minutes": max(1, round(-slack))}))  # late is never "0 minutes"
        else:
            out.append(("slack", {"minutes": round(slack)}))
    out.append(("load", {"orders": load}))
    return tuple(out)


@dataclass(frozen=True)
class _Ranked:
    issues: int
    ranked_eta: int
    late: int  # whole minutes past the deadline at the ranked ETA
    load: int
    crew_id: int
    eta: float
    position: str

    @property
    def key(self) -> tuple[int, int, int, int]:
        return self.issues, self.ranked_eta, self.load, self.crew_id


def why_above(a: _Ranked, b: _Ranked) -> Reasons:
    """Why ``a`` ranks above ``b``, the first difference of the ranking key in words."""
    if a.issues != b.issues:
        return (("may_take", {}) if a.issues == 0 else ("fewer_obstacles", {}),)
    if a.ranked_eta != b.ranked_eta:
        out: list[tuple[str, dict]] = []
        gain = round(b.eta) - round(a.eta)
        if a.late == 0 < b.late:
            out.append(("on_time", {}))
        elif gain > 0:
            out.append(("sooner", {"minutes": gain}) if a.position == LIVE
                       else ("nearer_anyway", {"minutes": b.ranked_eta - a.ranked_eta}))
        if POSITION_RANK[a.position] < POSITION_RANK[b.position]:
            out.append(("position_live", {}) if a.position == LIVE else ("position_newer", {}))
        return tuple(out) or (("sooner", {"minutes": b.ranked_eta - a.ranked_eta}),)
    same: tuple[tuple[str, dict], ...] = (("same_eta", {}),)
    if a.load != b.load:
        return (*same, ("fewer_jobs", {}))
    return (*same, ("same_load", {}), ("crew_number", {}))


def rank_crews(order: OrderState, crews: Sequence[CrewState], settings: DispatchSettings) -> list[Suggestion]:
    """Every crew as a suggestion for ``order``, best first."""
    if not crews:
        return []
    travel = settings.travel.minutes_matrix([c.lat for c in crews], [c.lon for c in crews],
                                            [order.lat], [order.lon], [order.area_type])[:, 0]
    weight = settings.weight(order.urgency)
    ranked: list[tuple[_Ranked, Suggestion]] = []
    for crew, minutes in zip(crews, travel.tolist(), strict=True):
        eta = crew.free_in_min + minutes
        slack = order.due_in_min - eta
        missing = missing_skills(order, crew)
        territory_ok = in_territory(order, crew)
        issues = blocking_issues(crew.on_duty, not missing, territory_ok)
        ranked_eta = round(eta + settings.position.penalty(crew.position))
        late = max(0, round(ranked_eta - order.due_in_min))
        score = ISSUE_PENALTY * issues + weight * late + ETA_SCORE_WEIGHT * ranked_eta
        suggestion = Suggestion(
            crew_id=crew.crew_id, code=crew.code, eta_min=eta, travel_min=minutes, slack_min=slack,
            skills_ok=not missing, missing_skills=missing, in_territory=territory_ok,
            on_duty=crew.on_duty, load=crew.load, score=score,
            reasons=reasons_for(eta=eta, free_in=crew.free_in_min, slack=slack, missing=missing,
                                load=crew.load, on_duty=crew.on_duty, territory_ok=territory_ok,
                                position=crew.position, seen_min_ago=crew.seen_min_ago),
            position=crew.position, seen_min_ago=crew.seen_min_ago, ranked_eta_min=ranked_eta)
        ranked.append((_Ranked(issues, ranked_eta, late, crew.load, crew.crew_id, eta, crew.position),
                       suggestion))
    ranked.sort(key=lambda pair: pair[0].key)
    out = []
    for i, (rank, suggestion) in enumerate(ranked):
        if i + 1 < len(ranked):
            suggestion = replace(suggestion, above_next=why_above(rank, ranked[i + 1][0]))
        out.append(suggestion)
    return out
