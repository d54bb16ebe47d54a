"""Transformer areas: which one serves a location, and how much load each can still take.

Reads only. ``area_for_site`` is one indexed query (the areas of the routed unit's subtree,
nearest first); ``spare_capacity`` is one grouped query over the connection points plus one
over the open applications, then plain arithmetic with the factors of ``data/network.toml``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from sqlalchemy import ColumnElement, func, select
from sqlalchemy.orm import InstrumentedAttribute, Session

from station_portal.auth.scope import Scope
from station_portal.i18n import get_locale
from station_portal.network.models import ConnectionPoint, Feeder, TransformerArea
from station_portal.network.rules import CapacityRules, network_rules
from station_portal.org.tree import subtree_ids
from station_portal.workorders.models import ApplicationStatus, Kind, WorkOrder


def _nearest_first(lat: float, lon: float) -> tuple[ColumnElement[float], InstrumentedAttribute[int]]:
    """ORDER BY terms: squared distance on a local plane (a degree of longitude is shorter
    than one of latitude), then id, so ties are stable."""
    k = math.cos(math.radians(lat)) ** 2
    return ((TransformerArea.lat - lat) * (TransformerArea.lat - lat)
            + (TransformerArea.lon - lon) * (TransformerArea.lon - lon) * k, TransformerArea.id)


def nearest_areas(session: Session, lat: float, lon: float, *,
                  unit_ids: set[int] | frozenset[int] | None = None, scope: Scope | None = None,
                  limit: int = 1) -> list[TransformerArea]:
    """The active areas nearest a point, nearest first: of ``unit_ids`` (all when None) that
    ``scope`` sees (all when None). One query on the areas' table."""
    query = (select(TransformerArea).where(TransformerArea.active.is_(True))
             .order_by(*_nearest_first(lat, lon)).limit(limit))
    if unit_ids is not None:
        query = query.where(TransformerArea.unit_id.in_(sorted(unit_ids)))
    if scope is not None:
        query = query.where(scope.unit_filter(TransformerArea.unit_id))
    return list(session.scalars(query))


def area_for_site(session: Session, lat: float, lon: float,
                  site_unit_id: int) -> TransformerArea | None:
    """The area of a site: the nearest of the areas owned in the subtree of the unit the
    site routes to (a station's groups, or a grid)."""
    found = nearest_areas(session, lat, lon, unit_ids=subtree_ids(session, site_unit_id))
    return found[0] if found else None


def area_choices(session: Session, scope: Scope, limit: int = 2000) -> list[tuple[int, str, str]]:
    """(id, code, name) of the active areas the scope sees, by code: the choices of a new
    outage."""
    return [tuple(r) for r in session.execute(
        select(TransformerArea.id, TransformerArea.code, TransformerArea.name)
        .where(scope.unit_filter(TransformerArea.unit_id), TransformerArea.active.is_(True))
        .order_by(TransformerArea.code).limit(limit))]


def area_in_scope(session: Session, scope: Scope | None, area_id: object) -> TransformerArea | None:
    """The area if it exists and the scope (None: the system) sees its unit."""
    if not isinstance(area_id, int) or isinstance(area_id, bool):
        return None
    area = session.get(TransformerArea, area_id)
    if area is None or (scope is not None and not scope.sees_unit(area.unit_id)):
        return None
    return area


@dataclass(frozen=True)
class AreaCapacity:
    area_id: int
    code: str
    name: str
    feeder: str
    capacity_kva: float
    customers: int
    connected_kw: float
    applied_kw: float
    peak_kva: float  # the estimate: (connected × diversity + applied) ÷ power factor
    spare_kva: float  # what it may still take before it is heavily loaded

    @property
    def load_ratio(self) -> float:
        return self.peak_kva / self.capacity_kva if self.capacity_kva else 0.0


def estimate(capacity_kva: float, connected_kw: float, applied_kw: float,
             rules: CapacityRules) -> tuple[float, float]:
    """(peak kVA, spare kVA before heavy load) of an area: pure arithmetic."""
    peak = (connected_kw * rules.diversity + applied_kw) / rules.power_factor
    return peak, capacity_kva * rules.heavy_load_ratio - peak


def _open_applications(*, high_voltage: bool) -> tuple[ColumnElement[bool], ...]:
    """Open applications of low-voltage classes (they load the area's transformer) or of
    high-voltage ones (they take their own transformer on the feeder)."""
    lv = WorkOrder.customer_class.like("lv%")
    return (WorkOrder.kind == Kind.APPLICATION.value,
            WorkOrder.status.notin_((ApplicationStatus.COMPLETED.value,
                                     ApplicationStatus.CANCELLED.value)),
            ~lv if high_voltage else lv)


def spare_capacity(session: Session, unit_ids: list[int] | frozenset[int] | None, *,
                   area_ids: list[int] | None = None) -> list[AreaCapacity]:
    """Every active area of the units (or the listed areas), tightest first. Applied load:
    the open low-voltage applications on the area (a high-voltage one loads the feeder)."""
    rules = network_rules().capacity
    where = [TransformerArea.active.is_(True)]
    if unit_ids is not None:
        where.append(TransformerArea.unit_id.in_(sorted(unit_ids)))
    if area_ids is not None:
        where.append(TransformerArea.id.in_(area_ids))
    areas = session.execute(
        select(TransformerArea.id, TransformerArea.code, TransformerArea.name,
               TransformerArea.capacity_kva, Feeder.code)
        .join(Feeder, Feeder.id == TransformerArea.feeder_id).where(*where)).all()
    ids = [a[0] for a in areas]
    connected = {row[0]: (row[1], row[2] or 0.0) for row in session.execute(
        select(ConnectionPoint.area_id, func.count(), func.sum(ConnectionPoint.contract_kw))
        .where(ConnectionPoint.area_id.in_(ids)).group_by(ConnectionPoint.area_id))} if ids else {}
    applied = {row[0]: row[1] or 0.0 for row in session.execute(
        select(WorkOrder.area_id, func.sum(WorkOrder.load_kw))
        .where(WorkOrder.area_id.in_(ids), *_open_applications(high_voltage=False))
        .group_by(WorkOrder.area_id))} if ids else {}
    result = []
    for area_id, code, name, kva, feeder in areas:
        count, kw = connected.get(area_id, (0, 0.0))
        peak, spare = estimate(kva, kw, applied.get(area_id, 0.0), rules)
        result.append(AreaCapacity(area_id, code, name, feeder, kva, count, round(kw, 1),
                                   round(applied.get(area_id, 0.0), 1), round(peak, 1),
                                   round(spare, 1)))
    result.sort(key=lambda a: (a.spare_kva, a.code))
    return result


@dataclass(frozen=True)
class FeederCapacity:
    feeder_id: int
    code: str
    name: str
    capacity_kva: float
    areas_kva: float  # the estimated peaks of its areas, together
    hv_applied_kva: float  # open high-voltage applications on its areas, in kVA
    spare_kva: float  # room before the feeder is heavily loaded


def feeder_capacity(session: Session, feeder_ids: list[int]) -> list[FeederCapacity]:
    """The feeders' room: capacity × heavy-load share, less their areas' estimated peaks and
    the open high-voltage applications on them; tightest first."""
    if not feeder_ids:
        return []
    rules = network_rules().capacity
    feeders = session.execute(select(Feeder.id, Feeder.code, Feeder.name_zh, Feeder.name_en,
                                     Feeder.capacity_kva).where(Feeder.id.in_(feeder_ids))).all()
    area_ids = list(session.scalars(select(TransformerArea.id).where(
        TransformerArea.feeder_id.in_(feeder_ids), TransformerArea.active.is_(True))))
    feeder_of = dict(session.execute(select(TransformerArea.id, TransformerArea.feeder_id)
                                     .where(TransformerArea.id.in_(area_ids))).all())
    peaks: dict[int, float] = {}
    for area in spare_capacity(session, None, area_ids=area_ids):
        fid = feeder_of[area.area_id]
        peaks[fid] = peaks.get(fid, 0.0) + area.peak_kva
    hv: dict[int, float] = {}
    for area_id, kw in session.execute(
            select(WorkOrder.area_id, func.sum(WorkOrder.load_kw))
            .where(WorkOrder.area_id.in_(area_ids), *_open_applications(high_voltage=True))
            .group_by(WorkOrder.area_id)):
        fid = feeder_of[area_id]
        hv[fid] = hv.get(fid, 0.0) + (kw or 0.0) / rules.power_factor
    zh = get_locale().startswith("zh")
    result = [FeederCapacity(
        fid, code, name_zh if zh else name_en, kva, round(peaks.get(fid, 0.0), 1),
        round(hv.get(fid, 0.0), 1),
        round(kva * rules.heavy_load_ratio - peaks.get(fid, 0.0) - hv.get(fid, 0.0), 1))
        for fid, code, name_zh, name_en, kva in feeders]
    result.sort(key=lambda f: (f.spare_kva, f.code))
    return result
