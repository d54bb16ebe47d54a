"""The audit trail: one row per security event and per change, never updated.

Callers add the row to the session that carries the change, so the audit row
commits or rolls back with it.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, Session, mapped_column

from station_portal.db import Base, utcnow

# 64-bit ids where a table grows without bound; SQLite keeps INTEGER (its INTEGER PRIMARY
# KEY is 64-bit already, and only that exact type autoincrements).
_BIG_ID = BigInteger().with_variant(Integer, "sqlite")


class AuditEvent(Base):
    __tablename__ = "audit_events"
    __table_args__ = (
        Index("ix_audit_events_action_subject_at", "action", "subject", "at"),
        Index("ix_audit_events_action_ip_at", "action", "ip", "at"),
        Index("ix_audit_events_entity", "entity_type", "entity_id"),
    )

    id: Mapped[int] = mapped_column(_BIG_ID, primary_key=True)
    at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    # Who or what the event is about, as text: the username tried at sign-in,
    # even when no such account exists.
    subject: Mapped[str | None] = mapped_column(String(80))
    action: Mapped[str] = mapped_column(String(48))
    entity_type: Mapped[str | None] = mapped_column(String(32))
    entity_id: Mapped[int | None] = mapped_column(_BIG_ID)  # any table's id, 64-bit ones too
    ip: Mapped[str | None] = mapped_column(String(64))
    details: Mapped[dict[str, Any] | None]


def record(
    session: Session,
    action: str,
    *,
    actor_id: int | None = None,
    subject: str | None = None,
    entity_type: str | None = None,
    entity_id: int | None = None,
    ip: str | None = None,
    details: dict[str, Any] | None = None,
    at: datetime | None = None,
) -> AuditEvent:
    """Add an audit row to ``session``; it commits with the change it describes."""
    event = AuditEvent(
        at=at or utcnow(),
        action=action,
        actor_id=actor_id,
        subject=subject,
        entity_type=entity_type,
        entity_id=entity_id,
        ip=ip,
        details=details,
    )
    session.add(event)
    return event
