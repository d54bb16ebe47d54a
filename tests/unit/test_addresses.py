"""Reading a customer's address: the gazetteer finds the district, the street (whatever road
suffix, full-width digits or spaces were typed) and the number, and places it along the
street; what it cannot place it names, with close names to try."""

from __future__ import annotations

import pytest
import shapely
from shapely.geometry import shape
from sqlalchemy import select

from station_portal.org.addresses import (
    AddressNotFound,
    Gazetteer,
    chinese_number,
    gazetteer,
    house_number,
    locate,
)
from station_portal.org.models import Unit
from station_portal.org.territory import TerritoryIndex

SMALL = """
province = "吉林省"
city = "吉林市"

[[district]]
name = "昌邑区"
name_en = "Changyi District"
county = "CY"

[[district.town]]
name = "孤店子镇"

[[district.street]]
name = "重庆街"
numbers = [1, 101]
line = [[43.0, 126.0], [43.01, 126.0], [43.01, 126.0137]]

[[district.street]]
name = "吉林大街"
numbers = [1, 99]
line = [[43.1, 126.0], [43.2, 126.0]]

[[district.street]]
name = "兴隆村"
town = "孤店子镇"
numbers = [1, 60]
line = [[43.5, 126.0], [43.5, 126.02]]

[[district]]
name = "丰满区"
name_en = "Fengman District"
county = "FM"

[[district.street]]
name = "吉林大街"
numbers = [100, 300]
line = [[42.9, 126.0], [42.8, 126.0]]

[[district.street]]
name = "华山路"
numbers = [1, 50]
line = [[42.5, 126.0], [42.5, 126.1]]
"""


@pytest.fixture
def small() -> Gazetteer:
    return Gazetteer.from_toml(SMALL)


@pytest.mark.parametrize("address", [
    "吉林市昌邑区重庆街51号", "昌邑区 重庆街 51号", "吉林省吉林市昌邑区重庆路５１号",
    "昌邑区　重庆大街　51", "昌邑重庆街第51号", "重庆街51号3单元201", "昌邑区重庆街五十一号",
    "昌邑区延安街道重庆街51号",
])
def test_one_line_addresses_in_their_many_spellings_find_the_same_house(small, address):
    match = small.resolve(address)
    assert (match.district.name, match.street.name, match.number) == ("昌邑区", "重庆街", 51)
    # No. 51 of 1–101 is half-way along the street: the corner of its two stretches of
    # about 1.1 km each (a degree of longitude is shorter than one of latitude up here).
    assert match.lat == pytest.approx(43.01, abs=2e-4) and match.lon == pytest.approx(126.0, abs=2e-4)
    assert match.label() == "昌邑区重庆街51号"


def test_district_street_and_number_given_apart(small):
    match = small.resolve(district="昌邑", street=" 重庆 ", number="１号")
    assert (match.street.name, match.number, match.lat, match.lon) == ("重庆街", 1, 43.0, 126.0)
    assert not match.exact and match.typed == "重庆"
    assert small.resolve("丰满区华山路1号", street="重庆街", number="101").street.name == "重庆街", \
        "the street given apart wins over the one-line address"


def test_without_a_number_the_middle_of_the_street(small):
    match = small.resolve("孤店子镇兴隆村")
    assert match.number is None and match.lon == pytest.approx(126.01)
    assert match.label() == "昌邑区孤店子镇兴隆村"


def test_the_stretch_that_has_the_number_is_chosen_and_else_the_district_is_asked(small):
    assert small.resolve("吉林大街200号").district.name == "丰满区"
    assert small.resolve("吉林大街50号").district.name == "昌邑区"
    with pytest.raises(AddressNotFound) as asked:
        small.resolve("吉林大街")
    assert "丰满区" in asked.value.message and "昌邑区" in asked.value.message
    assert set(asked.value.suggestions) == {"丰满区吉林大街", "昌邑区吉林大街"}


def test_an_unknown_street_is_named_with_close_names(small):
    with pytest.raises(AddressNotFound) as refused:
        small.resolve("昌邑区重仸街8号")
    assert refused.value.message == "We did not find 重仸街 in 昌邑区. Did you mean: 重庆街?"
    assert refused.value.field == "address" and refused.value.suggestions == ("重庆街",)
    with pytest.raises(AddressNotFound) as subdistrict:
        small.resolve("昌邑区重庆街道长江路5号")
    assert "长江路" in subdistrict.value.message, "重庆街道 is a sub-district, not 重庆街"
    with pytest.raises(AddressNotFound) as elsewhere:
        small.resolve("丰满区重庆路8号")
    assert "昌邑区重庆街" in elsewhere.value.message, "the same street in another district"
    with pytest.raises(AddressNotFound) as nothing_close:
        small.resolve("", district="丰满区", street="长江路", number="3")
    assert nothing_close.value.field == "street"
    assert "长江路" in nothing_close.value.message and "map" in nothing_close.value.message


def test_unknown_districts_and_numbers_are_refused_on_their_field(small):
    with pytest.raises(AddressNotFound) as district:
        small.resolve(district="昌邑县", street="重庆街", number="8")
    assert district.value.field == "district" and "昌邑区" in district.value.suggestions
    with pytest.raises(AddressNotFound) as number:
        small.resolve(district="昌邑区", street="重庆街", number="999")
    assert number.value.field == "house_number" and "1 to 101" in number.value.message
    with pytest.raises(AddressNotFound) as letters:
        small.resolve(district="昌邑区", street="重庆街", number="abc")
    assert letters.value.field == "house_number"


@pytest.mark.parametrize("junk", ["", "   ", None, 42, ["重庆街"], "\x00\ud800" * 300, "号" * 500,
                                  "昌邑区", "吉林市", "1234567890" * 30])
def test_junk_is_refused_with_a_message_never_an_error(small, junk):
    with pytest.raises(AddressNotFound) as refused:
        small.resolve(junk)
    assert refused.value.message and "\x00" not in refused.value.message


def test_numbers_in_digits_and_in_chinese():
    assert [house_number(t) for t in ("8", "８号", "No. 8", "8-2", "第十二号", "x")] == \
        [8, 8, 8, 8, 12, None]
    assert [chinese_number(t) for t in ("八", "十二", "二十", "一百零五", "二〇八", "abc")] == \
        [8, 12, 20, 105, 208, None]


def test_a_broken_gazetteer_is_refused_when_read():
    with pytest.raises(ValueError, match="not a town"):
        Gazetteer.from_toml(SMALL.replace('town = "孤店子镇"', 'town = "月亮镇"'))


def test_every_station_and_grid_of_the_demo_city_has_streets_that_route_to_it(db):
    """Every point of every street lies in a territory of its own district's company, and
    each station and grid has at least one street."""
    places = gazetteer()
    with db.read() as s:
        index = TerritoryIndex.load(s)
        units = {u.id: u for u in s.scalars(select(Unit).where(
            Unit.kind.in_(["service_station", "grid"])))}
        has_streets = set()
        for street in places.streets():
            district = places.districts[street.district]
            line = shapely.LineString([(lon, lat) for lat, lon in street.line])
            owners = {index.route_location(p.y, p.x).unit_id
                      for p in (line.interpolate(i / 10, normalized=True) for i in range(11))}
            assert len(owners) == 1, street
            owner = units[owners.pop()]
            assert owner.code.startswith(f"JL-{district.county}-"), (street.name, owner.code)
            has_streets.add(owner.id)
        assert has_streets == set(units), sorted(units[i].code for i in set(units) - has_streets)
        first = places.resolve("吉林市昌邑区重庆街8号")
        assert shape(units[index.route_location(first.lat, first.lon).unit_id].territory) \
            .contains(shapely.Point(first.lon, first.lat))
        located = locate(places, index, "永吉县岔路河镇黄榆村3号")
        assert units[located.unit.unit_id].code.startswith("JL-YJ-CLH-G")
