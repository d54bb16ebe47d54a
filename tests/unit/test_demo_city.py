"""The demo city: a realistic organisation on Jilin's geography, the same for the same seed."""

import hashlib
import itertools

import shapely
from shapely.geometry import shape
from sqlalchemy import func, select

from station_portal.auth.models import User
from station_portal.db import Database
from station_portal.demo.city import build_demo_city
from station_portal.org.models import Client, Crew, CrewMember, Staff, Unit, UnitKind
from tests.helpers import fresh_database


def count(session, model, *where):
    return session.scalar(select(func.count()).select_from(model).where(*where))


def test_the_city_has_the_restructured_organisation(db: Database):
    with db.read() as s:
        kinds = dict(s.execute(select(Unit.kind, func.count()).group_by(Unit.kind)).all())
        assert kinds[UnitKind.CITY_COMPANY] == 1
        assert kinds[UnitKind.SERVICE_STATION] >= 4
        assert kinds[UnitKind.SUPPLY_OFFICE] >= 6
        assert kinds[UnitKind.GRID] >= 20
        assert kinds[UnitKind.METERING_TEAM] == kinds[UnitKind.COUNTY_COMPANY]
        # every station has exactly its three groups
        for station in s.scalars(select(Unit).where(Unit.kind == UnitKind.SERVICE_STATION)):
            assert sorted(c.kind for c in station.children) == sorted(
                [UnitKind.OFFICE_GROUP, UnitKind.LV_REPAIR_GROUP, UnitKind.FIELD_GROUP])
        assert 280 <= count(s, Staff) <= 330


def test_every_repair_group_and_grid_has_crews_of_its_own_staff(db: Database):
    with db.read() as s:
        for unit in s.scalars(select(Unit).where(
                Unit.kind.in_([UnitKind.LV_REPAIR_GROUP, UnitKind.GRID]))):
            crews = s.scalars(select(Crew).where(Crew.unit_id == unit.id)).all()
            assert crews, unit.code
            for crew in crews:
                assert crew.members and all(m.staff.unit_id == unit.id for m in crew.members)
                assert sum(m.is_leader for m in crew.members) == 1
        assert count(s, CrewMember) == len(set(s.scalars(select(CrewMember.staff_id))))


def test_territories_do_not_overlap_and_lie_in_jilin(db: Database):
    with db.read() as s:
        polygons = [shape(t) for t in s.scalars(
            select(Unit.territory).where(Unit.kind.in_(["service_station", "grid"])))]
    assert all(p.is_valid and p.area > 0 for p in polygons)
    for a, b in itertools.combinations(polygons, 2):
        assert a.intersection(b).area < 1e-6  # rounding slivers only (under ~0.01 km²)
    minx, miny, maxx, maxy = shapely.union_all(polygons).bounds
    assert 125.5 < minx < maxx < 127.5 and 43.0 < miny < maxy < 44.7


def test_demo_accounts_exist_one_per_role(db: Database):
    with db.read() as s:
        roles = dict(s.execute(select(User.username, User.role)).all())
    assert {k: roles[k] for k in ("admin", "manager", "head", "gridmgr", "account", "crew",
                                  "clerk")} == {
        "admin": "admin", "manager": "company_manager", "head": "station_head",
        "gridmgr": "grid_manager", "account": "account_manager", "crew": "crew", "clerk": "clerk"}


def _digest(db: Database) -> str:
    with db.read() as s:
        rows = [repr(r) for r in s.execute(select(Unit.code, Unit.name_zh, Unit.territory)
                                           .order_by(Unit.id)).all()]
        rows += [repr(r) for r in s.execute(select(Staff.employee_no, Staff.name_zh, Staff.phone)
                                            .order_by(Staff.id)).all()]
        rows += [repr(r) for r in s.execute(select(Client.code, Client.lat, Client.unit_id)
                                            .order_by(Client.id)).all()]
    return hashlib.sha256("\n".join(rows).encode()).hexdigest()


def test_the_same_seed_gives_the_same_city_and_another_seed_another(tmp_path):
    digests = []
    for seed in (7, 7, 8):
        database = fresh_database("sqlite", tmp_path)
        with database.write() as s:
            build_demo_city(s, seed=seed, demo_mode=False)
        digests.append(_digest(database))
        database.dispose()
    assert digests[0] == digests[1]
    assert digests[0] != digests[2]


def test_production_seed_creates_no_demo_accounts(tmp_path):
    database = fresh_database("sqlite", tmp_path)
    with database.write() as s:
        report = build_demo_city(s, seed=1, demo_mode=False)
    with database.read() as s:
        assert count(s, User) == 0
    assert report.users == []
