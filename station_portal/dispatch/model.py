"""What the dispatch functions see of crews and open repair orders, and who may take what.

A snapshot at one moment ("now"): every time is in minutes from now. The
caller (a service reading the database) builds these records; the dispatch
functions never read or write anything themselves. This module imports no
Flask, Dash or database code.

A crew's position has a provenance (``travel.LIVE``, ``STALE`` or ``UNKNOWN``):
a recent phone ping, an older one, or none at all (the crew is placed at its
office). Suggestions rank an uncertain position after a known one and say so
instead of promising an ETA.

Eligibility: an order may go to a crew only if the crew is on duty, holds all
the skills the order requires, and serves the order's territory unit (a crew
without listed units may serve anywhere).
"""

from __future__ import annotations

from dataclasses import dataclass

from station_portal.dispatch.travel import AREA_TYPES, LIVE, POSITIONS, URGENCIES, DispatchSettings


@dataclass(frozen=True)
class CrewState:
    crew_id: int
    code: str
    lat: float
    lon: float
    skills: frozenset[str]
    on_duty: bool = True
    free_in_min: float = 0.0  # minutes until its current work is done
    load: int = 0  # open orders it holds now
    territory_unit_ids: frozenset[int] = frozenset()  # empty = may serve anywhere
    position: str = LIVE  # where lat/lon come from: LIVE, STALE (an old ping) or UNKNOWN (the office)
    seen_min_ago: float | None = None  # age of the last ping, however old (None: never reported)

    def __post_init__(self) -> None:
        if self.position not in POSITIONS:
            raise ValueError(f"crew {self.code}: unknown position provenance {self.position!r}")


@dataclass(frozen=True)
class OrderState:
    order_id: int
    code: str
    lat: float
    lon: float
    area_type: str
    unit_id: int  # the territory unit the order lies in
    urgency: int  # 1 urgent, 2 normal, 3 low
    due_in_min: float  # minutes from now to the arrival deadline (may be negative)
    required_skills: frozenset[str] = frozenset()
    job_min: float = 60.0  # expected minutes on site

    def __post_init__(self) -> None:
        if self.area_type not in AREA_TYPES:
            raise ValueError(f"order {self.code}: unknown area type {self.area_type!r}")
        if self.urgency not in URGENCIES:
            raise ValueError(f"order {self.code}: urgency must be 1, 2 or 3, not {self.urgency!r}")
        if self.job_min < 0:
            raise ValueError(f"order {self.code}: job minutes cannot be negative")


def repair_order(*, order_id: int, code: str, lat: float, lon: float, area_type: str, unit_id: int,
                 urgency: int, due_in_min: float, category: str, settings: DispatchSettings) -> OrderState:
    """An order whose skills and time on site follow its repair category in the settings."""
    return OrderState(order_id, code, lat, lon, area_type, unit_id, urgency, due_in_min,
                      settings.required_skills(category), settings.job_minutes(category))


def missing_skills(order: OrderState, crew: CrewState) -> frozenset[str]:
    return order.required_skills - crew.skills


def in_territory(order: OrderState, crew: CrewState) -> bool:
    return not crew.territory_unit_ids or order.unit_id in crew.territory_unit_ids


def eligible(order: OrderState, crew: CrewState) -> bool:
    """May the crew take the order: on duty, all skills, and serving the order's unit."""
    return crew.on_duty and not missing_skills(order, crew) and in_territory(order, crew)
