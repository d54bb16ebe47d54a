"""Territories as polygons, and routing a location to the unit that owns it.

Urban locations route to their service station, rural ones to their grid
(网格). ``TerritoryIndex`` keeps the polygons in a shapely STRtree, so one
lookup is a few microseconds and a batch of a million points is vectorised.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
import shapely
from shapely.geometry import shape
from sqlalchemy import select
from sqlalchemy.orm import Session

from station_portal.org.models import ROUTABLE_KINDS, Unit


class InvalidLocation(ValueError):
    """Latitude/longitude outside WGS-84 ranges or not numbers."""


@dataclass(frozen=True)
class RoutedUnit:
    unit_id: int
    code: str
    kind: str
    area_type: str | None


def check_location(lat: Any, lon: Any) -> tuple[float, float]:
    """Return ``(lat, lon)`` as floats, or raise :class:`InvalidLocation`."""
    try:
        lat_f, lon_f = float(lat), float(lon)
    except (TypeError, ValueError) as exc:
        raise InvalidLocation("latitude and longitude must be numbers") from exc
    if not (math.isfinite(lat_f) and math.isfinite(lon_f)):
        raise InvalidLocation("latitude and longitude must be finite")
    if not (-90.0 <= lat_f <= 90.0 and -180.0 <= lon_f <= 180.0):
        raise InvalidLocation("latitude must be within ±90 and longitude within ±180")
    return lat_f, lon_f


class TerritoryIndex:
    """The routable territories of the organisation, ready for point lookups."""

    def __init__(self, units: list[RoutedUnit], geometries: list[dict[str, Any]]) -> None:
        shapes = [shape(g) for g in geometries]
        # Where territories overlap (a data error), the smallest, most specific one wins.
        order = sorted(range(len(shapes)), key=lambda i: shapes[i].area)
        self._units = [units[i] for i in order]
        self._shapes = [shapes[i] for i in order]
        self._tree = shapely.STRtree(self._shapes)

    @classmethod
    def load(cls, session: Session) -> TerritoryIndex:
        rows = session.execute(
            select(Unit.id, Unit.code, Unit.kind, Unit.area_type, Unit.territory)
            .where(Unit.kind.in_([k.value for k in ROUTABLE_KINDS]))
            .where(Unit.territory.is_not(None))
            .order_by(Unit.id)
        ).all()
        return cls(
            [RoutedUnit(r.id, r.code, r.kind, r.area_type) for r in rows],
            [r.territory for r in rows],
        )

    def __len__(self) -> int:
        return len(self._units)

    def route_location(self, lat: float, lon: float) -> RoutedUnit | None:
        """The station or grid whose territory holds the point, or None (outside)."""
        lat, lon = check_location(lat, lon)
        hits = self._tree.query(shapely.Point(lon, lat), predicate="intersects")
        return self._units[int(min(hits))] if len(hits) else None

    def route_many(self, lats: np.ndarray, lons: np.ndarray) -> np.ndarray:
        """Unit ids for many points at once; -1 where a point is outside every territory."""
        points = shapely.points(np.asarray(lons, dtype=float), np.asarray(lats, dtype=float))
        point_idx, shape_idx = self._tree.query(points, predicate="intersects")
        best = np.full(len(points), len(self._units), dtype=np.int64)
        np.minimum.at(best, point_idx, shape_idx)  # smallest territory wins, as above
        ids = np.array([u.unit_id for u in self._units] + [-1], dtype=np.int64)
        return ids[best]

    def outline(self) -> shapely.Geometry:
        """The union of all territories: the whole service area."""
        return shapely.union_all(self._shapes)


def route_location(session: Session, lat: float, lon: float) -> RoutedUnit | None:
    """Route one location; for many, build a :class:`TerritoryIndex` once."""
    return TerritoryIndex.load(session).route_location(lat, lon)
