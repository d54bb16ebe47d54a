"""Crew dispatch for fault repairs: ranked crew suggestions and a "dispatch all" optimiser.

Pure functions on plain records (``CrewState``, ``OrderState``) and the
settings in ``data/dispatch.toml``; no Flask, Dash or database code.
"""

from station_portal.dispatch.model import CrewState, OrderState, eligible, repair_order
from station_portal.dispatch.optimise import Assignment, Plan, evaluate, greedy_nearest, optimise
from station_portal.dispatch.suggest import Suggestion, rank_crews
from station_portal.dispatch.travel import DispatchSettings, TravelModel, haversine_km

__all__ = [
    "Assignment",
    "CrewState",
    "DispatchSettings",
    "OrderState",
    "Plan",
    "Suggestion",
    "TravelModel",
    "eligible",
    "evaluate",
    "greedy_nearest",
    "haversine_km",
    "optimise",
    "rank_crews",
    "repair_order",
]
