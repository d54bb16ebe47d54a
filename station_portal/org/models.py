"""The organisation after the restructuring: units, staff, crews, clients.

Unit tree: city company (地市公司) → county companies (县公司) → urban service
stations (城区供电服务站) with their three groups, rural supply offices (供电所)
with their grid units (网格), and the county metering team (计量班).

Plain SQLAlchemy models; no Flask or Dash here.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from station_portal.db import Base, utcnow
from station_portal.i18n import BilingualName, get_locale

# 64-bit ids where a table grows without bound; SQLite keeps INTEGER (its INTEGER PRIMARY
# KEY is 64-bit already, and only that exact type autoincrements).
_BIG_ID = BigInteger().with_variant(Integer, "sqlite")


class UnitKind(StrEnum):
    CITY_COMPANY = "city_company"  # 地市供电公司
    COUNTY_COMPANY = "county_company"  # 县（区）供电公司
    SERVICE_STATION = "service_station"  # 城区供电服务站
    OFFICE_GROUP = "office_group"  # 内勤服务组
    LV_REPAIR_GROUP = "lv_repair_group"  # 低压抢修组
    FIELD_GROUP = "field_group"  # 外勤服务组
    SUPPLY_OFFICE = "supply_office"  # 供电所
    GRID = "grid"  # 网格
    METERING_TEAM = "metering_team"  # 计量班


# Units whose territory a location routes to (the leaves of the territory map).
ROUTABLE_KINDS = (UnitKind.SERVICE_STATION, UnitKind.GRID)
STATION_GROUP_KINDS = (UnitKind.OFFICE_GROUP, UnitKind.LV_REPAIR_GROUP, UnitKind.FIELD_GROUP)


class AreaType(StrEnum):
    """Decides the repair arrival commitment (45 / 90 / 120 minutes)."""

    URBAN = "urban"
    RURAL = "rural"
    REMOTE = "remote"


class StaffPosition(StrEnum):
    COMPANY_MANAGER = "company_manager"  # 公司管理人员
    COUNTY_MANAGER = "county_manager"  # 县公司负责人
    STATION_HEAD = "station_head"  # 站长
    GROUP_LEADER = "group_leader"  # 班组长
    OFFICE_CLERK = "office_clerk"  # 内勤/营业员
    REPAIR_ELECTRICIAN = "repair_electrician"  # 抢修电工
    FIELD_TECHNICIAN = "field_technician"  # 外勤服务员
    OFFICE_HEAD = "office_head"  # 供电所长
    GRID_MANAGER = "grid_manager"  # 网格经理
    AREA_MANAGER = "area_manager"  # 台区经理
    ACCOUNT_MANAGER = "account_manager"  # 客户经理
    METER_TECHNICIAN = "meter_technician"  # 计量技术员


class Skill(StrEnum):
    LV_LINE = "lv_line"  # 低压线路
    HV_LINE = "hv_line"  # 高压（10 kV）线路
    CABLE = "cable"  # 电缆
    TRANSFORMER = "transformer"  # 配变
    METERING = "metering"  # 计量装拆
    LIVE_WORKING = "live_working"  # 带电作业
    CUSTOMER_INTERNAL = "customer_internal"  # 客户内部故障
    INSPECTION = "inspection"  # 用电检查
    DRIVING = "driving"  # 驾驶


class Unit(BilingualName, Base):
    """An organisational unit; ``path`` is the materialised chain of ids ("/1/4/9/")."""

    __tablename__ = "units"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    kind: Mapped[str] = mapped_column(String(32), index=True)
    name_zh: Mapped[str] = mapped_column(String(120))
    name_en: Mapped[str] = mapped_column(String(160))
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("units.id"), index=True)
    path: Mapped[str] = mapped_column(String(255), index=True, default="/")
    area_type: Mapped[str | None] = mapped_column(String(16))
    # GeoJSON geometry (Polygon or MultiPolygon, WGS-84 lon/lat) for routable units.
    territory: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    lat: Mapped[float | None] = mapped_column(Float)
    lon: Mapped[float | None] = mapped_column(Float)
    address: Mapped[str | None] = mapped_column(String(200))
    phone: Mapped[str | None] = mapped_column(String(32))  # 24-hour contact number
    sort_order: Mapped[int] = mapped_column(default=0)

    parent: Mapped[Unit | None] = relationship(remote_side=[id], back_populates="children")
    children: Mapped[list[Unit]] = relationship(
        back_populates="parent", order_by="Unit.sort_order"
    )


    def __repr__(self) -> str:
        return f"<Unit {self.code} {self.kind}>"


class Staff(Base):
    """A person in the organisation (not necessarily a portal user)."""

    __tablename__ = "staff"

    id: Mapped[int] = mapped_column(primary_key=True)
    employee_no: Mapped[str] = mapped_column(String(32), unique=True)
    name_zh: Mapped[str] = mapped_column(String(60))
    name_latin: Mapped[str] = mapped_column(String(80))  # pinyin, for the English interface
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id"), index=True)
    position: Mapped[str] = mapped_column(String(32))
    skills: Mapped[list[str]] = mapped_column(JSON, default=list)
    phone: Mapped[str] = mapped_column(String(32))
    active: Mapped[bool] = mapped_column(Boolean, default=True)

    unit: Mapped[Unit] = relationship()
    membership: Mapped[CrewMember | None] = relationship(back_populates="staff")

    def name(self, locale: str | None = None) -> str:
        return self.name_zh if (locale or get_locale()).startswith("zh") else self.name_latin


class Crew(Base):
    """A crew of one or more staff that is dispatched as one (抢修/外勤/网格班组)."""

    __tablename__ = "crews"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id"), index=True)
    vehicle: Mapped[str | None] = mapped_column(String(16))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    on_duty: Mapped[bool] = mapped_column(Boolean, default=True)
    # The last position a member's phone reported (a CrewPing), for the dispatch board.
    last_lat: Mapped[float | None] = mapped_column(Float)
    last_lon: Mapped[float | None] = mapped_column(Float)
    last_seen_at: Mapped[datetime | None]

    unit: Mapped[Unit] = relationship()
    members: Mapped[list[CrewMember]] = relationship(
        back_populates="crew", cascade="all, delete-orphan", order_by="CrewMember.id"
    )


class CrewMember(Base):
    __tablename__ = "crew_members"
    __table_args__ = (UniqueConstraint("staff_id"),)  # one crew per person at a time

    id: Mapped[int] = mapped_column(primary_key=True)
    crew_id: Mapped[int] = mapped_column(ForeignKey("crews.id", ondelete="CASCADE"), index=True)
    staff_id: Mapped[int] = mapped_column(ForeignKey("staff.id"))
    is_leader: Mapped[bool] = mapped_column(Boolean, default=False)

    crew: Mapped[Crew] = relationship(back_populates="members")
    staff: Mapped[Staff] = relationship(back_populates="membership")


class CrewPing(Base):
    """A position reported by a crew member's phone (kept as the crew's track)."""

    __tablename__ = "crew_pings"
    __table_args__ = (Index("ix_crew_pings_crew_at", "crew_id", "at"),
                      # The prune job deletes by age (jobs/retention.py).
                      Index("ix_crew_pings_received_at", "received_at"))

    id: Mapped[int] = mapped_column(_BIG_ID, primary_key=True)
    crew_id: Mapped[int] = mapped_column(ForeignKey("crews.id", ondelete="CASCADE"))
    staff_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id"))
    lat: Mapped[float] = mapped_column(Float)
    lon: Mapped[float] = mapped_column(Float)
    accuracy_m: Mapped[float | None] = mapped_column(Float)
    at: Mapped[datetime]
    received_at: Mapped[datetime] = mapped_column(default=utcnow)


class IndustrialPark(BilingualName, Base):
    """An industrial park (工业园区) whose enterprises get early engagement."""

    __tablename__ = "industrial_parks"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    name_zh: Mapped[str] = mapped_column(String(120))
    name_en: Mapped[str] = mapped_column(String(160))
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id"), index=True)
    lat: Mapped[float] = mapped_column(Float)
    lon: Mapped[float] = mapped_column(Float)



class Client(BilingualName, Base):
    """A VIP or industrial-park customer looked after by account managers (客户经理)."""

    __tablename__ = "clients"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    name_zh: Mapped[str] = mapped_column(String(120))
    name_en: Mapped[str] = mapped_column(String(160))
    kind: Mapped[str] = mapped_column(String(16))  # "vip" or "park"
    industry: Mapped[str] = mapped_column(String(32))
    park_id: Mapped[int | None] = mapped_column(ForeignKey("industrial_parks.id"), index=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id"), index=True)
    lat: Mapped[float] = mapped_column(Float)
    lon: Mapped[float] = mapped_column(Float)
    contact_name: Mapped[str] = mapped_column(String(60))
    contact_phone: Mapped[str] = mapped_column(String(32))
    # Days between account-manager visits; None: no recurring visits.
    visit_every_days: Mapped[int | None]

    park: Mapped[IndustrialPark | None] = relationship()
    unit: Mapped[Unit] = relationship()

