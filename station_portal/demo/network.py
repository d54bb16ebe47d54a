"""The demo city's network: feeders, hundreds of transformer areas (台区) spread over the
stations' and grids' territories, tens of thousands of customers on them, the work
orders of the history linked to their areas, and a month of outages around today.

Deterministic for a seed. Areas and feeders are ORM rows (a few hundred); customers are
written in one Core insert. The outages go through ``services.outages`` with the times
they would have happened at, so their audit rows and notices are the real ones.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

import numpy as np
import shapely
from scipy.spatial import cKDTree
from shapely.geometry import shape
from sqlalchemy import insert, select, update
from sqlalchemy.orm import Session

from station_portal.network.models import (
    ConnectionPoint,
    Feeder,
    NoticeStatus,
    OutageNotice,
    TransformerArea,
)
from station_portal.network.rules import network_rules
from station_portal.org.models import ROUTABLE_KINDS, Staff, Unit, UnitKind
from station_portal.services import outages as service
from station_portal.workorders.models import WorkOrder

URBAN_KVA = (315, 400, 500, 630, 800)
RURAL_KVA = (100, 160, 200, 315, 400)
AREAS_PER_STATION = 48
AREAS_PER_GRID = (6, 12)
FEEDERS_PER_STATION = 8
FEEDERS_PER_OFFICE = 3
STREET_WORDS = ("和平", "解放", "光明", "建设", "松江", "长春", "北京", "东风", "新华", "胜利")
SURNAMES = "王李张刘陈杨赵黄周吴徐孙胡朱高林何郭马罗"
GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀英华"
OUTAGE_REASONS = ("10kV线路检修及消缺", "配电变压器增容改造", "业扩配套工程接火",
                  "线路迁改（市政道路施工）", "柱上开关更换")  # as published: Chinese
# Each unit's month of planned outages (about two in three are made): the start's offset
# from today in days, and how its notice went.
DEMO_OUTAGES = ((-24, "in_time"), (-12, "late"), (-5, "in_time"), (2, "in_time"),
                (5, "in_time"), (9, "approved"), (13, "draft"))


@dataclass
class NetworkReport:
    feeders: int = 0
    areas: int = 0
    customers: int = 0


def _points_in(geom: shapely.Geometry, n: int, rng: np.random.Generator) -> np.ndarray:
    """``n`` random (lon, lat) points inside ``geom``."""
    minx, miny, maxx, maxy = geom.bounds
    found: list[np.ndarray] = []
    total = 0
    while total < n:
        xy = rng.uniform((minx, miny), (maxx, maxy), size=(max(64, n * 3), 2))
        inside = xy[shapely.contains_xy(geom, xy[:, 0], xy[:, 1])]
        found.append(inside)
        total += len(inside)
    return np.concatenate(found)[:n]


def seed_network(session: Session, *, seed: int = 7) -> NetworkReport:
    """Feeders, areas and customers for every station and grid of the demo city."""
    rng = np.random.default_rng(seed + 16)
    report = NetworkReport()
    units = {u.id: u for u in session.scalars(select(Unit))}
    staff_by_unit: dict[int, list[int]] = {}
    for sid, uid in session.execute(select(Staff.id, Staff.unit_id).where(Staff.active.is_(True))):
        staff_by_unit.setdefault(uid, []).append(sid)
    feeders: dict[int, list[Feeder]] = {}
    for unit in sorted(units.values(), key=lambda u: u.id):
        if unit.kind not in (UnitKind.SERVICE_STATION.value, UnitKind.SUPPLY_OFFICE.value):
            continue
        short_zh = unit.name_zh.removesuffix("供电服务站").removesuffix("供电所")
        n = FEEDERS_PER_STATION if unit.kind == UnitKind.SERVICE_STATION.value else FEEDERS_PER_OFFICE
        feeders[unit.id] = []
        for i in range(n):
            feeder = Feeder(code=f"F-{unit.code}-{i + 1:02d}", name_zh=f"10kV {short_zh}{i + 1}号线",
                            name_en=f"10 kV {unit.name_en.split(' ')[0]} line {i + 1}",
                            unit_id=unit.id, substation=f"{short_zh}66kV变电站",
                            capacity_kva=float(rng.choice((6000, 8000, 10000))))
            session.add(feeder)
            feeders[unit.id].append(feeder)
            report.feeders += 1
    session.flush()
    rules = network_rules().capacity
    account = 2_200_000_000
    customers: list[dict] = []
    for unit in sorted(units.values(), key=lambda u: u.id):
        if unit.kind not in ROUTABLE_KINDS or not unit.territory:
            continue
        urban = unit.kind == UnitKind.SERVICE_STATION.value
        if urban:
            owner = next((u for u in units.values() if u.parent_id == unit.id
                          and u.kind == UnitKind.FIELD_GROUP.value), unit)
            feeder_unit = unit.id
            count = AREAS_PER_STATION
        else:
            owner = unit
            feeder_unit = unit.parent_id
            count = int(rng.integers(*AREAS_PER_GRID))
        points = _points_in(shape(unit.territory), count, rng)
        short_zh = unit.name_zh.removesuffix("供电服务站")
        managers = staff_by_unit.get(owner.id) or staff_by_unit.get(unit.id) or [None]
        for i, (lon, lat) in enumerate(points):
            kva = float(rng.choice(URBAN_KVA if urban else RURAL_KVA))
            area = TransformerArea(
                code=f"TA-{unit.code}-{i + 1:03d}", name=f"{short_zh}{i + 1}号台区",
                capacity_kva=kva, feeder_id=feeders[feeder_unit][i % len(feeders[feeder_unit])].id,
                unit_id=owner.id, manager_staff_id=managers[i % len(managers)],
                lat=round(float(lat), 6), lon=round(float(lon), 6))
            session.add(area)
            session.flush()
            report.areas += 1
            # Customers until the estimated peak reaches a load ratio drawn per area, so
            # some areas are full and some have room.
            ratio = float(rng.uniform(0.3, 1.0))
            target_kw = ratio * kva * rules.power_factor / rules.diversity
            street = STREET_WORDS[i % len(STREET_WORDS)]
            total, n = 0.0, 0
            while total < target_kw:
                business = rng.random() < (0.12 if urban else 0.06)
                kw = float(rng.choice((20, 30, 50, 80)) if business else rng.choice((4, 6, 8, 10)))
                n += 1
                total += kw
                account += 1
                customers.append({
                    "account_no": str(account), "area_id": area.id,
                    "name": (f"{street}商店{n}" if business else
                             SURNAMES[int(rng.integers(len(SURNAMES)))]
                             + GIVEN[int(rng.integers(len(GIVEN)))] + GIVEN[int(rng.integers(len(GIVEN)))]),
                    "address": f"{short_zh}{street}路{n}号",
                    "category": "business" if business else "resident",
                    "contract_kw": kw, "important": bool(business and rng.random() < 0.08),
                    "phone": f"13{int(rng.integers(0, 10))}{int(rng.integers(10**7, 10**8)):08d}"
                    if rng.random() < 0.7 else None,
                    "email": f"cust{account}@example.cn" if rng.random() < 0.1 else None,
                })
    for start in range(0, len(customers), 5000):
        session.execute(insert(ConnectionPoint), customers[start:start + 5000])
    report.customers = len(customers)
    return report


def routed_unit_of_area(session: Session) -> dict[int, int]:
    """Each area's routable unit (the station above a field group, or the grid)."""
    parents = dict(session.execute(select(Unit.id, Unit.parent_id)).all())
    kinds = dict(session.execute(select(Unit.id, Unit.kind)).all())
    found = {}
    for area_id, unit_id in session.execute(select(TransformerArea.id, TransformerArea.unit_id)):
        uid = unit_id
        while uid is not None and kinds[uid] not in ROUTABLE_KINDS:
            uid = parents[uid]
        found[area_id] = uid if uid is not None else unit_id
    return found


def link_orders(session: Session) -> int:
    """Give every work order without an area the nearest area of the unit it was routed to
    (the rule of ``services.orders.link_area``), vectorised per unit."""
    routed = routed_unit_of_area(session)
    areas = session.execute(select(TransformerArea.id, TransformerArea.lat, TransformerArea.lon)
                            .where(TransformerArea.active.is_(True))).all()
    by_unit: dict[int, list[tuple[int, float, float]]] = {}
    for aid, lat, lon in areas:
        by_unit.setdefault(routed[aid], []).append((aid, lat, lon))
    orders = session.execute(select(WorkOrder.id, WorkOrder.unit_id, WorkOrder.lat, WorkOrder.lon)
                             .where(WorkOrder.area_id.is_(None))).all()
    if not orders or not areas:
        return 0
    lat0 = float(np.mean([a[1] for a in areas]))
    k = float(np.cos(np.radians(lat0)))
    linked = 0
    grouped: dict[int, list[tuple[int, float, float]]] = {}
    for oid, uid, lat, lon in orders:
        grouped.setdefault(uid, []).append((oid, lat, lon))
    for uid, rows in grouped.items():
        candidates = by_unit.get(uid)
        if not candidates:
            continue
        tree = cKDTree([(c[1], c[2] * k) for c in candidates])
        _dist, index = tree.query([(r[1], r[2] * k) for r in rows])
        params = [{"id": r[0], "area_id": candidates[int(i)][0]}
                  for r, i in zip(rows, index, strict=True)]
        session.execute(update(WorkOrder), params)  # bulk update by primary key
        linked += len(params)
    return linked


def seed_outages(session: Session, *, now: datetime, seed: int = 7) -> int:
    """A month of outages around ``now`` for every station and supply office, through the
    services at the times they would have happened: ended ones in the past weeks (a few
    announced late), announced and approved ones ahead, a draft, and a fault outage
    running now."""
    rng = np.random.default_rng(seed + 61)
    owners = list(session.scalars(select(Unit).where(Unit.kind.in_(
        (UnitKind.SERVICE_STATION.value, UnitKind.SUPPLY_OFFICE.value))).order_by(Unit.id)))
    areas_of: dict[int, list[int]] = {}
    routed = routed_unit_of_area(session)
    parents = dict(session.execute(select(Unit.id, Unit.parent_id)).all())
    owner_ids = {u.id for u in owners}
    for area_id, unit_id in routed.items():
        owner = unit_id if unit_id in owner_ids else parents.get(unit_id)
        areas_of.setdefault(owner, []).append(area_id)
    made = 0
    hour = timedelta(hours=1)
    day0 = now.replace(hour=0, minute=0, second=0, microsecond=0)  # 08:00 in Beijing
    for owner in owners:
        pool = sorted(areas_of.get(owner.id, []))
        if not pool:
            continue
        for offset, how in DEMO_OUTAGES:
            if rng.random() < 0.35:
                continue
            starts = day0 + timedelta(days=offset) + int(rng.integers(0, 2)) * hour
            ends = starts + int(rng.integers(4, 9)) * hour
            picked = sorted(int(a) for a in rng.choice(pool, size=min(len(pool), int(rng.integers(1, 4))),
                                                     replace=False))
            reason = OUTAGE_REASONS[int(rng.integers(len(OUTAGE_REASONS)))]
            created = starts - timedelta(days=12)
            outage = service.create_outage(session, None, service.OutageInput(
                kind="planned", reason=reason, starts_at=starts, ends_at=ends, area_ids=picked),
                now=min(created, now - hour))
            made += 1
            if how == "draft":
                continue
            service.outage_step(session, None, outage.id, None, "approve",
                                now=min(created + timedelta(days=1), now - hour))
            if how == "approved":
                continue
            told = starts - timedelta(days=8) if how == "in_time" else starts - timedelta(days=3)
            service.outage_step(session, None, outage.id, None, "announce", now=min(told, now))
            if starts <= now:
                service.outage_step(session, None, outage.id, None, "start", now=starts)
                service.outage_step(session, None, outage.id, None, "end", now=ends)
        if owner.kind == UnitKind.SERVICE_STATION.value and owner.id == owners[0].id:
            starts = now - 2 * hour
            service.create_outage(session, None, service.OutageInput(
                kind="fault", reason="配电变压器低压侧故障抢修", starts_at=starts,
                ends_at=starts + 6 * hour, area_ids=pool[:1]), now=starts + timedelta(minutes=10))
            made += 1
    # Notices of the past were delivered when they were sent.
    session.execute(update(OutageNotice).where(OutageNotice.created_at < now - hour)
                    .values(status=NoticeStatus.SENT.value, sent_at=OutageNotice.created_at,
                            attempts=1))
    return made

