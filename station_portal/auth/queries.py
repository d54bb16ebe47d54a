"""Read queries for administrators: security figures, the audit log, one account."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session, selectinload

from station_portal.audit import AuditEvent
from station_portal.auth.models import User
from station_portal.auth.signin import SIGN_IN, SIGN_IN_FAILED
from station_portal.db import utcnow
from station_portal.validate import as_id


@dataclass(frozen=True)
class SecurityStats:
    active_users: int
    disabled_users: int
    sign_ins_24h: int
    failures_24h: int


def security_stats(session: Session, now: datetime | None = None) -> SecurityStats:
    since = (now or utcnow()) - timedelta(hours=24)
    users = dict(session.execute(select(User.active, func.count()).group_by(User.active)).all())
    events = dict(session.execute(
        select(AuditEvent.action, func.count())
        .where(AuditEvent.at >= since, AuditEvent.action.in_([SIGN_IN, SIGN_IN_FAILED]))
        .group_by(AuditEvent.action)
    ).all())
    return SecurityStats(users.get(True, 0), users.get(False, 0), events.get(SIGN_IN, 0),
                         events.get(SIGN_IN_FAILED, 0))


@dataclass(frozen=True)
class AuditRow:
    id: int
    at: datetime
    action: str
    subject: str | None
    actor: str | None
    entity_type: str | None
    entity_id: int | None
    ip: str | None
    details: dict | None


def audit_rows(
    session: Session, *, action: str | None = None, text: str | None = None,
    since: datetime | None = None, until: datetime | None = None, limit: int = 500,
) -> list[AuditRow]:
    actor = User.__table__.alias("actor")
    stmt = (
        select(AuditEvent, actor.c.username)
        .outerjoin(actor, actor.c.id == AuditEvent.actor_id)
        .order_by(AuditEvent.at.desc(), AuditEvent.id.desc())
        .limit(limit)
    )
    if action:
        stmt = stmt.where(AuditEvent.action == action)
    if text:
        pattern = f"%{text.strip().lower()}%"
        stmt = stmt.where(func.lower(func.coalesce(AuditEvent.subject, "")).like(pattern)
                          | func.lower(func.coalesce(AuditEvent.ip, "")).like(pattern))
    if since:
        stmt = stmt.where(AuditEvent.at >= since)
    if until:
        stmt = stmt.where(AuditEvent.at < until)
    return [
        AuditRow(e.id, e.at, e.action, e.subject, username, e.entity_type, e.entity_id, e.ip,
                 e.details)
        for e, username in session.execute(stmt).all()
    ]


def account(session: Session, user_id: object) -> User | None:
    """One account by its id (anything from a browser), its clients loaded; None if unknown."""
    uid = as_id(user_id)
    if uid is None:
        return None
    return session.scalar(select(User).where(User.id == uid).options(selectinload(User.clients)))
