"""Work orders: fault repairs (故障报修), connection applications (业扩报装) and
industrial-park pre-engagement cases (工业园区前期介入), with their clocks,
pauses, visits and the append-only timeline.

One table holds the three kinds (the columns of the others stay empty), so a
list or a dashboard of all work is one indexed query.
"""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import BigInteger, Boolean, Date, Float, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from station_portal.db import Base, utcnow

# 64-bit ids where a table grows without bound; SQLite keeps INTEGER (its INTEGER PRIMARY
# KEY is 64-bit already, and only that exact type autoincrements).
_BIG_ID = BigInteger().with_variant(Integer, "sqlite")


class Kind(StrEnum):
    REPAIR = "repair"
    APPLICATION = "application"
    PARK_CASE = "park_case"


class RepairStatus(StrEnum):
    REPORTED = "reported"
    DISPATCHED = "dispatched"
    ACCEPTED = "accepted"
    EN_ROUTE = "en_route"
    ON_SITE = "on_site"
    RESTORED = "restored"
    CLOSED = "closed"
    CANCELLED = "cancelled"
    TRANSFERRED = "transferred"  # handed to another unit, waiting for its dispatch


class ApplicationStatus(StrEnum):
    PENDING = "pending_acceptance"
    IN_PROGRESS = "in_progress"
    COMPLETED = "completed"
    CANCELLED = "cancelled"


class ParkStatus(StrEnum):
    OPEN = "open"
    APPLIED = "applied"  # the formal application is linked
    CLOSED = "closed"


class RepairSource(StrEnum):
    HOTLINE = "hotline_95598"
    APP = "app"
    COUNTER = "counter"
    PATROL = "patrol"


class RepairCategory(StrEnum):
    HIGH_VOLTAGE = "high_voltage"
    LOW_VOLTAGE = "low_voltage"
    POWER_QUALITY = "power_quality"
    METERING = "metering"
    CUSTOMER_INTERNAL = "customer_internal"
    NON_POWER = "non_power"


class BusinessType(StrEnum):
    """The businesses of ``sla.classes.BUSINESSES`` (each has its path in data/stages.toml)."""

    NEW_CONNECTION = "new_connection"  # 新装
    CAPACITY_INCREASE = "capacity_increase"  # 增容
    TEMPORARY_SUPPLY = "temporary_supply"  # 临时用电
    EV_CHARGING = "ev_charging"  # 充电桩
    DISTRIBUTED_GENERATION = "distributed_generation"  # 分布式电源并网
    CAPACITY_REDUCTION = "capacity_reduction"  # 减容
    SUSPENSION = "suspension"  # 暂停
    RESUMPTION = "resumption"  # 恢复 (减容恢复、暂停恢复)
    TEMPORARY_SWAP = "temporary_swap"  # 暂换
    RELOCATION = "relocation"  # 迁址
    METER_MOVE = "meter_move"  # 移表
    TEMPORARY_REMOVAL = "temporary_removal"  # 暂拆
    NAME_CHANGE = "name_change"  # 更名
    TRANSFER = "transfer"  # 过户
    SPLIT = "split"  # 分户
    MERGE = "merge"  # 并户
    CLOSURE = "closure"  # 销户
    VOLTAGE_CHANGE = "voltage_change"  # 改压
    CATEGORY_CHANGE = "category_change"  # 改类


class PauseReason(StrEnum):
    CUSTOMER_DOCUMENTS = "customer_documents"  # waiting for the customer's documents
    CUSTOMER_CONSTRUCTION = "customer_construction"  # the customer's own works
    CUSTOMER_REQUEST = "customer_request"  # the customer asked to wait
    # Supporting grid works (业扩配套电网工程). Kept for the history of pauses made before
    # grid works stopped pausing clocks; a new pause for grid works is refused.
    GRID_WORKS = "grid_works"


# Who holds the time of a pause.
PAUSE_HOLDER = {
    PauseReason.CUSTOMER_DOCUMENTS: "customer",
    PauseReason.CUSTOMER_CONSTRUCTION: "customer",
    PauseReason.CUSTOMER_REQUEST: "customer",
    PauseReason.GRID_WORKS: "grid_works",
}

PARK_MILESTONES = ("first_contact", "load_survey", "supply_preplan", "formal_application")


class WorkOrder(Base):
    __tablename__ = "work_orders"
    __table_args__ = (
        Index("ix_work_orders_kind_created", "kind", "created_at"),
        Index("ix_work_orders_unit_kind_created", "unit_id", "kind", "created_at"),
        Index("ix_work_orders_kind_status", "kind", "status"),
        Index("ix_work_orders_open_due", "closed_at", "due_at"),
        Index("ix_work_orders_kind_due", "kind", "due_at"),
        # the dashboards' change fingerprint: the latest change, overall and per unit
        Index("ix_work_orders_updated", "updated_at"),
        Index("ix_work_orders_unit_updated", "unit_id", "updated_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(24), unique=True)
    kind: Mapped[str] = mapped_column(String(16))
    status: Mapped[str] = mapped_column(String(24))
    # The territory owner (a station or a grid): this decides who may see the order.
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id"))
    # Who holds it now: a unit ("unit"), the customer, or grid works.
    holder: Mapped[str] = mapped_column(String(16), default="unit")
    holder_unit_id: Mapped[int | None] = mapped_column(ForeignKey("units.id"), index=True)
    area_type: Mapped[str] = mapped_column(String(8))
    lat: Mapped[float] = mapped_column(Float)
    lon: Mapped[float] = mapped_column(Float)
    address: Mapped[str] = mapped_column(String(200), default="")
    customer_name: Mapped[str] = mapped_column(String(80), default="")
    customer_phone: Mapped[str] = mapped_column(String(32), default="")
    client_id: Mapped[int | None] = mapped_column(ForeignKey("clients.id"), index=True)
    description: Mapped[str] = mapped_column(String(500), default="")
    # The transformer area (台区) of the site: picked from the location, changeable by staff.
    area_id: Mapped[int | None] = mapped_column(ForeignKey("transformer_areas.id"), index=True)
    # A repair reported inside an announced outage's areas and window (not a fault), or the
    # outage that gives an application's final hook-up its window.
    outage_id: Mapped[int | None] = mapped_column(ForeignKey("outages.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
    closed_at: Mapped[datetime | None]
    version: Mapped[int] = mapped_column(Integer, default=1)
    ruleset_id: Mapped[str | None] = mapped_column(String(32))
    # SLA summary of the running clocks, for lists and dashboards.
    due_at: Mapped[datetime | None]
    warn_at: Mapped[datetime | None]
    sla_status: Mapped[str | None] = mapped_column(String(12))
    paused: Mapped[bool] = mapped_column(Boolean, default=False)

    # Fault repair
    source: Mapped[str | None] = mapped_column(String(16))
    category: Mapped[str | None] = mapped_column(String(24))
    urgency: Mapped[int | None]  # 1 urgent, 2 normal, 3 low
    crew_id: Mapped[int | None] = mapped_column(ForeignKey("crews.id"), index=True)
    dispatched_at: Mapped[datetime | None]
    accepted_at: Mapped[datetime | None]  # the crew accepted (repair) / the utility accepted (application)
    en_route_at: Mapped[datetime | None]
    on_site_at: Mapped[datetime | None]
    restored_at: Mapped[datetime | None]

    # Connection application
    business_type: Mapped[str | None] = mapped_column(String(24))
    # The class the utility gives it (from what the customer states; single or dual
    # high-voltage supply from the supply plan).
    customer_class: Mapped[str | None] = mapped_column(String(16))
    important: Mapped[bool] = mapped_column(Boolean, default=False)
    load_kw: Mapped[float | None] = mapped_column(Float)  # the load asked for (kW)
    capacity_kva: Mapped[float | None] = mapped_column(Float)  # transformer capacity (kVA), HV
    current_stage: Mapped[str | None] = mapped_column(String(32))
    # Times the applicant had to come to a counter (the "getting electricity" figure).
    counter_visits: Mapped[int] = mapped_column(Integer, default=0)

    # Industrial-park case
    park_id: Mapped[int | None] = mapped_column(ForeignKey("industrial_parks.id"), index=True)
    owner_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    projected_load_kw: Mapped[float | None] = mapped_column(Float)
    projected_date: Mapped[date | None] = mapped_column(Date)
    application_id: Mapped[int | None] = mapped_column(ForeignKey("work_orders.id"))

    clocks: Mapped[list[StageClock]] = relationship(
        back_populates="work_order", order_by="StageClock.seq", cascade="all, delete-orphan")
    pauses: Mapped[list[ClockPause]] = relationship(
        order_by="ClockPause.started_at", cascade="all, delete-orphan")

    @property
    def is_open(self) -> bool:
        return self.closed_at is None


class StageClock(Base):
    """One clock of a work order: an application stage, the whole process
    (``total``), a repair's ``arrival``/``restoration``, or a park milestone."""

    __tablename__ = "stage_clocks"
    __table_args__ = (
        Index("ix_stage_clocks_order_seq", "work_order_id", "seq"),
        Index("ix_stage_clocks_open_due", "ended_at", "due_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    work_order_id: Mapped[int] = mapped_column(ForeignKey("work_orders.id", ondelete="CASCADE"))
    seq: Mapped[int]
    stage: Mapped[str] = mapped_column(String(32))
    holder: Mapped[str] = mapped_column(String(16), default="unit")  # unit | customer
    holder_unit_id: Mapped[int | None] = mapped_column(ForeignKey("units.id"))
    entered_at: Mapped[datetime | None]  # when the stage became the current one
    started_at: Mapped[datetime | None]  # when its clock started (may be earlier)
    ended_at: Mapped[datetime | None]
    planned_at: Mapped[datetime | None]  # park milestones: the planned date
    limit_amount: Mapped[float | None] = mapped_column(Float)
    limit_unit: Mapped[str | None] = mapped_column(String(8))
    limit_source: Mapped[str] = mapped_column(String(300), default="")
    due_at: Mapped[datetime | None]
    warn_at: Mapped[datetime | None]
    status: Mapped[str | None] = mapped_column(String(12))
    provisional: Mapped[bool] = mapped_column(Boolean, default=False)
    paused_amount: Mapped[float] = mapped_column(Float, default=0.0)
    # Once it ended: the time it used and how late it was, in working days (application
    # stages, pauses deducted) or minutes (a repair's arrival and restoration).
    used: Mapped[float | None] = mapped_column(Float)
    late_by: Mapped[float | None] = mapped_column(Float)

    work_order: Mapped[WorkOrder] = relationship(back_populates="clocks")


class ClockPause(Base):
    """A stop of an application's clocks for a reason outside the utility's hands."""

    __tablename__ = "clock_pauses"

    id: Mapped[int] = mapped_column(primary_key=True)
    work_order_id: Mapped[int] = mapped_column(
        ForeignKey("work_orders.id", ondelete="CASCADE"), index=True)
    reason: Mapped[str] = mapped_column(String(24))
    started_at: Mapped[datetime]
    ended_at: Mapped[datetime | None]
    note: Mapped[str] = mapped_column(String(300), default="")


class WorkOrderEvent(Base):
    """The timeline: an append-only record of every change, written with the change."""

    __tablename__ = "work_order_events"
    __table_args__ = (Index("ix_work_order_events_order_at", "work_order_id", "at"),)

    id: Mapped[int] = mapped_column(_BIG_ID, primary_key=True)
    work_order_id: Mapped[int] = mapped_column(ForeignKey("work_orders.id", ondelete="CASCADE"))
    at: Mapped[datetime] = mapped_column(default=utcnow)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    action: Mapped[str] = mapped_column(String(32))
    from_value: Mapped[str | None] = mapped_column(String(64))
    to_value: Mapped[str | None] = mapped_column(String(64))
    reason: Mapped[str] = mapped_column(String(300), default="")
    details: Mapped[dict[str, Any] | None]
    # A phone's key for the action: sent again after a lost answer, it is not applied twice.
    client_key: Mapped[str | None] = mapped_column(String(64), unique=True)
    # When the server wrote it (``at`` is when it happened, as reported from the field).
    recorded_at: Mapped[datetime | None] = mapped_column(default=utcnow)


class ParkVisit(Base):
    """A planned or done visit of an account manager to a client (VIP or park), under
    the client's park case when it has one open."""

    __tablename__ = "park_visits"
    __table_args__ = (Index("ix_park_visits_client_planned", "client_id", "planned_for"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    work_order_id: Mapped[int | None] = mapped_column(
        ForeignKey("work_orders.id", ondelete="CASCADE"), index=True)
    client_id: Mapped[int] = mapped_column(ForeignKey("clients.id"))
    planned_for: Mapped[datetime]
    done_at: Mapped[datetime | None]
    # Planned by the recurring-visit job (not by a person).
    recurring: Mapped[bool] = mapped_column(Boolean, default=False)
    # When the visit job found it not done by the end of its planned day (flagged once).
    missed_at: Mapped[datetime | None]
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    note: Mapped[str] = mapped_column(String(500), default="")


class OrderAssignment(Base):
    """Who works on an order: the lead crew and any support crews.

    Kept in step with the repair's life cycle by ``services.repairs`` (a
    dispatch opens a lead row and ends the previous one; support rows end when
    power is restored; a transfer, cancellation or close ends them all).
    ``staff_id`` is reserved for assigning single staff and not used yet.
    """

    __tablename__ = "order_assignments"
    __table_args__ = (Index("ix_order_assignments_crew_open", "crew_id", "released_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    work_order_id: Mapped[int] = mapped_column(
        ForeignKey("work_orders.id", ondelete="CASCADE"), index=True)
    crew_id: Mapped[int | None] = mapped_column(ForeignKey("crews.id"))
    staff_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id"))
    role: Mapped[str] = mapped_column(String(8), default="lead")  # lead | support
    assigned_at: Mapped[datetime] = mapped_column(default=utcnow)
    released_at: Mapped[datetime | None]
    assigned_by: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))


class Attachment(Base):
    """A photo or document kept outside any served folder under a random name.

    ``purpose`` says what it is: ``photo`` (from the field) or one of the document
    kinds of an application (``data/application_documents.toml``).
    """

    __tablename__ = "attachments"

    id: Mapped[int] = mapped_column(primary_key=True)
    work_order_id: Mapped[int] = mapped_column(
        ForeignKey("work_orders.id", ondelete="CASCADE"), index=True)
    event_id: Mapped[int | None] = mapped_column(_BIG_ID, ForeignKey("work_order_events.id"))
    stored_name: Mapped[str] = mapped_column(String(64), unique=True)
    original_name: Mapped[str] = mapped_column(String(120), default="")
    content_type: Mapped[str] = mapped_column(String(40))
    purpose: Mapped[str] = mapped_column(String(24), default="photo", server_default="photo")
    size: Mapped[int]
    sha256: Mapped[str] = mapped_column(String(64))
    uploaded_by: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    uploaded_at: Mapped[datetime] = mapped_column(default=utcnow)
