"""Feeders, transformer areas, connection points, and outages with their areas and notices.

- A feeder (10 kV 线路) is owned by the station or supply office whose territory it serves.
- A transformer area (台区) hangs on one feeder; it is owned by the unit that routes its
  location (a station's field-services group, or a grid) and has a 台区经理 (a staff member).
  Its capacity is the transformer's, in kVA.
- A connection point (用电户) is one customer's supply: its account number (户号), the
  contracted load in kW (kept apart from kVA), and the contacts a notice can use.
- An outage (停电) is planned (计划停电, announced 7 days ahead), temporary (临时检修停电,
  24 hours) or a fault (故障停电: no advance notice; published when it is recorded). It
  covers transformer areas (``OutageArea``) from ``starts_at`` to ``ends_at``; the
  customers it touches are those on its areas. ``OutageNotice`` is one customer told by
  one channel. A work order points at an outage (``WorkOrder.outage_id``): a repair
  reported inside it, or an application whose final hook-up it serves.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import BigInteger, Boolean, Float, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from station_portal.db import Base, utcnow

_BIG_ID = BigInteger().with_variant(Integer, "sqlite")


class Feeder(Base):
    __tablename__ = "feeders"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    name_zh: Mapped[str] = mapped_column(String(80))
    name_en: Mapped[str] = mapped_column(String(120))
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id"), index=True)
    substation: Mapped[str] = mapped_column(String(80), default="")
    # What the feeder may carry (kVA), the limit of the areas hung on it together.
    capacity_kva: Mapped[float] = mapped_column(Float)


class TransformerArea(Base):
    """台区: one distribution transformer and the low-voltage network behind it."""

    __tablename__ = "transformer_areas"
    __table_args__ = (Index("ix_transformer_areas_unit", "unit_id"),
                      Index("ix_transformer_areas_feeder", "feeder_id"))

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str] = mapped_column(String(80))  # as on the transformer's plate (Chinese)
    capacity_kva: Mapped[float] = mapped_column(Float)
    feeder_id: Mapped[int] = mapped_column(ForeignKey("feeders.id"))
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id"))  # the owning group or grid
    manager_staff_id: Mapped[int | None] = mapped_column(
        ForeignKey("staff.id", ondelete="SET NULL"))  # 台区经理
    lat: Mapped[float] = mapped_column(Float)
    lon: Mapped[float] = mapped_column(Float)
    active: Mapped[bool] = mapped_column(Boolean, default=True)

    feeder: Mapped[Feeder] = relationship()


class ConnectionPoint(Base):
    """用电户: a customer's supply on a transformer area."""

    __tablename__ = "connection_points"
    __table_args__ = (Index("ix_connection_points_area", "area_id"),)

    id: Mapped[int] = mapped_column(_BIG_ID, primary_key=True)
    account_no: Mapped[str] = mapped_column(String(16), unique=True)  # 户号
    area_id: Mapped[int] = mapped_column(ForeignKey("transformer_areas.id"))
    name: Mapped[str] = mapped_column(String(80))
    address: Mapped[str] = mapped_column(String(200), default="")
    category: Mapped[str] = mapped_column(String(16), default="resident")  # resident | business
    contract_kw: Mapped[float] = mapped_column(Float, default=0.0)
    important: Mapped[bool] = mapped_column(Boolean, default=False)  # 重要用户
    phone: Mapped[str | None] = mapped_column(String(32))
    email: Mapped[str | None] = mapped_column(String(120))


class OutageKind(StrEnum):
    PLANNED = "planned"  # 计划停电
    TEMPORARY = "temporary"  # 临时停电 (maintenance at short notice: 24 hours)
    FAULT = "fault"  # 故障停电: begun without a plan; information is published at once


class OutageStatus(StrEnum):
    DRAFT = "draft"
    APPROVED = "approved"
    ANNOUNCED = "announced"
    IN_PROGRESS = "in_progress"
    ENDED = "ended"
    CANCELLED = "cancelled"


# An outage the public sees and repairs are checked against.
PUBLIC_STATUSES = (OutageStatus.ANNOUNCED.value, OutageStatus.IN_PROGRESS.value)


class Outage(Base):
    __tablename__ = "outages"
    __table_args__ = (Index("ix_outages_unit_status", "unit_id", "status"),
                      Index("ix_outages_window", "starts_at", "ends_at"))

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(24), unique=True)
    kind: Mapped[str] = mapped_column(String(16))
    status: Mapped[str] = mapped_column(String(16), default=OutageStatus.DRAFT.value)
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id"))  # the station or office
    feeder_id: Mapped[int | None] = mapped_column(ForeignKey("feeders.id"))
    reason: Mapped[str] = mapped_column(String(300))
    starts_at: Mapped[datetime]
    ends_at: Mapped[datetime]
    started_at: Mapped[datetime | None]  # what happened
    ended_at: Mapped[datetime | None]
    # When the customers were told; the commitment is checked against ``starts_at``.
    announced_at: Mapped[datetime | None]
    notice_due_at: Mapped[datetime | None]  # the latest instant the notice keeps the promise
    notice_escalated_at: Mapped[datetime | None]
    customers: Mapped[int] = mapped_column(Integer, default=0)  # affected, when announced
    grid_works_project_id: Mapped[int | None] = mapped_column(
        ForeignKey("grid_works_projects.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    created_by: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
    version: Mapped[int] = mapped_column(Integer, default=1)

    areas: Mapped[list[OutageArea]] = relationship(cascade="all, delete-orphan")


class OutageArea(Base):
    __tablename__ = "outage_areas"
    __table_args__ = (Index("ix_outage_areas_area", "area_id"),)

    outage_id: Mapped[int] = mapped_column(
        ForeignKey("outages.id", ondelete="CASCADE"), primary_key=True)
    area_id: Mapped[int] = mapped_column(ForeignKey("transformer_areas.id"), primary_key=True)


class NoticeStatus(StrEnum):
    PENDING = "pending"
    SENDING = "sending"
    SENT = "sent"
    FAILED = "failed"
    NO_SENDER = "no_sender"  # the channel has no sender configured


class OutageNotice(Base):
    """One affected customer told by one channel (sms or mail)."""

    __tablename__ = "outage_notices"
    __table_args__ = (Index("ix_outage_notices_outage", "outage_id"),
                      Index("ix_outage_notices_pending", "status", "channel"))

    id: Mapped[int] = mapped_column(_BIG_ID, primary_key=True)
    outage_id: Mapped[int] = mapped_column(ForeignKey("outages.id", ondelete="CASCADE"))
    connection_point_id: Mapped[int] = mapped_column(
        _BIG_ID, ForeignKey("connection_points.id", ondelete="CASCADE"))
    channel: Mapped[str] = mapped_column(String(8))
    address: Mapped[str] = mapped_column(String(120))  # the phone number or mail address
    status: Mapped[str] = mapped_column(String(12), default=NoticeStatus.PENDING.value)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    claimed_at: Mapped[datetime | None]  # a delivery run took it (status sending)
    sent_at: Mapped[datetime | None]
    error: Mapped[str] = mapped_column(String(200), default="")
