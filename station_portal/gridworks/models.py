"""Grid-works projects, their milestones, funds received and the applications waiting on them.

A project (配套电网工程) is owned by a unit (the county company, or the station or
supply office whose territory it serves): the owning unit decides who sees it.
Its six milestones run in a fixed order; each has a baseline plan, the current
plan (replanned) and the actual date. Dates are plain local calendar dates:
project plans are kept in calendar days, not working days.
"""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum

from sqlalchemy import Date, Float, ForeignKey, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from station_portal.db import Base, utcnow


class ProjectStatus(StrEnum):
    PLANNED = "planned"
    IN_PROGRESS = "in_progress"
    ENERGISED = "energised"
    CANCELLED = "cancelled"


OPEN_STATUSES = (ProjectStatus.PLANNED.value, ProjectStatus.IN_PROGRESS.value)

# The milestones of every project, in the order they are reached.
MILESTONES = ("approval", "funds_released", "design", "construction", "acceptance", "energised")
ENERGISED = MILESTONES[-1]


class GridWorksProject(Base):
    __tablename__ = "grid_works_projects"
    __table_args__ = (Index("ix_grid_works_projects_unit_status", "unit_id", "status"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(24), unique=True)
    name: Mapped[str] = mapped_column(String(120))
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id"))
    description: Mapped[str] = mapped_column(String(500), default="")
    status: Mapped[str] = mapped_column(String(16), default=ProjectStatus.PLANNED.value)
    # Funds in 10,000 yuan (万元); ``funds_arrived`` is the sum of the receipts.
    funds_expected: Mapped[float] = mapped_column(Float, default=0.0)
    funds_arrived: Mapped[float] = mapped_column(Float, default=0.0)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    created_by: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
    # When it was energised or cancelled (recorded): the applications stopped waiting then.
    closed_at: Mapped[datetime | None]
    version: Mapped[int] = mapped_column(Integer, default=1)

    milestones: Mapped[list[GridWorksMilestone]] = relationship(
        order_by="GridWorksMilestone.seq", cascade="all, delete-orphan")
    links: Mapped[list[GridWorksLink]] = relationship(
        order_by="GridWorksLink.linked_at", cascade="all, delete-orphan")
    receipts: Mapped[list[GridWorksFunds]] = relationship(
        order_by="GridWorksFunds.arrived_on", cascade="all, delete-orphan")


class GridWorksMilestone(Base):
    __tablename__ = "grid_works_milestones"
    __table_args__ = (UniqueConstraint("project_id", "seq"),
                      Index("ix_grid_works_milestones_open", "actual_on", "planned_on"))

    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(
        ForeignKey("grid_works_projects.id", ondelete="CASCADE"))
    seq: Mapped[int]
    code: Mapped[str] = mapped_column(String(24))
    baseline_on: Mapped[date] = mapped_column(Date)  # the plan when the project was created
    planned_on: Mapped[date] = mapped_column(Date)  # the current plan (replanned)
    actual_on: Mapped[date | None] = mapped_column(Date)
    replans: Mapped[int] = mapped_column(Integer, default=0)


class GridWorksLink(Base):
    """An application waiting on a project, from ``linked_at`` until ``unlinked_at``."""

    __tablename__ = "grid_works_links"
    __table_args__ = (Index("ix_grid_works_links_order", "work_order_id", "unlinked_at"),
                      Index("ix_grid_works_links_project", "project_id", "unlinked_at"))

    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(
        ForeignKey("grid_works_projects.id", ondelete="CASCADE"))
    work_order_id: Mapped[int] = mapped_column(ForeignKey("work_orders.id", ondelete="CASCADE"))
    linked_at: Mapped[datetime] = mapped_column(default=utcnow)
    linked_by: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    unlinked_at: Mapped[datetime | None]
    unlinked_by: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    unlink_reason: Mapped[str] = mapped_column(String(300), default="")


class GridWorksFunds(Base):
    """One receipt of funds (到位资金) for a project, in 10,000 yuan."""

    __tablename__ = "grid_works_funds"

    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(
        ForeignKey("grid_works_projects.id", ondelete="CASCADE"), index=True)
    amount: Mapped[float] = mapped_column(Float)
    arrived_on: Mapped[date] = mapped_column(Date)
    note: Mapped[str] = mapped_column(String(300), default="")
    recorded_at: Mapped[datetime] = mapped_column(default=utcnow)
    recorded_by: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
