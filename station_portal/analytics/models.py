"""Snapshot tables: small daily aggregates that the dashboards read.

Every figure is keyed by the local (Asia/Shanghai) day on which its event
happened — an order received, a stage finished — so a day's rows never change
once the day is over. ``analytics.snapshots`` writes them for finished days;
the dashboards add the days after the snapshot's horizon (normally just
today) from the work-order tables themselves, with the same pure function.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import Date, Float, ForeignKey, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from station_portal.db import Base, utcnow


class OrderDay(Base):
    """Orders received and closed per day, unit, kind and category (or customer class)."""

    __tablename__ = "snap_order_days"
    __table_args__ = (Index("ix_snap_order_days_unit_day", "unit_id", "day"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    day: Mapped[date] = mapped_column(Date, index=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id"))
    kind: Mapped[str] = mapped_column(String(16))
    category: Mapped[str] = mapped_column(String(24), default="")
    received: Mapped[int] = mapped_column(Integer, default=0)
    closed: Mapped[int] = mapped_column(Integer, default=0)
    counter_visits: Mapped[int] = mapped_column(Integer, default=0)


class StageDay(Base):
    """Clocks that ended per day: done, late, and the time they used.

    ``used`` and ``late_by`` are in the clock's unit: working days for
    application stages (pauses deducted), minutes for a repair's arrival and
    restoration.
    """

    __tablename__ = "snap_stage_days"
    __table_args__ = (Index("ix_snap_stage_days_unit_day", "unit_id", "day"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    day: Mapped[date] = mapped_column(Date, index=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id"))
    holder_unit_id: Mapped[int | None] = mapped_column(ForeignKey("units.id"))
    kind: Mapped[str] = mapped_column(String(16))
    stage: Mapped[str] = mapped_column(String(32))
    category: Mapped[str] = mapped_column(String(24), default="")  # repair category or class
    area_type: Mapped[str] = mapped_column(String(8), default="")
    done: Mapped[int] = mapped_column(Integer, default=0)
    timed: Mapped[int] = mapped_column(Integer, default=0)  # of them, clocks with a limit
    late: Mapped[int] = mapped_column(Integer, default=0)
    used: Mapped[float] = mapped_column(Float, default=0.0)
    late_by: Mapped[float] = mapped_column(Float, default=0.0)


class CrewDay(Base):
    """Repairs a crew restored per day and the hours it spent on site for them."""

    __tablename__ = "snap_crew_days"
    __table_args__ = (Index("ix_snap_crew_days_unit_day", "unit_id", "day"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    day: Mapped[date] = mapped_column(Date, index=True)
    crew_id: Mapped[int] = mapped_column(ForeignKey("crews.id"))
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id"))
    jobs: Mapped[int] = mapped_column(Integer, default=0)
    site_hours: Mapped[float] = mapped_column(Float, default=0.0)


class SnapshotState(Base):
    """How far the snapshots reach: every day up to ``through`` is in the tables."""

    __tablename__ = "snap_state"

    name: Mapped[str] = mapped_column(String(32), primary_key=True)
    through: Mapped[date | None] = mapped_column(Date)
    refreshed_at: Mapped[datetime | None]
    seconds: Mapped[float] = mapped_column(Float, default=0.0)


class Briefing(Base):
    """The weekly briefing of a unit (a station, a supply office) or of the company
    (``unit_id`` None), frozen when made so the page, the PDF and the mail agree."""

    __tablename__ = "briefings"
    __table_args__ = (UniqueConstraint("week_start", "unit_key", name="uq_briefings_week_unit"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    week_start: Mapped[date] = mapped_column(Date)  # a Monday, local time
    unit_id: Mapped[int | None] = mapped_column(ForeignKey("units.id"), index=True)
    # unit_id, or 0 for the company: NULLs would not collide in the unique key.
    unit_key: Mapped[int] = mapped_column(Integer)
    made_at: Mapped[datetime] = mapped_column(default=utcnow)
    figures: Mapped[dict[str, Any]]
