"""Notifications, each user's channel choices, and the ledger of time-limit alerts."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, Boolean, ForeignKey, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from station_portal.db import Base, utcnow

# 64-bit ids where a table grows without bound; SQLite keeps INTEGER (its INTEGER PRIMARY
# KEY is 64-bit already, and only that exact type autoincrements).
_BIG_ID = BigInteger().with_variant(Integer, "sqlite")


class Notification(Base):
    """One message to one user. Its text is made in the reader's language when shown
    or mailed, from ``event`` and ``params``."""

    __tablename__ = "notifications"
    __table_args__ = (
        Index("ix_notifications_user_read", "user_id", "read_at"),
        Index("ix_notifications_email_pending", "email_state"),
        Index("ix_notifications_created_at", "created_at"),  # the prune job, by age
    )

    id: Mapped[int] = mapped_column(_BIG_ID, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    event: Mapped[str] = mapped_column(String(24))
    work_order_id: Mapped[int | None] = mapped_column(
        ForeignKey("work_orders.id", ondelete="CASCADE"))
    params: Mapped[dict[str, Any]] = mapped_column(default=dict)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    # Shown in the bell (the user wants this event in the app); read when they said so.
    in_app: Mapped[bool] = mapped_column(Boolean, default=True)
    read_at: Mapped[datetime | None]
    # None: no email wanted; "pending", "sending" (claimed by a mail run), "sent", or
    # "failed" after the last attempt.
    email_state: Mapped[str | None] = mapped_column(String(8))
    email_claimed_at: Mapped[datetime | None]
    email_attempts: Mapped[int] = mapped_column(Integer, default=0)
    emailed_at: Mapped[datetime | None]
    email_error: Mapped[str] = mapped_column(String(300), default="")


class NotificationPreference(Base):
    """A user's choice for one event and channel (rows only where it differs from the default)."""

    __tablename__ = "notification_preferences"

    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    event: Mapped[str] = mapped_column(String(24), primary_key=True)
    channel: Mapped[str] = mapped_column(String(8), primary_key=True)  # app | email
    enabled: Mapped[bool] = mapped_column(Boolean)


class SlaAlert(Base):
    """A warning or escalation level fired for a clock: each level once, ever."""

    __tablename__ = "sla_alerts"
    __table_args__ = (UniqueConstraint("clock_id", "level", name="uq_sla_alerts_clock_level"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    clock_id: Mapped[int] = mapped_column(ForeignKey("stage_clocks.id", ondelete="CASCADE"))
    work_order_id: Mapped[int] = mapped_column(
        ForeignKey("work_orders.id", ondelete="CASCADE"), index=True)
    level: Mapped[int]  # 0 warning to the holder, 1 overdue to the holder, 2 unit head, 3 company
    fired_at: Mapped[datetime]
    # The threshold it fired for (the clock's warning or due time plus the level's delay).
    threshold: Mapped[datetime]
    recipients: Mapped[int] = mapped_column(Integer, default=0)
