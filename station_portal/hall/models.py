"""Service halls (营业厅) and their queue tickets (排队号).

A ticket is taken at the kiosk for a business type, called to a counter,
served and finished (or marked a no-show, cancelled, transferred to another
business). Durations are stored when they end (``wait_seconds`` at the first
call, ``service_seconds`` and ``within_standard`` at the finish), so every
statistic is a plain SQL ``COUNT``/``SUM``/``AVG`` grouped by hall and local
day, the same on SQLite and PostgreSQL.

No Flask, no Dash here.
"""

from __future__ import annotations

from datetime import date, datetime, time
from enum import StrEnum
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    Date,
    Float,
    ForeignKey,
    Index,
    Integer,
    SmallInteger,
    String,
    Time,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from station_portal.db import Base
from station_portal.i18n import BilingualName
from station_portal.org.models import Unit

# 64-bit ids where a table grows without bound; SQLite keeps INTEGER (its INTEGER PRIMARY
# KEY is 64-bit already, and only that exact type autoincrements).
_BIG_ID = BigInteger().with_variant(Integer, "sqlite")


class HallLevel(StrEnum):
    A = "A"  # city centre hall
    B = "B"  # county centre hall
    C = "C"  # other halls
    D = "D"  # self-service


class TicketStatus(StrEnum):
    WAITING = "waiting"
    CALLED = "called"
    SERVING = "serving"
    DONE = "done"
    NO_SHOW = "no_show"
    CANCELLED = "cancelled"


AT_COUNTER = (TicketStatus.CALLED, TicketStatus.SERVING)


class ServiceHall(BilingualName, Base):
    """A service hall with its counters and opening hours, owned by a unit (an urban
    service station, a supply office, or a county or city company)."""

    __tablename__ = "service_halls"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    name_zh: Mapped[str] = mapped_column(String(120))
    name_en: Mapped[str] = mapped_column(String(160))
    level: Mapped[str] = mapped_column(String(1))
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id"), index=True)
    address: Mapped[str] = mapped_column(String(200), default="")
    lat: Mapped[float] = mapped_column(Float)
    lon: Mapped[float] = mapped_column(Float)
    counters: Mapped[int] = mapped_column(Integer, default=1)
    # Which business groups each counter serves by default, {"1": ["A", "B"], …};
    # a counter not named serves every group. The clerk may narrow it at the counter.
    counter_groups: Mapped[dict[str, Any] | None]
    opens_at: Mapped[time] = mapped_column(Time)
    closes_at: Mapped[time] = mapped_column(Time)
    # Days the hall opens, Monday first: "1111100" is Monday to Friday.
    open_days: Mapped[str] = mapped_column(String(7), default="1111100")
    # Whether the hall also opens on statutory holidays (A halls often do).
    open_on_holidays: Mapped[bool] = mapped_column(Boolean, default=False)
    active: Mapped[bool] = mapped_column(Boolean, default=True)

    unit: Mapped[Unit] = relationship()

    def groups_of_counter(self, counter: int, letters: tuple[str, ...]) -> tuple[str, ...]:
        configured = (self.counter_groups or {}).get(str(counter))
        if not isinstance(configured, list):
            return letters
        return tuple(x for x in letters if x in configured)


class HallTicket(Base):
    """One queue ticket: taken at the kiosk, called, served, finished."""

    __tablename__ = "hall_tickets"
    __table_args__ = (
        UniqueConstraint("hall_id", "day", "seq", name="uq_hall_tickets_hall_day_seq"),
        UniqueConstraint("hall_id", "day", "label", name="uq_hall_tickets_hall_day_label"),
        # The queue of a hall today, by group and taking time (call next, people ahead).
        Index("ix_hall_tickets_queue", "hall_id", "day", "status", "group", "taken_at"),
        # The year across halls (the dashboard's busy seasons).
        Index("ix_hall_tickets_day_hall", "day", "hall_id"),
    )

    id: Mapped[int] = mapped_column(_BIG_ID, primary_key=True)
    hall_id: Mapped[int] = mapped_column(ForeignKey("service_halls.id", ondelete="CASCADE"))
    day: Mapped[date] = mapped_column(Date)  # local day (Asia/Shanghai) the ticket was taken
    seq: Mapped[int] = mapped_column(Integer)  # 1, 2, … per hall and day
    label: Mapped[str] = mapped_column(String(8))  # "A012": group letter, number in the group
    group: Mapped[str] = mapped_column(String(1))
    business: Mapped[str] = mapped_column(String(32))
    # The standard in force when the ticket was taken (None: no confirmed standard).
    standard_minutes: Mapped[int | None] = mapped_column(Integer)
    hour: Mapped[int] = mapped_column(SmallInteger)  # local hour it was taken (peak hours)
    taken_at: Mapped[datetime]
    first_called_at: Mapped[datetime | None]
    called_at: Mapped[datetime | None]  # the latest call
    recalls: Mapped[int] = mapped_column(Integer, default=0)
    counter: Mapped[int | None] = mapped_column(Integer)
    served_by: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    started_at: Mapped[datetime | None]
    finished_at: Mapped[datetime | None]
    status: Mapped[str] = mapped_column(String(12), default=TicketStatus.WAITING.value)
    wait_seconds: Mapped[int | None] = mapped_column(Integer)  # taken → first call
    service_seconds: Mapped[int | None] = mapped_column(Integer)  # started → finished
    within_standard: Mapped[bool | None] = mapped_column(Boolean)
    transfers: Mapped[int] = mapped_column(Integer, default=0)
    work_order_id: Mapped[int | None] = mapped_column(
        ForeignKey("work_orders.id", ondelete="SET NULL"), index=True)
    version: Mapped[int] = mapped_column(Integer, default=1)

    hall: Mapped[ServiceHall] = relationship()
