"""The scheduler's records: one row per job run, and the lease that elects one scheduler."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, Float, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from station_portal.db import Base, utcnow

# 64-bit ids where a table grows without bound; SQLite keeps INTEGER (its INTEGER PRIMARY
# KEY is 64-bit already, and only that exact type autoincrements).
_BIG_ID = BigInteger().with_variant(Integer, "sqlite")


class JobRun(Base):
    """A run of a job for one scheduled time.

    ``(job, scheduled_for)`` is unique: the row is inserted in the same transaction as
    the job's own changes, so a run is either done and recorded, or neither; a second
    scheduler that tries the same run fails on the key and skips it.
    """

    __tablename__ = "job_runs"
    __table_args__ = (UniqueConstraint("job", "scheduled_for", name="uq_job_runs_job_slot"),
                      Index("ix_job_runs_started_at", "started_at"))  # the prune job, by age

    id: Mapped[int] = mapped_column(_BIG_ID, primary_key=True)
    job: Mapped[str] = mapped_column(String(32))
    scheduled_for: Mapped[datetime]
    started_at: Mapped[datetime] = mapped_column(default=utcnow)
    finished_at: Mapped[datetime | None]
    seconds: Mapped[float | None] = mapped_column(Float)
    status: Mapped[str] = mapped_column(String(8))  # ok | failed
    # Runs missed while no scheduler was up, folded into this one (0 for a run on time).
    coalesced: Mapped[int] = mapped_column(Integer, default=0)
    runner: Mapped[str] = mapped_column(String(80), default="")
    summary: Mapped[dict[str, Any] | None]
    error: Mapped[str] = mapped_column(Text, default="")


class SchedulerLease(Base):
    """Which scheduler process is the active one. A second one stands by until it lapses."""

    __tablename__ = "scheduler_lease"

    name: Mapped[str] = mapped_column(String(16), primary_key=True)
    holder: Mapped[str] = mapped_column(String(80))
    acquired_at: Mapped[datetime]
    renewed_at: Mapped[datetime]
    expires_at: Mapped[datetime]
