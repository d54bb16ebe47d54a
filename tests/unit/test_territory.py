"""A location routes to the station or grid whose territory holds it."""

import numpy as np
import pytest
from sqlalchemy import select

from station_portal.db import Database
from station_portal.org.models import Unit
from station_portal.org.territory import InvalidLocation, TerritoryIndex, route_location


@pytest.fixture(scope="module")
def index(db: Database) -> TerritoryIndex:
    with db.read() as s:
        return TerritoryIndex.load(s)


@pytest.mark.parametrize(("lat", "lon", "code", "area"), [
    (43.8817, 126.5744, "JL-CY-S", "urban"),      # Changyi district seat
    (43.8338, 126.5410, "JL-CH-S", "urban"),      # Chuanying district seat
    (43.6720, 126.4970, "JL-YJ-S", "urban"),      # Kouqian, Yongji county seat
])
def test_urban_points_route_to_their_station(index, lat, lon, code, area):
    routed = index.route_location(lat, lon)
    assert routed.code == code and routed.kind == "service_station" and routed.area_type == area


def test_a_rural_town_routes_to_a_grid_of_its_supply_office(index):
    routed = index.route_location(43.9730, 126.4580)  # Gudianzi town
    assert routed.kind == "grid" and routed.code.startswith("JL-CY-GDZ-G")


def test_far_mountain_grids_are_remote(index):
    assert index.route_location(43.4480, 126.5750).area_type == "remote"  # Beidahu


def test_outside_the_service_area_routes_nowhere(index):
    assert index.route_location(39.9, 116.4) is None  # Beijing


@pytest.mark.parametrize("bad", [(None, 1), ("north", 126.5), (91, 126), (43, 181),
                                 (float("nan"), 126.5), (43.8, float("inf"))])
def test_invalid_coordinates_are_refused(index, bad):
    with pytest.raises(InvalidLocation):
        index.route_location(*bad)


def test_every_grid_centre_routes_to_its_own_grid(db, index):
    with db.read() as s:
        grids = s.execute(select(Unit.id, Unit.lat, Unit.lon).where(Unit.kind == "grid")).all()
    assert grids
    for unit_id, lat, lon in grids:
        assert index.route_location(lat, lon).unit_id == unit_id


def test_batch_routing_agrees_with_single_lookups(index):
    rng = np.random.default_rng(3)
    lats = rng.uniform(43.3, 44.3, 2000)
    lons = rng.uniform(125.9, 127.0, 2000)
    batch = index.route_many(lats, lons)
    single = [(r.unit_id if (r := index.route_location(a, o)) else -1)
              for a, o in zip(lats, lons, strict=True)]
    assert batch.tolist() == single
    assert (batch > 0).sum() > 500  # most of the box is service area


def test_route_location_helper_reads_the_database(db):
    with db.read() as s:
        assert route_location(s, 43.8817, 126.5744).code == "JL-CY-S"
