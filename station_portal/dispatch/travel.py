"""Travel time estimates and the dispatch settings (``data/dispatch.toml``).

Travel is estimated from the straight-line (great-circle) distance times a
detour factor, at an average speed that depends on the destination's area
type (urban, rural, remote). This is a planning estimate: a road-network
source (a routing engine or a table of measured drive times) can replace
:class:`TravelModel` later, as long as it offers the same ``minutes`` and
``minutes_matrix`` methods; nothing else in ``station_portal.dispatch`` looks
inside it.

Plain data in, plain data out: this module imports no Flask, Dash or database
code.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from station_portal.datafiles import DataFile, read_toml

EARTH_RADIUS_KM = 6371.0088  # mean Earth radius (IUGG)
AREA_TYPES = ("urban", "rural", "remote")
# The same codes as station_portal.org.models.Skill and workorders.models.RepairCategory
# (repeated here so that this module stays free of the database models; a test checks).
SKILLS = frozenset({"lv_line", "hv_line", "cable", "transformer", "metering", "live_working",
                    "customer_internal", "inspection", "driving"})
REPAIR_CATEGORIES = ("high_voltage", "low_voltage", "power_quality", "metering", "customer_internal",
                     "non_power")
URGENCIES = (1, 2, 3)  # 1 urgent, 2 normal, 3 low
# Where a crew's position comes from: a recent phone ping, an older one, or none (its office).
LIVE, STALE, UNKNOWN = "live", "stale", "unknown"
POSITIONS = (LIVE, STALE, UNKNOWN)


def haversine_km(lat1, lon1, lat2, lon2):
    """Great-circle distance in km; floats or numpy arrays (broadcast like numpy)."""
    p1, p2 = np.radians(lat1), np.radians(lat2)
    dp = p2 - p1
    dl = np.radians(lon2) - np.radians(lon1)
    a = np.sin(dp / 2) ** 2 + np.cos(p1) * np.cos(p2) * np.sin(dl / 2) ** 2
    km = 2 * EARTH_RADIUS_KM * np.arcsin(np.sqrt(np.clip(a, 0.0, 1.0)))
    return float(km) if np.ndim(km) == 0 else km


@dataclass(frozen=True)
class TravelModel:
    """Road minutes = straight-line km × detour ÷ speed of the destination's area type × 60."""

    detour: float
    speed_kmh: dict[str, float]

    def speed(self, area_type: str) -> float:
        try:
            return self.speed_kmh[area_type]
        except KeyError:
            raise ValueError(f"no travel speed for area type {area_type!r}") from None

    def minutes(self, from_lat: float, from_lon: float, to_lat: float, to_lon: float,
                area_type: str) -> float:
        """Driving minutes from one point to another lying in an area of ``area_type``."""
        km = haversine_km(from_lat, from_lon, to_lat, to_lon)
        return km * self.detour / self.speed(area_type) * 60.0

    def minutes_matrix(self, from_lats: Sequence[float] | np.ndarray, from_lons: Sequence[float] | np.ndarray,
                       to_lats: Sequence[float] | np.ndarray, to_lons: Sequence[float] | np.ndarray,
                       area_types: Sequence[str]) -> np.ndarray:
        """Driving minutes, rows = from points, columns = to points (speed of each destination)."""
        to_lats, to_lons = np.asarray(to_lats, dtype=float), np.asarray(to_lons, dtype=float)
        if len(area_types) != len(to_lats):
            raise ValueError("one area type per destination is needed")
        speeds = np.array([self.speed(a) for a in area_types], dtype=float)
        from_lats, from_lons = np.asarray(from_lats, dtype=float), np.asarray(from_lons, dtype=float)
        km = haversine_km(from_lats[:, None], from_lons[:, None], to_lats[None, :], to_lons[None, :])
        return np.asarray(km) * self.detour / speeds[None, :] * 60.0


@dataclass(frozen=True)
class PositionRules:
    """How far a crew's reported position is trusted (``[position]`` of the settings).

    A ping at most ``live_min`` old is live; one at most ``usable_min`` old is stale (the
    crew is planned from it but may have moved); an older one, or none, leaves the
    position unknown (the crew is planned from its office). Ranking adds the penalty of
    its provenance to a crew's ETA.
    """

    live_min: float
    usable_min: float
    stale_penalty_min: float
    unknown_penalty_min: float

    def provenance(self, age_min: float | None) -> str:
        """LIVE, STALE or UNKNOWN for a ping ``age_min`` minutes old (None: never reported)."""
        if age_min is None or age_min > self.usable_min:
            return UNKNOWN
        return LIVE if age_min <= self.live_min else STALE

    def penalty(self, position: str) -> float:
        """Minutes added to the ETA of a crew with this provenance when ranking."""
        return {LIVE: 0.0, STALE: self.stale_penalty_min, UNKNOWN: self.unknown_penalty_min}[position]


@dataclass(frozen=True)
class DispatchSettings:
    """Everything the dispatch modules need from ``data/dispatch.toml``."""

    travel: TravelModel
    job_min: dict[str, float]  # repair category → expected minutes on site
    skills: dict[str, frozenset[str]]  # repair category → skills a crew must hold
    urgency_weight: dict[int, float]  # urgency (1 urgent … 3 low) → cost of a minute late
    position: PositionRules  # how old a ping may be, and what an uncertain position costs
    capacity_jobs: int  # open repairs a crew can carry at once (the workload board's yardstick)

    def weight(self, urgency: int) -> float:
        try:
            return self.urgency_weight[urgency]
        except KeyError:
            raise ValueError(f"unknown urgency {urgency!r}") from None

    def job_minutes(self, category: str) -> float:
        try:
            return self.job_min[category]
        except KeyError:
            raise ValueError(f"unknown repair category {category!r}") from None

    def required_skills(self, category: str) -> frozenset[str]:
        try:
            return self.skills[category]
        except KeyError:
            raise ValueError(f"unknown repair category {category!r}") from None

    @classmethod
    def load(cls, path: Path | str | None = None) -> DispatchSettings:
        """Read and check the settings file (``data/dispatch.toml`` unless told)."""
        if path is None:
            return DISPATCH_FILE.get()
        return parse_settings(read_toml(Path(path)), origin=str(path))



DISPATCH_FILE = DataFile("dispatch.toml", DispatchSettings.load)

def _table(raw: Mapping[str, Any], key: str, origin: str) -> Mapping[str, Any]:
    value = raw.get(key)
    if not isinstance(value, dict):
        raise ValueError(f"{origin}: table [{key}] is required")
    return value


def _positive(value: Any, key: str, origin: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not value > 0:
        raise ValueError(f"{origin}: '{key}' must be a positive number, not {value!r}")
    return float(value)


def _non_negative(value: Any, key: str, origin: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not value >= 0:
        raise ValueError(f"{origin}: '{key}' must be a number of at least 0, not {value!r}")
    return float(value)


def _exact_keys(table: Mapping[str, Any], expected: Sequence[str], key: str, origin: str) -> None:
    missing = [k for k in expected if k not in table]
    unknown = sorted(set(table) - set(expected))
    if missing:
        raise ValueError(f"{origin}: '{key}' lacks {missing}")
    if unknown:
        raise ValueError(f"{origin}: '{key}' has unknown entries {unknown}")


def parse_settings(raw: Mapping[str, Any], origin: str = "<dispatch>") -> DispatchSettings:
    """Settings from a parsed TOML document; a ValueError names the first bad key."""
    travel = _table(raw, "travel", origin)
    detour = _positive(travel.get("detour"), "travel.detour", origin)
    if detour < 1.0:
        raise ValueError(f"{origin}: 'travel.detour' must be at least 1 (roads are never shorter)")
    speeds_raw = _table(travel, "speed_kmh", origin)
    _exact_keys(speeds_raw, AREA_TYPES, "travel.speed_kmh", origin)
    speeds = {a: _positive(speeds_raw[a], f"travel.speed_kmh.{a}", origin) for a in AREA_TYPES}

    jobs_raw = _table(raw, "job_minutes", origin)
    _exact_keys(jobs_raw, REPAIR_CATEGORIES, "job_minutes", origin)
    jobs = {c: _positive(jobs_raw[c], f"job_minutes.{c}", origin) for c in REPAIR_CATEGORIES}

    skills_raw = _table(raw, "skills", origin)
    _exact_keys(skills_raw, REPAIR_CATEGORIES, "skills", origin)
    skills: dict[str, frozenset[str]] = {}
    for category in REPAIR_CATEGORIES:
        value = skills_raw[category]
        if not isinstance(value, list) or not all(isinstance(s, str) for s in value):
            raise ValueError(f"{origin}: 'skills.{category}' must be a list of skill codes")
        unknown = sorted(set(value) - SKILLS)
        if unknown:
            raise ValueError(f"{origin}: 'skills.{category}' has unknown skills {unknown}")
        skills[category] = frozenset(value)

    weights_raw = _table(raw, "urgency_weight", origin)
    _exact_keys(weights_raw, [str(u) for u in URGENCIES], "urgency_weight", origin)
    weights = {u: _positive(weights_raw[str(u)], f"urgency_weight.{u}", origin) for u in URGENCIES}

    position_raw = _table(raw, "position", origin)
    keys = ("live_min", "usable_min", "stale_penalty_min", "unknown_penalty_min")
    _exact_keys(position_raw, keys, "position", origin)
    position = PositionRules(
        live_min=_positive(position_raw["live_min"], "position.live_min", origin),
        usable_min=_positive(position_raw["usable_min"], "position.usable_min", origin),
        stale_penalty_min=_non_negative(position_raw["stale_penalty_min"], "position.stale_penalty_min",
                                        origin),
        unknown_penalty_min=_non_negative(position_raw["unknown_penalty_min"],
                                          "position.unknown_penalty_min", origin))
    if position.usable_min < position.live_min:
        raise ValueError(f"{origin}: 'position.usable_min' cannot be shorter than 'position.live_min'")
    if position.unknown_penalty_min < position.stale_penalty_min:
        raise ValueError(f"{origin}: 'position.unknown_penalty_min' cannot be smaller than "
                         "'position.stale_penalty_min' (an old ping says more than none)")

    capacity_raw = _table(raw, "capacity", origin)
    _exact_keys(capacity_raw, ("open_jobs",), "capacity", origin)
    jobs_cap = capacity_raw["open_jobs"]
    if isinstance(jobs_cap, bool) or not isinstance(jobs_cap, int) or jobs_cap < 1:
        raise ValueError(f"{origin}: 'capacity.open_jobs' must be a whole number of at least 1, "
                         f"not {jobs_cap!r}")
    return DispatchSettings(TravelModel(detour, speeds), jobs, skills, weights, position, jobs_cap)
