"""What a customer leaves on their case: the secret that lets them track it, their
signature on the supply contract, their rating of the service.

Must not import Flask or Dash.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from station_portal.db import Base, utcnow


class CaseAccess(Base):
    """The verification code a customer tracks their case with (kept only as a hash)."""

    __tablename__ = "case_access"

    work_order_id: Mapped[int] = mapped_column(
        ForeignKey("work_orders.id", ondelete="CASCADE"), primary_key=True)
    code_hash: Mapped[str] = mapped_column(String(64))
    salt: Mapped[str] = mapped_column(String(32))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    # How the case reached us without a counter: "online" (these pages) or a staff channel.
    channel: Mapped[str] = mapped_column(String(16), default="online")


class ContractSignature(Base):
    """An explicit acceptance of the supply contract (供用电合同) by the customer."""

    __tablename__ = "contract_signatures"

    id: Mapped[int] = mapped_column(primary_key=True)
    work_order_id: Mapped[int] = mapped_column(
        ForeignKey("work_orders.id", ondelete="CASCADE"), index=True)
    signer_name: Mapped[str] = mapped_column(String(80))
    signed_at: Mapped[datetime] = mapped_column(default=utcnow)
    ip: Mapped[str] = mapped_column(String(64), default="")
    user_agent: Mapped[str] = mapped_column(String(200), default="")
    # The exact text accepted, by its hash and the template version it came from.
    contract_sha256: Mapped[str] = mapped_column(String(64))
    contract_version: Mapped[str] = mapped_column(String(32))
    # "application": the standard low-voltage terms accepted with the application;
    # "contract": the contract stage of a high-voltage case.
    occasion: Mapped[str] = mapped_column(String(16))


class ServiceRating(Base):
    """The customer's rating of a closed case: 1 to 5 stars and a comment."""

    __tablename__ = "service_ratings"

    work_order_id: Mapped[int] = mapped_column(
        ForeignKey("work_orders.id", ondelete="CASCADE"), primary_key=True)
    stars: Mapped[int] = mapped_column(Integer)
    comment: Mapped[str] = mapped_column(String(500), default="")
    rated_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    # The unit that held the case, for the KPI by station (copied: units are not renamed away).
    unit_id: Mapped[int | None] = mapped_column(ForeignKey("units.id"), index=True)
    kind: Mapped[str] = mapped_column(String(16))
