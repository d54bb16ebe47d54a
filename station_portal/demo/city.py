"""The demo city: a deterministic organisation on Jilin city's real geography.

``build_demo_city(session, seed=N)`` creates the city company, five
county-level companies, an urban service station in each (with its three
groups), two rural supply offices each with their grids, a metering team per
county, about 300 staff with crews, the industrial parks with their
enterprises, VIP clients, and the seven demo accounts. Territories are
Voronoi cells around the real district seats and towns
(``data/demo_city/jilin.toml``), clipped to urban cores and the service area.

The same seed always gives the same city (ids, names, phones, polygons).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import shapely
from shapely.geometry import mapping
from sqlalchemy import select
from sqlalchemy.orm import Session

from station_portal.auth.models import User
from station_portal.auth.passwords import DEMO_PASSWORD
from station_portal.auth.roles import Role
from station_portal.datafiles import DataFile, read_toml
from station_portal.demo.network import NetworkReport, seed_network
from station_portal.org.models import (
    AreaType,
    Client,
    Crew,
    CrewMember,
    IndustrialPark,
    Skill,
    Staff,
    StaffPosition,
    Unit,
    UnitKind,
)
from station_portal.org.territory import TerritoryIndex
from station_portal.org.tree import assign_paths
from station_portal.services.users import UserInput, create_user

# How often account managers visit their clients (recurring-visit job).
VIP_VISIT_DAYS = 14
PARK_VISIT_DAYS = 30

KM_PER_DEG_LAT = 110.574

SURNAMES = [
    ("王", "Wang"), ("李", "Li"), ("张", "Zhang"), ("刘", "Liu"), ("陈", "Chen"), ("杨", "Yang"),
    ("赵", "Zhao"), ("黄", "Huang"), ("周", "Zhou"), ("吴", "Wu"), ("徐", "Xu"), ("孙", "Sun"),
    ("马", "Ma"), ("朱", "Zhu"), ("胡", "Hu"), ("郭", "Guo"), ("何", "He"), ("林", "Lin"),
    ("高", "Gao"), ("罗", "Luo"), ("郑", "Zheng"), ("梁", "Liang"), ("谢", "Xie"), ("宋", "Song"),
    ("唐", "Tang"), ("韩", "Han"), ("冯", "Feng"), ("于", "Yu"), ("董", "Dong"), ("曹", "Cao"),
    ("金", "Jin"), ("崔", "Cui"), ("姜", "Jiang"), ("白", "Bai"), ("孟", "Meng"), ("秦", "Qin"),
]
GIVEN = [
    ("伟", "Wei"), ("芳", "Fang"), ("娜", "Na"), ("敏", "Min"), ("静", "Jing"), ("丽", "Li"),
    ("强", "Qiang"), ("磊", "Lei"), ("军", "Jun"), ("洋", "Yang"), ("勇", "Yong"), ("艳", "Yan"),
    ("杰", "Jie"), ("涛", "Tao"), ("明", "Ming"), ("超", "Chao"), ("秀英", "Xiuying"),
    ("霞", "Xia"), ("平", "Ping"), ("刚", "Gang"), ("桂英", "Guiying"), ("建国", "Jianguo"),
    ("海峰", "Haifeng"), ("志强", "Zhiqiang"), ("宏", "Hong"), ("鹏", "Peng"), ("晓东", "Xiaodong"),
    ("雪", "Xue"), ("春雨", "Chunyu"), ("立新", "Lixin"), ("玉兰", "Yulan"), ("国庆", "Guoqing"),
    ("振华", "Zhenhua"), ("德胜", "Desheng"), ("丹", "Dan"), ("博", "Bo"), ("宇", "Yu"),
    ("浩", "Hao"), ("佳", "Jia"), ("欣", "Xin"), ("红梅", "Hongmei"), ("长春", "Changchun"),
]
FIRM_WORDS = [
    ("松江", "Songjiang"), ("北山", "Beishan"), ("江城", "Jiangcheng"), ("雾凇", "Wusong"),
    ("长白", "Changbai"), ("松花", "Songhua"), ("金珠", "Jinzhu"), ("永丰", "Yongfeng"),
    ("华信", "Huaxin"), ("恒通", "Hengtong"), ("东福", "Dongfu"), ("瑞达", "Ruida"),
    ("宏远", "Hongyuan"), ("天成", "Tiancheng"), ("鑫源", "Xinyuan"), ("嘉禾", "Jiahe"),
]
INDUSTRY_SUFFIX = {
    "electronics": ("电子科技有限公司", "Electronics Co., Ltd."),
    "pharma": ("生物制药有限公司", "Biopharma Co., Ltd."),
    "machinery": ("精密机械有限公司", "Precision Machinery Co., Ltd."),
    "new_materials": ("新材料有限公司", "New Materials Co., Ltd."),
    "chemicals": ("化工有限公司", "Chemical Co., Ltd."),
    "logistics": ("物流有限公司", "Logistics Co., Ltd."),
    "food": ("食品有限公司", "Food Co., Ltd."),
}
CHINESE_NUMERALS = "一二三四五六七八九十"

# Skills by position: (always, sometimes).
SKILLS: dict[StaffPosition, tuple[list[Skill], list[Skill]]] = {
    StaffPosition.REPAIR_ELECTRICIAN: (
        [Skill.LV_LINE], [Skill.CABLE, Skill.METERING, Skill.CUSTOMER_INTERNAL, Skill.DRIVING,
                          Skill.LIVE_WORKING, Skill.TRANSFORMER]),
    StaffPosition.GROUP_LEADER: ([Skill.LV_LINE, Skill.DRIVING], [Skill.CABLE, Skill.TRANSFORMER]),
    StaffPosition.FIELD_TECHNICIAN: (
        [Skill.METERING], [Skill.INSPECTION, Skill.LV_LINE, Skill.DRIVING]),
    StaffPosition.GRID_MANAGER: ([Skill.LV_LINE, Skill.DRIVING], [Skill.HV_LINE, Skill.TRANSFORMER]),
    StaffPosition.AREA_MANAGER: ([Skill.LV_LINE, Skill.METERING], [Skill.INSPECTION, Skill.DRIVING]),
    StaffPosition.METER_TECHNICIAN: ([Skill.METERING], [Skill.HV_LINE, Skill.TRANSFORMER]),
}


@dataclass
class DemoCityReport:
    units: int = 0
    staff: int = 0
    crews: int = 0
    parks: int = 0
    clients: int = 0
    users: list[str] = field(default_factory=list)
    network: NetworkReport | None = None


class _Projection:
    """Equirectangular projection around the city centre, in kilometres."""

    def __init__(self, lat0: float, lon0: float) -> None:
        self.lat0, self.lon0 = lat0, lon0
        self.kx = KM_PER_DEG_LAT * math.cos(math.radians(lat0))

    def to_km(self, lat: float, lon: float) -> tuple[float, float]:
        return ((lon - self.lon0) * self.kx, (lat - self.lat0) * KM_PER_DEG_LAT)

    def to_lonlat(self, geom: shapely.Geometry) -> shapely.Geometry:
        def transform(coords: np.ndarray) -> np.ndarray:
            out = np.empty_like(coords)
            out[:, 0] = np.round(coords[:, 0] / self.kx + self.lon0, 5)
            out[:, 1] = np.round(coords[:, 1] / KM_PER_DEG_LAT + self.lat0, 5)
            return out

        return shapely.transform(geom, transform)


CITY_FILE = DataFile("demo_city/jilin.toml", read_toml)  # the demo geography


class _Generator:
    def __init__(self, session: Session, seed: int, progress: Callable[[str], None]) -> None:
        self.s = session
        self.rng = np.random.default_rng(seed)
        self.progress = progress
        self.geo = CITY_FILE.get()
        lat0, lon0 = self.geo["centre"]
        self.proj = _Projection(lat0, lon0)
        self.report = DemoCityReport()
        self.staff_seq = 0
        self.used_names: set[str] = set()

    # -- helpers ---------------------------------------------------------
    def pick(self, items: list) -> Any:
        return items[int(self.rng.integers(len(items)))]

    def person_name(self) -> tuple[str, str]:
        for _attempt in range(50):
            surname, given = self.pick(SURNAMES), self.pick(GIVEN)
            zh = surname[0] + given[0]
            if zh not in self.used_names:
                break
        self.used_names.add(zh)
        return zh, f"{surname[1]} {given[1]}"

    def mobile(self) -> str:
        return f"13{int(self.rng.integers(0, 10))}{int(self.rng.integers(10**7, 10**8)):08d}"

    def landline(self) -> str:
        return f"0432-6{int(self.rng.integers(10**6, 10**7)):07d}"

    def unit(self, code: str, kind: UnitKind, name_zh: str, name_en: str, parent: Unit | None,
             order: int, **extra: Any) -> Unit:
        unit = Unit(code=code, kind=kind.value, name_zh=name_zh, name_en=name_en,
                    parent=parent, sort_order=order, path="/", **extra)
        self.s.add(unit)
        self.s.flush()  # ids follow creation order, so a seed always gives the same ids
        self.report.units += 1
        return unit

    def person(self, unit: Unit, position: StaffPosition, county: str) -> Staff:
        self.staff_seq += 1
        zh, latin = self.person_name()
        always, sometimes = SKILLS.get(position, ([], []))
        skills = list(always) + [s for s in sometimes if self.rng.random() < 0.4]
        staff = Staff(employee_no=f"JL{county}{self.staff_seq:04d}", name_zh=zh, name_latin=latin,
                      unit=unit, position=position.value, skills=[s.value for s in skills],
                      phone=self.mobile(), active=True)
        self.s.add(staff)
        self.report.staff += 1
        return staff

    def crew(self, code: str, unit: Unit, members: list[Staff]) -> Crew:
        plate = f"吉B·{int(self.rng.integers(10000, 99999))}"
        crew = Crew(code=code, unit=unit, vehicle=plate, active=True)
        crew.members = [CrewMember(staff=m, is_leader=(i == 0)) for i, m in enumerate(members)]
        self.s.add(crew)
        self.report.crews += 1
        return crew

    # -- the organisation ------------------------------------------------
    def build_units(self) -> None:
        g = self.geo
        self.city = self.unit(g["city_code"], UnitKind.CITY_COMPANY, g["name_zh"], g["name_en"],
                              None, 0, lat=g["centre"][0], lon=g["centre"][1],
                              address=g["address"], phone=self.landline())
        self.counties: list[tuple[dict, Unit]] = []
        self.stations: list[tuple[dict, Unit, dict[UnitKind, Unit]]] = []
        self.offices: list[tuple[dict, Unit]] = []
        self.metering: list[Unit] = []
        for ci, county in enumerate(g["county"]):
            ccode = f"{g['city_code']}-{county['code']}"
            cunit = self.unit(ccode, UnitKind.COUNTY_COMPANY, county["name_zh"], county["name_en"],
                              self.city, ci, phone=self.landline())
            self.counties.append((county, cunit))
            st = county["station"]
            sunit = self.unit(f"{ccode}-{st['code']}", UnitKind.SERVICE_STATION, st["name_zh"],
                              st["name_en"], cunit, 0, lat=st["at"][0], lon=st["at"][1],
                              address=st.get("address"), area_type=AreaType.URBAN.value,
                              phone=self.landline())
            groups = {}
            for gi, (kind, zh, en, suffix) in enumerate([
                (UnitKind.OFFICE_GROUP, "内勤服务组", "Office Services Group", "OFF"),
                (UnitKind.LV_REPAIR_GROUP, "低压抢修组", "Low-voltage Repair Group", "LVR"),
                (UnitKind.FIELD_GROUP, "外勤服务组", "Field Services Group", "FLD"),
            ]):
                groups[kind] = self.unit(
                    f"{sunit.code}-{suffix}", kind, f"{st['name_zh']}{zh}",
                    f"{st['name_en']} – {en}", sunit, gi, area_type=AreaType.URBAN.value,
                    phone=self.landline() if kind is UnitKind.LV_REPAIR_GROUP else None)
            self.stations.append((st | {"county": county["code"]}, sunit, groups))
            for oi, office in enumerate(county["offices"]):
                ounit = self.unit(f"{ccode}-{office['code']}", UnitKind.SUPPLY_OFFICE,
                                  office["name_zh"], office["name_en"], cunit, 1 + oi,
                                  lat=office["at"][0], lon=office["at"][1],
                                  address=office["name_zh"].removesuffix("供电所") + "镇",
                                  area_type=AreaType.RURAL.value, phone=self.landline())
                self.offices.append((office | {"county": county["code"]}, ounit))
            self.metering.append(self.unit(
                f"{ccode}-MT", UnitKind.METERING_TEAM, f"{county['name_zh'].removesuffix('供电公司')}计量班",
                f"{county['name_en'].removesuffix(' Power Supply Company')} Metering Team",
                cunit, 9, phone=self.landline()))
        self.progress("units")

    # -- territories -----------------------------------------------------
    def build_territories(self) -> None:
        g, proj = self.geo, self.proj
        pts = [st["at"] for st, _u, _g in self.stations] + [o["at"] for o, _u in self.offices]
        pts += [p["at"] for p in g.get("park", [])]
        margin = g["service_area_margin_km"]
        area = shapely.union_all(
            [shapely.Point(*proj.to_km(*p)).buffer(margin, quad_segs=8) for p in pts]
        ).simplify(0.4)

        station_pts, cores = [], []
        for st, _unit, _groups in self.stations:
            centre = shapely.Point(*proj.to_km(*st["at"]))
            radius = g["county_seat_core_km"] if st.get("core") == "county_seat" else g["urban_core_km"]
            station_pts.append(centre)
            cores.append(centre.buffer(radius, quad_segs=16))
        core_union = shapely.union_all(cores)
        station_cells = self._voronoi(station_pts, core_union)
        for (_st, unit, _groups), cell in zip(self.stations, station_cells, strict=True):
            unit.territory = mapping(proj.to_lonlat(cell))

        rural = area.difference(core_union)
        office_pts = [shapely.Point(*proj.to_km(*o["at"])) for o, _u in self.offices]
        office_cells = self._voronoi(office_pts, rural)
        remote_km = g["remote_beyond_km"]
        for (office, ounit), cell in zip(self.offices, office_cells, strict=True):
            ounit.territory = mapping(proj.to_lonlat(cell))
            for gi, grid_cell in enumerate(self._split(cell, office["grids"])):
                centre = grid_cell.representative_point()
                remote = math.hypot(centre.x, centre.y) > remote_km
                area_type = AreaType.REMOTE if remote else AreaType.RURAL
                lonlat = proj.to_lonlat(centre)
                self.unit(
                    f"{ounit.code}-G{gi + 1}", UnitKind.GRID,
                    f"{office['name_zh'].removesuffix('供电所')}{CHINESE_NUMERALS[gi]}网格",
                    f"{office['name_en'].removesuffix(' Supply Office')} Grid {gi + 1}",
                    ounit, gi, territory=mapping(proj.to_lonlat(grid_cell)),
                    lat=round(lonlat.y, 5), lon=round(lonlat.x, 5), area_type=area_type.value,
                    phone=self.mobile())
        self.progress("territories")

    @staticmethod
    def _voronoi(points: list[shapely.Point], clip: shapely.Geometry) -> list[shapely.Geometry]:
        cells = shapely.voronoi_polygons(
            shapely.MultiPoint(points), extend_to=clip.envelope.buffer(50), ordered=True
        )
        return [shapely.make_valid(c.intersection(clip)) for c in cells.geoms]

    def _split(self, cell: shapely.Geometry, k: int) -> list[shapely.Geometry]:
        """Cut a supply office's territory into ``k`` compact grids (k-means, then Voronoi)."""
        minx, miny, maxx, maxy = cell.bounds
        samples = []
        while len(samples) < 600:
            xy = self.rng.uniform((minx, miny), (maxx, maxy), size=(400, 2))
            inside = shapely.contains_xy(cell, xy[:, 0], xy[:, 1])
            samples.extend(xy[inside].tolist())
        pts = np.array(samples[:600])
        centres = pts[self.rng.choice(len(pts), size=k, replace=False)]
        for _iteration in range(25):
            nearest = np.argmin(((pts[:, None, :] - centres[None, :, :]) ** 2).sum(-1), axis=1)
            centres = np.array([
                pts[nearest == j].mean(axis=0) if np.any(nearest == j) else centres[j]
                for j in range(k)
            ])
        order = np.lexsort((centres[:, 0], -centres[:, 1]))  # number grids north to south
        return self._voronoi([shapely.Point(*centres[j]) for j in order], cell)

    # -- people and crews ------------------------------------------------
    def build_people(self) -> None:
        self.city_managers = [self.person(self.city, StaffPosition.COMPANY_MANAGER, "00")
                              for _i in range(3)]
        self.account_managers: list[Staff] = [
            self.person(self.city, StaffPosition.ACCOUNT_MANAGER, "00") for _i in range(2)]
        for county, cunit in self.counties:
            self.person(cunit, StaffPosition.COUNTY_MANAGER, county["code"])
            self.account_managers += [
                self.person(cunit, StaffPosition.ACCOUNT_MANAGER, county["code"]) for _i in range(2)]
        self.station_heads: list[Staff] = []
        self.first_crew_leaders: list[Staff] = []
        for st, sunit, groups in self.stations:
            cc = st["county"]
            self.station_heads.append(self.person(sunit, StaffPosition.STATION_HEAD, cc))
            office = groups[UnitKind.OFFICE_GROUP]
            self.person(office, StaffPosition.GROUP_LEADER, cc)
            for _i in range(5):
                self.person(office, StaffPosition.OFFICE_CLERK, cc)
            repair = groups[UnitKind.LV_REPAIR_GROUP]
            crew_staff = [self.person(repair, StaffPosition.GROUP_LEADER, cc)]
            crew_staff += [self.person(repair, StaffPosition.REPAIR_ELECTRICIAN, cc) for _i in range(9)]
            for n in range(5):
                self.crew(f"{sunit.code}-R{n + 1}", repair, crew_staff[2 * n: 2 * n + 2])
            self.first_crew_leaders.append(crew_staff[0])
            field_group = groups[UnitKind.FIELD_GROUP]
            fstaff = [self.person(field_group, StaffPosition.GROUP_LEADER, cc)]
            fstaff += [self.person(field_group, StaffPosition.FIELD_TECHNICIAN, cc) for _i in range(7)]
            for n in range(4):
                self.crew(f"{sunit.code}-F{n + 1}", field_group, fstaff[2 * n: 2 * n + 2])
        self.office_heads: list[Staff] = []
        grids_by_office: dict[int, list[Unit]] = {}
        for grid in self.s.scalars(select(Unit).where(Unit.kind == UnitKind.GRID)):
            grids_by_office.setdefault(grid.parent_id, []).append(grid)
        for office, ounit in self.offices:
            cc = office["county"]
            self.office_heads.append(self.person(ounit, StaffPosition.OFFICE_HEAD, cc))
            for _i in range(3):
                self.person(ounit, StaffPosition.OFFICE_CLERK, cc)
            for grid in sorted(grids_by_office[ounit.id], key=lambda u: u.code):
                members = [self.person(grid, StaffPosition.GRID_MANAGER, cc)]
                members += [self.person(grid, StaffPosition.AREA_MANAGER, cc) for _i in range(2)]
                self.crew(f"{grid.code}-C", grid, members)
        for (county, _cunit), team in zip(self.counties, self.metering, strict=True):
            techs = [self.person(team, StaffPosition.METER_TECHNICIAN, county["code"])
                     for _i in range(5)]
            self.crew(f"{team.code}-1", team, techs[:3])
            self.crew(f"{team.code}-2", team, techs[3:])
        self.progress("staff and crews")

    # -- parks and clients -------------------------------------------------
    def build_clients(self) -> None:
        self.s.flush()
        assign_paths(self.s)
        self.s.flush()
        index = TerritoryIndex.load(self.s)

        def owner(lat: float, lon: float) -> int:
            routed = index.route_location(lat, lon)
            if routed is None:
                raise RuntimeError(f"demo place {lat},{lon} lies outside every territory")
            return routed.unit_id

        seq = 0
        for park in self.geo.get("park", []):
            lat, lon = park["at"]
            punit = IndustrialPark(code=f"P-{park['code']}", name_zh=park["name_zh"],
                                   name_en=park["name_en"], unit_id=owner(lat, lon), lat=lat, lon=lon)
            self.s.add(punit)
            self.s.flush()
            self.report.parks += 1
            for _i in range(int(self.rng.integers(4, 7))):
                seq += 1
                industry = self.pick(park["industries"])
                word = self.pick(FIRM_WORDS)
                zh_suffix, en_suffix = INDUSTRY_SUFFIX[industry]
                clat = round(lat + float(self.rng.normal(0, 0.008)), 5)
                clon = round(lon + float(self.rng.normal(0, 0.011)), 5)
                contact = self.person_name()
                self.s.add(Client(
                    code=f"C{seq:04d}", name_zh=f"吉林{word[0]}{zh_suffix}",
                    name_en=f"Jilin {word[1]} {en_suffix}", kind="park", industry=industry,
                    park_id=punit.id, unit_id=owner(clat, clon), lat=clat, lon=clon,
                    contact_name=contact[0], contact_phone=self.mobile(),
                    visit_every_days=PARK_VISIT_DAYS))
                self.report.clients += 1
        for vip in self.geo.get("vip", []):
            seq += 1
            lat, lon = vip["near"]
            contact = self.person_name()
            self.s.add(Client(
                code=f"C{seq:04d}", name_zh=vip["name_zh"], name_en=vip["name_en"], kind="vip",
                industry=vip["industry"], park_id=None, unit_id=owner(lat, lon), lat=lat, lon=lon,
                contact_name=contact[0], contact_phone=self.mobile(),
                visit_every_days=VIP_VISIT_DAYS))
            self.report.clients += 1
        self.s.flush()
        self.progress("parks and clients")

    # -- demo accounts -----------------------------------------------------
    def build_accounts(self) -> None:
        first_station = self.stations[0][1]
        first_office = self.offices[0][1]
        clients = list(self.s.scalars(select(Client.id).order_by(Client.code)))
        # The account manager looks after the first park's enterprises and two VIPs.
        first_park_clients = list(self.s.scalars(
            select(Client.id).join(IndustrialPark).where(IndustrialPark.code == "P-HTZ")))
        vips = list(self.s.scalars(select(Client.id).where(Client.kind == "vip").order_by(Client.code)))
        account_clients = tuple(first_park_clients + vips[:2]) or tuple(clients[:6])
        accounts = [
            ("admin", "系统管理员", Role.ADMIN, None, None, ()),
            ("manager", self.city_managers[0].name_zh, Role.COMPANY_MANAGER, self.city.id,
             self.city_managers[0].id, ()),
            ("head", self.station_heads[0].name_zh, Role.STATION_HEAD, first_station.id,
             self.station_heads[0].id, ()),
            ("gridmgr", self.office_heads[0].name_zh, Role.GRID_MANAGER, first_office.id,
             self.office_heads[0].id, ()),
            ("account", self.account_managers[2].name_zh, Role.ACCOUNT_MANAGER, None,
             self.account_managers[2].id, account_clients),
            ("crew", self.first_crew_leaders[0].name_zh, Role.CREW, None,
             self.first_crew_leaders[0].id, ()),
        ]
        # The counter clerk works at the city-centre station (Chuanying), home of the A hall.
        hall_station, groups = self.stations[1][1], self.stations[1][2]
        clerk = self.s.scalars(select(Staff).where(
            Staff.unit_id == groups[UnitKind.OFFICE_GROUP].id,
            Staff.position == StaffPosition.OFFICE_CLERK.value).order_by(Staff.id)).first()
        accounts.append(("clerk", clerk.name_zh if clerk else "营业员", Role.CLERK, hall_station.id,
                         clerk.id if clerk else None, ()))
        for username, display, role, unit_id, staff_id, client_ids in accounts:
            create_user(
                self.s, None, username=username, password=DEMO_PASSWORD,
                data=UserInput(display_name=display, role=role.value, scope_unit_id=unit_id,
                               staff_id=staff_id, client_ids=client_ids),
                allow_demo_password=True, password_is_demo=True,
            )
            self.report.users.append(username)
        self.progress("demo accounts")


def build_demo_city(
    session: Session,
    *,
    seed: int = 7,
    demo_mode: bool = True,
    progress: Callable[[str], None] | None = None,
) -> DemoCityReport:
    """Create the whole demo organisation in ``session`` (the caller commits)."""
    if session.scalar(select(Unit.id).limit(1)) is not None:
        raise RuntimeError("the database already holds an organisation; seed an empty one")
    gen = _Generator(session, seed, progress or (lambda _step: None))
    gen.build_units()
    gen.build_territories()
    gen.build_people()
    gen.build_clients()
    gen.report.network = seed_network(session, seed=seed)
    gen.progress("network")
    if demo_mode:  # demo accounts carry the demo password, refused in production
        gen.build_accounts()
    return gen.report


def database_is_empty(session: Session) -> bool:
    return session.scalar(select(Unit.id).limit(1)) is None and session.scalar(
        select(User.id).limit(1)) is None
